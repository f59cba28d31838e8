"""/api/auth: log in with 工号 + password, log out, change the password."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from kefu.accounts import service as accounts
from kefu.web.deps import DB, CurrentUser, csrf_token
from kefu.web.session import start_session

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Login(BaseModel):
    agent_no: str
    password: str


class PasswordChange(BaseModel):
    old: str
    new: str


class UserOut(BaseModel):
    id: int
    agent_no: str
    name: str
    role: str
    role_label: str


def _user_out(user: Any) -> UserOut:
    return UserOut(id=user.id, agent_no=user.agent_no, name=user.name, role=user.role.value, role_label=user.role.label)


@router.post("/login")
def login(body: Login, request: Request, session: DB) -> dict[str, Any]:
    """工号 + 密码. Returns the CSRF token that later writes send as ``X-CSRF-Token``."""
    result = accounts.do_login(session, body.agent_no, body.password, request.app.state.settings)
    if result.user is None:
        raise accounts.LoginFailed(result.error or "登录失败")  # kept: it counts towards the lock-out
    expired = start_session(request, result.user)
    return {"user": _user_out(result.user), "csrf": csrf_token(request), "must_change_password": expired}


@router.post("/logout")
def logout(request: Request) -> dict[str, bool]:
    request.session.clear()
    return {"ok": True}


@router.post("/password")
def change_password(body: PasswordChange, request: Request, user: CurrentUser, session: DB) -> dict[str, bool]:
    accounts.do_change_password(session, user, body.old, body.new)
    request.session.pop("must_change_password", None)
    return {"ok": True}


@router.get("/me")
def me(user: CurrentUser) -> UserOut:
    return _user_out(user)
