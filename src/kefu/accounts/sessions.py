"""Logins kept on the server: started at login, checked on every request, ended by logout,
by a password change (all of the user's sessions), by an admin, or by time.

The browser's cookie carries a random token; the table keeps its SHA-256 only. A session is
alive while it is not ended, was used within the idle limit and is younger than MAX_HOURS; time
ends a session without a write (it is simply no longer alive), so that reading pages does not
write to the database. ``last_seen_at`` is refreshed at most once every TOUCH_SECONDS.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from kefu.accounts.models import User, UserSession
from kefu.core import audit
from kefu.core.db import get_or_404
from kefu.core.errors import Forbidden, NotFound
from kefu.core.security import Permission, Role, allowed

MAX_HOURS = 12  # a login lasts one working day at most, however active
TOUCH_SECONDS = 60  # how stale last_seen_at may get: the idle limit is kept to the minute
KEEP_DAYS = 30  # ended sessions stay listed this long (who logged in from where), then go

END_REASONS = {
    "logout": "已退出",
    "password_change": "修改密码后失效",
    "admin": "被管理员结束",
    "user": "本人结束",
    "replaced": "同一浏览器重新登录",
}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Found:
    """What a cookie's token leads to: a live session and its user, or why not (``problem``:
    'unknown', 'ended', 'idle', 'expired', 'inactive')."""

    row: UserSession | None
    user: User | None
    problem: str | None = None


def do_start(
    session: Session, user: User, *, address: str | None, user_agent: str | None, now: datetime | None = None
) -> str:
    """A new session for ``user``; the token for the cookie (shown nowhere else)."""
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            address=(address or "")[:64] or None,
            user_agent=(user_agent or "")[:200] or None,
        )
    )
    session.execute(
        delete(UserSession)
        .where(UserSession.last_seen_at < now - timedelta(days=KEEP_DAYS))
        .execution_options(synchronize_session=False)
    )
    return token


def alive(row: UserSession, idle_minutes: int, now: datetime) -> str | None:
    """None when ``row`` is alive; else why it is not."""
    if row.ended_at is not None:
        return "ended"
    if _aware(row.created_at) + timedelta(hours=MAX_HOURS) <= now:
        return "expired"
    if _aware(row.last_seen_at) + timedelta(minutes=idle_minutes) <= now:
        return "idle"
    return None


def find(session: Session, token: str, idle_minutes: int, now: datetime | None = None) -> Found:
    now = now or datetime.now(UTC)
    found = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == token_hash(token))
    ).first()
    if found is None:
        return Found(None, None, "unknown")
    row, user = found
    problem = alive(row, idle_minutes, now)
    if problem is None and not user.active:
        problem = "inactive"
    return Found(row, user, problem)


def needs_touch(row: UserSession, now: datetime) -> bool:
    return _aware(row.last_seen_at) + timedelta(seconds=TOUCH_SECONDS) <= now


def touch(session: Session, row: UserSession, now: datetime) -> None:
    """Mark ``row`` as used now (the caller decides when: see ``needs_touch``)."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == row.id, UserSession.ended_at.is_(None))
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def do_end(session: Session, actor_id: int | None, row: UserSession, reason: str, now: datetime | None = None) -> None:
    if row.ended_at is not None:
        return
    row.ended_at = now or datetime.now(UTC)
    row.end_reason = reason
    if reason != "logout":  # a logout is the user's own business; the other endings are audited
        audit.record(session, actor_id, "session_end", "user", row.user_id, detail=f"会话 {row.id}:{reason}")
    else:
        audit.record(session, actor_id, "logout", "user", row.user_id)


def do_end_token(session: Session, token: str, reason: str, now: datetime | None = None) -> None:
    """End the session of a cookie's token, if it is still open (logout, a new login)."""
    row = session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))
    if row is not None and row.ended_at is None:
        do_end(session, row.user_id, row, reason, now)


def end_all(session: Session, user_id: int, reason: str, now: datetime | None = None) -> int:
    """End every open session of the user (the caller audits); how many there were."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=now or datetime.now(UTC), end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def do_end_all(session: Session, actor_id: int | None, user_id: int, reason: str) -> int:
    ended = end_all(session, user_id, reason)
    audit.record(session, actor_id, "session_end", "user", user_id, detail=f"结束全部 {ended} 个会话:{reason}")
    return ended


def live(
    session: Session, idle_minutes: int, *, user_id: int | None = None, now: datetime | None = None
) -> list[UserSession]:
    """The sessions alive now, newest first; one user's, or everyone's."""
    now = now or datetime.now(UTC)
    query = (
        select(UserSession)
        .where(
            UserSession.ended_at.is_(None),
            UserSession.last_seen_at > now - timedelta(minutes=idle_minutes),
            UserSession.created_at > now - timedelta(hours=MAX_HOURS),
        )
        .order_by(UserSession.last_seen_at.desc())
    )
    if user_id is not None:
        query = query.where(UserSession.user_id == user_id)
    return list(session.scalars(query))


def _check_may_end(session: Session, actor: User, user_id: int) -> None:
    """Ending someone else's logins: supervisors and admins; an admin's, only admins."""
    if not allowed(actor.role, Permission.SESSION_ADMIN):
        raise Forbidden(f"{actor.role.label}无权结束他人的登录")
    target = get_or_404(session, User, user_id, "用户")
    if target.role is Role.ADMIN and actor.role is not Role.ADMIN:
        raise Forbidden("只有管理员可以结束管理员的登录")


def visible(session: Session, actor: User, session_id: int) -> UserSession:
    """A session ``actor`` may see: their own, or anyone's for supervisors and admins (to
    everyone else another user's session does not exist)."""
    row = session.get(UserSession, session_id)
    if row is None or (row.user_id != actor.id and not allowed(actor.role, Permission.SESSION_ADMIN)):
        raise NotFound(f"会话 {session_id} 不存在")
    return row


def do_end_for(session: Session, actor: User, session_id: int, now: datetime | None = None) -> UserSession:
    """``actor`` ends one login: one of their own, or (supervisors, admins) anyone's."""
    row = visible(session, actor, session_id)
    if row.user_id != actor.id:
        _check_may_end(session, actor, row.user_id)
    do_end(session, actor.id, row, "user" if row.user_id == actor.id else "admin", now)
    return row


def do_end_all_for(session: Session, actor: User, user_id: int) -> int:
    """A supervisor or admin ends every login of a user (a lost badge, a shared PC)."""
    _check_may_end(session, actor, user_id)
    return do_end_all(session, actor.id, user_id, "admin")
