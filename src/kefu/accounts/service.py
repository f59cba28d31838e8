"""Accounts: the only place that writes users. Logins and changes go to the audit log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts import passwords, throttle
from kefu.accounts import sessions as user_sessions
from kefu.accounts.models import User
from kefu.core import audit
from kefu.core.db import get_or_404
from kefu.core.errors import Conflict, Invalid, KefuError
from kefu.core.security import (
    Permission,
    Role,
    allowed,
    hash_password,
    needs_rehash,
    verify_no_password,
    verify_password,
)
from kefu.core.settings import Settings

BAD_LOGIN = "工号或密码错误"
THROTTLED = "登录失败次数过多,请 {minutes} 分钟后再试;忘记密码请联系管理员"


class LoginFailed(KefuError):
    status = 401
    keep_changes = True


@dataclass(frozen=True)
class LoginResult:
    """A login never raises: a failure must still be saved (it counts towards the throttle)."""

    user: User | None
    error: str | None = None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_password_strength(password: str, user: User | None = None, **details: str | None) -> None:
    """Refuse a weak new password, saying why (kefu.accounts.passwords). ``user`` or the
    ``details`` (agent_no, name, team) are whose it will be."""
    if user is not None:
        details = {"agent_no": user.agent_no, "name": user.name, "team": user.team}
    passwords.check(
        password,
        agent_no=details.get("agent_no") or "",
        name=details.get("name") or "",
        team=details.get("team"),
    )


def do_create_user(
    session: Session,
    actor_id: int | None,
    *,
    agent_no: str,
    name: str,
    role: Role,
    password: str,
    team: str | None = None,
    must_change_password: bool | None = None,
    password_hash: str | None = None,
) -> User:
    """A new account. An initial password chosen by someone else (``actor_id``, an admin) must
    be changed at the first login; ``must_change_password`` says so explicitly (demo data).
    ``password_hash``: the hash of ``password`` made already (the demo's thirty accounts share
    one known password, and hashing it thirty times would slow the first start by seconds)."""
    agent_no = agent_no.strip()
    if not agent_no:
        raise Invalid("工号不能为空")
    if session.scalar(select(User).where(User.agent_no == agent_no)) is not None:
        raise Conflict(f"工号 {agent_no} 已存在")
    check_password_strength(password, agent_no=agent_no, name=name, team=team)
    must_change = actor_id is not None if must_change_password is None else must_change_password
    user = User(
        agent_no=agent_no,
        name=name,
        role=role,
        team=team,
        password_hash=password_hash or hash_password(password),
        must_change_password=must_change,
    )
    session.add(user)
    session.flush()
    audit.record(
        session, actor_id, "create", "user", user.id, {"agent_no": [None, agent_no], "role": [None, role.value]}
    )
    return user


def get_user(session: Session, user_id: int) -> User:
    user = get_or_404(session, User, user_id, "用户")
    return user


def list_users(
    session: Session,
    *,
    ids: Iterable[int] | None = None,
    role: Role | None = None,
    active_only: bool = False,
    permission: Permission | None = None,
) -> list[User]:
    """Users by 工号: the ones with these ids, this role, active, or whose role has ``permission``."""
    query = select(User).order_by(User.agent_no)
    if ids is not None:
        query = query.where(User.id.in_(set(ids)))
    if role is not None:
        query = query.where(User.role == role)
    if active_only:
        query = query.where(User.active.is_(True))
    users = list(session.scalars(query))
    return users if permission is None else [u for u in users if allowed(u.role, permission)]


def teams(session: Session) -> list[str]:
    """The teams (班组) users belong to, sorted."""
    return sorted({t for t in session.scalars(select(User.team).where(User.team.is_not(None))) if t})


def do_login(
    session: Session,
    agent_no: str,
    password: str,
    settings: Settings,
    now: datetime | None = None,
    *,
    address: str | None = None,
) -> LoginResult:
    """Check 工号 + password, from ``address`` (the client's IP address).

    Known and unknown 工号 take the same path, in the same time (an argon2 verify either way)
    and get the same answers, so a login form tells no one which 工号 exist. Failures are
    throttled per (工号, address) and per address (kefu.accounts.throttle), never per account
    alone: a stranger guessing from elsewhere cannot lock the owner out."""
    now = now or datetime.now(UTC)
    typed = agent_no.strip()
    address = address or "unknown"
    window = timedelta(minutes=settings.lockout_minutes)
    secret = settings.signing_key()
    pair, place = throttle.pair_key(secret, typed, address), throttle.address_key(secret, address)
    limits = {pair: settings.max_failed_logins, place: settings.max_failed_logins_per_address}
    user = session.scalar(select(User).where(User.agent_no == typed)) if typed else None
    where = f"地址 {address}"

    waiting = throttle.blocked(session, limits, window, now)
    if waiting is not None:
        audit.record(session, None, "login_throttled", "user", user.id if user else None, detail=where)
        return LoginResult(None, THROTTLED.format(minutes=_minutes(waiting)))

    correct = verify_password(user.password_hash, password) if user else verify_no_password(password)
    if user is not None and correct and user.active:
        throttle.forget(session, pair)
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        audit.record(session, user.id, "login", "user", user.id, detail=where)
        return LoginResult(user)
    if user is not None and correct:  # only someone with the password learns the account is off
        audit.record(session, None, "login_failed", "user", user.id, detail=f"{where};账号已停用")
        return LoginResult(None, "账号已停用,请联系管理员")

    throttle.forget_stale(session, window, now)
    failures = throttle.count_failure(session, pair, window, now)
    from_address = throttle.count_failure(session, place, window, now)
    # What was typed into the 工号 field is kept only when it is a 工号: it is often a password.
    audit.record(session, None, "login_failed", "user", user.id if user else None, detail=where)
    if failures >= settings.max_failed_logins or from_address >= settings.max_failed_logins_per_address:
        return LoginResult(None, THROTTLED.format(minutes=settings.lockout_minutes))
    left = settings.max_failed_logins - failures
    if left <= 2:
        return LoginResult(None, f"{BAD_LOGIN}(再错 {left} 次,此工号在本机将暂停登录 {settings.lockout_minutes} 分钟)")
    return LoginResult(None, BAD_LOGIN)


def _minutes(left: timedelta) -> int:
    return max(1, int(-(-left.total_seconds() // 60)))


def password_expired(user: User, settings: Settings, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    return _aware(user.password_changed_at) + timedelta(days=settings.password_max_age_days) <= now


def password_change_reason(user: User, settings: Settings, now: datetime | None = None) -> str | None:
    """Why ``user`` must change the password before anything else, or None."""
    if user.must_change_password:
        return "首次登录请先修改初始密码"
    if password_expired(user, settings, now):
        return "密码已过期,请先修改密码"
    return None


def do_change_password(session: Session, user: User, old: str, new: str, now: datetime | None = None) -> int:
    """Set a new password and end every session of the user (a stolen session dies with the
    old password); how many were ended. The caller starts a fresh one for the person here."""
    if not verify_password(user.password_hash, old):
        raise Invalid("原密码不正确")
    if old == new:
        raise Invalid("新密码不能与原密码相同")
    check_password_strength(new, user)
    user.password_hash = hash_password(new)
    user.password_changed_at = now or datetime.now(UTC)
    user.must_change_password = False
    ended = user_sessions.end_all(session, user.id, "password_change", now)
    audit.record(session, user.id, "password_change", "user", user.id, detail=f"结束了 {ended} 个会话")
    return ended
