"""/api/auth: log in with 工号 + password, log out, change the password, my logins;
/api/sessions: everyone's logins for supervisors and admins (see and end them)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from kefu.accounts import service as accounts
from kefu.accounts import sessions as user_sessions
from kefu.accounts.models import UserSession
from kefu.accounts.schemas import Ended, Login, LoginOut, PasswordChange, PasswordChanged, SessionOut, UserOut
from kefu.core.errors import NotFound
from kefu.core.fields import Id
from kefu.core.security import Permission
from kefu.http.deps import DB, CurrentUser, csrf_token, require
from kefu.http.session import (
    client_address,
    current_session_id,
    end_session,
    renew_after_password_change,
    start_session,
)

router = APIRouter(prefix="/api/auth", tags=["auth"])
admin_router = APIRouter(prefix="/api", tags=["auth"])


def _user_out(user: Any) -> UserOut:
    return UserOut(id=user.id, agent_no=user.agent_no, name=user.name, role=user.role.value, role_label=user.role.label)


@router.post("/login")
def login(body: Login, request: Request, session: DB) -> LoginOut:
    """工号 + 密码. Returns the CSRF token that later writes send as ``X-CSRF-Token``."""
    settings = request.app.state.settings
    result = accounts.do_login(session, body.agent_no, body.password, settings, address=client_address(request))
    if result.user is None:
        raise accounts.LoginFailed(result.error or "登录失败")  # kept: it counts towards the throttle
    must_change = start_session(request, session, result.user)
    return LoginOut(user=_user_out(result.user), csrf=csrf_token(request), must_change_password=must_change)


@router.post("/logout")
def logout(request: Request, session: DB) -> dict[str, bool]:
    """End this login on the server (a copy of the cookie no longer works)."""
    end_session(request, session)
    return {"ok": True}


@router.post("/password")
def change_password(body: PasswordChange, request: Request, user: CurrentUser, session: DB) -> PasswordChanged:
    """Every other login of the user ends; this one goes on under a new session id."""
    ended = accounts.do_change_password(session, user, body.old, body.new)
    renew_after_password_change(request, session, user)
    return PasswordChanged(ok=True, csrf=csrf_token(request), ended_sessions=max(ended - 1, 0))


@router.get("/me")
def me(user: CurrentUser) -> UserOut:
    return _user_out(user)


def _present(session: Session, rows: list[UserSession], current: int | None) -> list[SessionOut]:
    users = {u.id: u for u in accounts.list_users(session, ids={r.user_id for r in rows})}
    return [
        SessionOut(
            id=row.id,
            user_id=row.user_id,
            agent_no=users[row.user_id].agent_no,
            name=users[row.user_id].name,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            address=row.address,
            user_agent=row.user_agent,
            current=row.id == current,
        )
        for row in rows
    ]


@router.get("/sessions")
def my_sessions(request: Request, user: CurrentUser, session: DB) -> list[SessionOut]:
    """Where I am logged in now."""
    idle = request.app.state.settings.session_idle_minutes
    return _present(session, user_sessions.live(session, idle, user_id=user.id), current_session_id(request))


@router.delete("/sessions/{session_id}")
def end_my_session(session_id: Id, user: CurrentUser, session: DB) -> Ended:
    """End one of my logins (a PC I forgot to log out of)."""
    if user_sessions.visible(session, user, session_id).user_id != user.id:
        raise NotFound(f"会话 {session_id} 不存在")
    user_sessions.do_end_for(session, user, session_id)
    return Ended(ended=1)


@admin_router.get("/sessions", dependencies=[require(Permission.SESSION_ADMIN)])
def all_sessions(
    request: Request, session: DB, user_id: Annotated[Id | None, Query(description="only this user's")] = None
) -> list[SessionOut]:
    """Everyone's logins alive now (supervisors, admins)."""
    idle = request.app.state.settings.session_idle_minutes
    return _present(session, user_sessions.live(session, idle, user_id=user_id), current_session_id(request))


@admin_router.delete("/sessions/{session_id}")
def end_session_of_anyone(session_id: Id, user: CurrentUser, session: DB) -> Ended:
    """End one login of anyone (supervisors, admins) or of my own."""
    user_sessions.do_end_for(session, user, session_id)
    return Ended(ended=1)


@admin_router.delete("/users/{user_id}/sessions")
def end_all_sessions_of(user_id: Id, user: CurrentUser, session: DB) -> Ended:
    """End every login of a user (supervisors, admins)."""
    return Ended(ended=user_sessions.do_end_all_for(session, user, user_id))
