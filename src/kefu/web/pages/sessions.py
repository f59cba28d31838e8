"""Where am I logged in (and, for supervisors and admins, everyone): see and end logins."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kefu.accounts import service as accounts
from kefu.accounts import sessions as user_sessions
from kefu.core.fields import Id
from kefu.core.security import Permission, allowed
from kefu.http.deps import DB, CurrentUser
from kefu.http.session import current_session_id
from kefu.web.pages.common import redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/sessions")
def sessions_page(request: Request, user: CurrentUser, session: DB) -> HTMLResponse:
    idle = request.app.state.settings.session_idle_minutes
    everyone = allowed(user.role, Permission.SESSION_ADMIN)
    rows = user_sessions.live(session, idle, user_id=None if everyone else user.id)
    people = {u.id: u for u in accounts.list_users(session, ids={r.user_id for r in rows})}
    return render(
        request,
        "sessions.html",
        user,
        rows=rows,
        people=people,
        everyone=everyone,
        current=current_session_id(request),
    )


@router.post("/sessions/{session_id}/end")
def end_one(request: Request, session_id: Id, user: CurrentUser, session: DB) -> Response:
    row = user_sessions.do_end_for(session, user, session_id)
    if row.id == current_session_id(request):
        request.session.clear()
        return redirect("/login", "已退出登录", request)
    return redirect("/sessions", "已结束该登录", request)


@router.post("/users/{user_id}/sessions/end")
def end_all(request: Request, user_id: Id, user: CurrentUser, session: DB) -> Response:
    ended = user_sessions.do_end_all_for(session, user, user_id)
    if user_id == user.id:
        request.session.clear()
        return redirect("/login", "已退出全部登录", request)
    return redirect("/sessions", f"已结束 {ended} 个登录", request)
