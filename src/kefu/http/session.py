"""The session: a signed cookie that carries a random token for the server-side login
(kefu.accounts.sessions), the CSRF token, and which customers were verified during the current
call. Who is logged in is decided on the server, so logout and a password change really end it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Message, Receive, Scope, Send

from kefu.accounts import service as accounts
from kefu.accounts import sessions as user_sessions
from kefu.accounts.models import User, UserSession

VERIFICATION_MINUTES = 30  # a verification is for this call, not for the rest of the day
COOKIE = "kefu_session"
TOKEN = "sid"  # the cookie's key for the server-side session's token


def now() -> datetime:
    return datetime.now(UTC)


def client_address(request: Request) -> str | None:
    """The client's address; behind a trusted proxy, the one it forwarded (see create_app)."""
    return request.client.host if request.client else None


def start_session(request: Request, db: Session, user: User) -> bool:
    """Log ``user`` in: a new server-side session and a fresh cookie (nothing from before the
    login is kept, and an older login in this browser is ended). True when the password must be
    changed before anything else."""
    old = request.session.get(TOKEN)
    if isinstance(old, str):
        user_sessions.do_end_token(db, old, "replaced", now())
    request.session.clear()
    _new_token(request, db, user)
    return accounts.password_change_reason(user, request.app.state.settings) is not None


def _new_token(request: Request, db: Session, user: User) -> None:
    request.session[TOKEN] = user_sessions.do_start(
        db, user, address=client_address(request), user_agent=request.headers.get("user-agent"), now=now()
    )


def renew_after_password_change(request: Request, db: Session, user: User) -> None:
    """The password changed and every session of the user ended: this browser goes on with a
    new session id (its CSRF token and this call's verifications stay)."""
    _new_token(request, db, user)


def end_session(request: Request, db: Session) -> None:
    """Logout: the server-side session ends (a copy of the cookie is worth nothing) and the
    cookie is emptied."""
    token = request.session.get(TOKEN)
    if isinstance(token, str):
        user_sessions.do_end_token(db, token, "logout", now())
    request.session.clear()


def current_session_id(request: Request) -> int | None:
    found = getattr(request.state, "user_session", None)
    return found.id if isinstance(found, UserSession) else None


def logged_in(request: Request, db: Session, *, touch: bool = True) -> user_sessions.Found:
    """The live session of the request's cookie and its user, or why there is none. ``touch``
    refreshes its last use, at most once every TOUCH_SECONDS, in a short transaction of its
    own (so that a page that only reads does not hold the database's write lock)."""
    token = request.session.get(TOKEN)
    if not isinstance(token, str):
        return user_sessions.Found(None, None, "unknown")
    moment = now()
    found = user_sessions.find(db, token, request.app.state.settings.session_idle_minutes, moment)
    if found.problem is not None or found.row is None:
        return found
    request.state.user_session = found.row
    if touch and user_sessions.needs_touch(found.row, moment):
        try:
            user_sessions.touch(db, found.row, moment)
            db.commit()
        except OperationalError:  # the database is busy writing: the next request tries again
            db.rollback()
    return found


class SessionCookies(SessionMiddleware):
    """Starlette's signed-cookie session, whose cookie is marked ``Secure`` when the request
    came over HTTPS (directly, or through a trusted proxy's X-Forwarded-Proto, see create_app)
    or when the site says it is HTTPS only (KEFU_HTTPS)."""

    def __init__(self, app: object, *, always_secure: bool = False, **options: object) -> None:
        super().__init__(app, session_cookie=COOKIE, **options)  # type: ignore[arg-type]
        self.always_secure = always_secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (self.always_secure or scope.get("scheme") == "https"):
            await super().__call__(scope, receive, send)
            return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (name, _secure(value)) if name.lower() == b"set-cookie" else (name, value)
                    for name, value in message.get("headers", [])
                ]
            await send(message)

        await super().__call__(scope, receive, send_secure)


def _secure(cookie: bytes) -> bytes:
    flags = [part.strip().lower() for part in cookie.split(b";")[1:]]
    return cookie if not cookie.startswith(COOKIE.encode() + b"=") or b"secure" in flags else cookie + b"; secure"


def _checks(request: Request) -> dict[str, Any]:
    row = getattr(request.state, "user_session", None)
    return dict(row.verified or {}) if isinstance(row, UserSession) else {}


def _save_checks(request: Request, checks: dict[str, Any] | None) -> None:
    row = getattr(request.state, "user_session", None)
    if isinstance(row, UserSession):
        row.verified = checks or None  # saved with the request's transaction


def remember_verification(request: Request, customer_id: int, factors: list[str]) -> int:
    """Add the factors the caller just confirmed to this call's check; the level is how many
    different factors were confirmed (kefu.core.privacy)."""
    checks = _checks(request)
    known = set(_factors(checks, customer_id))
    known.update(factors)
    checks[str(customer_id)] = [sorted(known), time.time()]
    _save_checks(request, checks)
    return len(known)


def _factors(checks: dict[str, Any], customer_id: int | str) -> list[str]:
    factors, at = checks.get(str(customer_id), [[], 0.0])
    if not isinstance(factors, list) or time.time() - at >= VERIFICATION_MINUTES * 60:
        return []
    return factors


def verified_levels(request: Request) -> dict[int, int]:
    """customer id → level of every identity check of this call still valid."""
    checks = _checks(request)
    levels = {int(cid): min(len(_factors(checks, cid)), 2) for cid in checks}
    return {cid: level for cid, level in levels.items() if level}


def forget_verifications(request: Request) -> None:
    """End of a call: the next caller starts masked again."""
    _save_checks(request, None)
