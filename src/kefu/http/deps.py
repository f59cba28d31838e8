"""Request plumbing shared by pages and the API: the database session, the logged-in user,
permissions and CSRF."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.accounts.service import password_change_reason
from kefu.core.errors import Forbidden, KefuError
from kefu.core.privacy import Reader
from kefu.core.security import Permission, allowed
from kefu.http.session import TOKEN, logged_in
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


# Where a user who must change the password first may still go.
PASSWORD_CHANGE_PATHS = frozenset({"/password", "/logout", "/api/auth/password", "/api/auth/logout", "/api/auth/me"})
SESSION_PROBLEMS = {
    "unknown": "请先登录",
    "ended": "登录已失效(已退出、修改过密码或被管理员结束),请重新登录",
    "expired": "登录已超过 12 小时,请重新登录",
    "inactive": "账号已停用,请联系管理员",
}


def current_user(request: Request, session: DB) -> User:
    """The user of the request's server-side session (kefu.http.session); refused when the
    session was ended, idled out or is too old, and sent to change the password when needed."""
    settings = request.app.state.settings
    found = logged_in(request, session)
    if found.problem is not None or found.user is None:
        if TOKEN in request.session:
            request.session.clear()  # the cookie's token is dead: drop it
        idle = f"超过 {settings.session_idle_minutes} 分钟未操作,请重新登录"
        raise LoginRequired(idle if found.problem == "idle" else SESSION_PROBLEMS.get(found.problem or "", "请先登录"))
    user = found.user
    if request.url.path not in PASSWORD_CHANGE_PATHS:
        reason = password_change_reason(user, settings)
        if reason is not None:
            raise PasswordChangeRequired(reason)
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def active_rulebook(request: Request, session: DB) -> Active:
    """The rulebook the platform works with now: the published version (kefu.quality.rulebooks),
    with its inspector and live sentence checker."""
    return request.app.state.rulebooks.active(session)  # type: ignore[no-any-return]


ActiveRulebook = Annotated[Active, Depends(active_rulebook)]


def require(permission: Permission):  # type: ignore[no-untyped-def]
    # async: a pure check, run on the event loop instead of a hop through the thread pool
    async def check(user: CurrentUser) -> User:
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


async def customer_reader(request: Request, user: CurrentUser, session: DB) -> Reader:
    """The user reading customer data in this request, with this call's identity checks."""
    from kefu.http.session import verified_levels

    return Reader(session, user, verified_levels(request))


CustomerReader = Annotated[Reader, Depends(customer_reader)]
