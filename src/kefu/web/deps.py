"""Request plumbing shared by pages and the API: the database session, the logged-in user,
permissions and CSRF."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.core.errors import Forbidden, KefuError
from kefu.core.security import Permission, allowed
from kefu.quality.rulebooks import Active


class LoginRequired(KefuError):
    status = 401


class PasswordChangeRequired(KefuError):
    status = 403


def db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error
    (but for refusals that must be kept, such as a failed login)."""
    session = request.app.state.sessions()
    try:
        yield session
        session.commit()
    except KefuError as error:
        if error.keep_changes:
            session.commit()
        else:
            session.rollback()
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function": the transaction ends before the response leaves, so a browser that follows
# a redirect at once already sees the change.
DB = Annotated[Session, Depends(db, scope="function")]


def current_user(request: Request, session: DB) -> User:
    data = request.session
    user_id = data.get("user_id")
    settings = request.app.state.settings
    now = time.time()
    if user_id is None:
        raise LoginRequired("请先登录")
    if now - data.get("seen", 0) > settings.session_idle_minutes * 60:
        request.session.clear()
        raise LoginRequired(f"超过 {settings.session_idle_minutes} 分钟未操作,请重新登录")
    user = session.get(User, user_id)
    if user is None or not user.active:
        request.session.clear()
        raise LoginRequired("账号已停用,请联系管理员")
    data["seen"] = now
    if data.get("must_change_password") and request.url.path not in ("/password", "/logout", "/api/auth/password"):
        raise PasswordChangeRequired("密码已过期,请先修改密码")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def active_rulebook(request: Request, session: DB) -> Active:
    """The rulebook the platform works with now: the published version (kefu.quality.rulebooks),
    with its inspector and live sentence checker."""
    return request.app.state.rulebooks.active(session)  # type: ignore[no-any-return]


ActiveRulebook = Annotated[Active, Depends(active_rulebook)]


def require(permission: Permission):  # type: ignore[no-untyped-def]
    def check(user: CurrentUser) -> User:
        if not allowed(user.role, permission):
            raise Forbidden(f"{user.role.label}无权执行此操作")
        return user

    return Depends(check)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if token is None:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


# A program logs in with JSON and gets the token in the answer; there is no session to ride yet.
CSRF_EXEMPT = frozenset({"/api/auth/login"})


async def check_csrf(request: Request) -> None:
    """Forms carry the session's token in a hidden field, scripts in the X-CSRF-Token header."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.url.path in CSRF_EXEMPT:
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get("csrf")
    expected = request.session.get("csrf")
    if not expected or not sent or not secrets.compare_digest(str(sent), expected):
        raise Forbidden("请求已失效(CSRF 校验失败),请刷新页面后重试")
