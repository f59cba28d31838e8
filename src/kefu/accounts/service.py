"""Accounts: the only place that writes users. Logins and changes go to the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.core import audit
from kefu.core.errors import Conflict, Invalid, KefuError, NotFound
from kefu.core.security import Role, hash_password, needs_rehash, verify_password
from kefu.core.settings import Settings

MIN_PASSWORD_LENGTH = 8


class LoginFailed(KefuError):
    status = 401
    keep_changes = True


@dataclass(frozen=True)
class LoginResult:
    """A login never raises: a failure must still be saved (it counts towards the lock-out)."""

    user: User | None
    error: str | None = None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    if password.isdigit() or password.isalpha():
        raise Invalid("密码需同时包含字母和数字")


def do_create_user(
    session: Session,
    actor_id: int | None,
    *,
    agent_no: str,
    name: str,
    role: Role,
    password: str,
    team: str | None = None,
) -> User:
    agent_no = agent_no.strip()
    if not agent_no:
        raise Invalid("工号不能为空")
    if session.scalar(select(User).where(User.agent_no == agent_no)) is not None:
        raise Conflict(f"工号 {agent_no} 已存在")
    check_password_strength(password)
    user = User(agent_no=agent_no, name=name, role=role, team=team, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    audit.record(
        session, actor_id, "create", "user", user.id, {"agent_no": [None, agent_no], "role": [None, role.value]}
    )
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在")
    return user


def do_login(
    session: Session, agent_no: str, password: str, settings: Settings, now: datetime | None = None
) -> LoginResult:
    """Check 工号 + password. Repeated failures lock the account for a while; the lock is
    checked before the password, so guessing during the lock gains nothing."""
    now = now or datetime.now(UTC)
    user = session.scalar(select(User).where(User.agent_no == agent_no.strip()))
    if user is None or not user.active:
        audit.record(session, None, "login_failed", "user", agent_no.strip()[:64], detail="unknown or inactive")
        return LoginResult(None, "工号或密码错误")
    if user.locked_until is not None and _aware(user.locked_until) > now:
        minutes = int((_aware(user.locked_until) - now).total_seconds() // 60) + 1
        audit.record(session, user.id, "login_locked", "user", user.id)
        return LoginResult(None, f"账号已锁定,请 {minutes} 分钟后再试或联系管理员")
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= settings.max_failed_logins:
            user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
            user.failed_logins = 0
            audit.record(session, user.id, "login_failed", "user", user.id, detail="locked")
            return LoginResult(None, f"密码错误次数过多,账号已锁定 {settings.lockout_minutes} 分钟")
        audit.record(session, user.id, "login_failed", "user", user.id, detail=f"failed {user.failed_logins}")
        left = settings.max_failed_logins - user.failed_logins
        return LoginResult(None, f"工号或密码错误(再错 {left} 次将锁定账号)")
    user.failed_logins = 0
    user.locked_until = None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(session, user.id, "login", "user", user.id)
    return LoginResult(user)


def password_expired(user: User, settings: Settings, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    return _aware(user.password_changed_at) + timedelta(days=settings.password_max_age_days) <= now


def do_change_password(session: Session, user: User, old: str, new: str, now: datetime | None = None) -> None:
    if not verify_password(user.password_hash, old):
        raise Invalid("原密码不正确")
    if old == new:
        raise Invalid("新密码不能与原密码相同")
    check_password_strength(new)
    user.password_hash = hash_password(new)
    user.password_changed_at = now or datetime.now(UTC)
    audit.record(session, user.id, "password_change", "user", user.id)
