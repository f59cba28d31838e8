"""Migrations, accounts and the audit log on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from kefu.accounts import service as accounts
from kefu.core import audit
from kefu.core.db import alembic_config, make_engine, migrate, transaction
from kefu.core.errors import Conflict, Invalid
from kefu.core.security import Permission, Role, allowed
from kefu.core.settings import Settings

SETTINGS = Settings(max_failed_logins=3, lockout_minutes=15, password_max_age_days=90)


def test_migrations_create_and_drop_the_schema(database_url: str) -> None:
    from alembic import command

    migrate(database_url)
    engine = make_engine(database_url)
    assert {"users", "customers", "audit_log", "alembic_version"} <= set(inspect(engine).get_table_names())
    command.downgrade(alembic_config(database_url), "base")
    assert "users" not in inspect(engine).get_table_names()
    migrate(database_url)  # and up again: migrations are repeatable
    assert "users" in inspect(engine).get_table_names()
    engine.dispose()


def make_user(sessions, agent_no: str = "12345", role: Role = Role.AGENT):  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        return accounts.do_create_user(session, None, agent_no=agent_no, name="小李", role=role, password="kefu2026")


def test_create_user_hashes_the_password_and_audits(sessions) -> None:  # type: ignore[no-untyped-def]
    user = make_user(sessions)
    assert user.password_hash.startswith("$argon2") and "kefu2026" not in user.password_hash
    with sessions() as session:
        [entry] = audit.entries(session, entity="user", entity_id=user.id)
        assert entry.action == "create" and entry.changes["agent_no"] == [None, "12345"]


def test_duplicate_agent_no_and_weak_passwords_are_refused(sessions) -> None:  # type: ignore[no-untyped-def]
    make_user(sessions)
    with pytest.raises(Conflict, match="12345 已存在"), transaction(sessions) as session:
        accounts.do_create_user(session, None, agent_no="12345", name="x", role=Role.AGENT, password="abc12345")
    for weak in ("short1", "12345678", "abcdefgh"):
        with pytest.raises(Invalid), transaction(sessions) as session:
            accounts.do_create_user(session, None, agent_no="9", name="x", role=Role.AGENT, password=weak)


def login(sessions, password: str, now: datetime | None = None, agent_no: str = "12345") -> accounts.LoginResult:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        return accounts.do_login(session, agent_no, password, SETTINGS, now)


def test_login_with_agent_no_and_password(sessions) -> None:  # type: ignore[no-untyped-def]
    make_user(sessions)
    result = login(sessions, "kefu2026", agent_no=" 12345 ")
    assert result.user is not None and result.user.name == "小李" and result.error is None
    assert login(sessions, "kefu2026", agent_no="99999").error == "工号或密码错误"
    with sessions() as session:
        actions = [e.action for e in audit.entries(session, entity="user")]
    assert actions[:2] == ["login_failed", "login"]


def test_repeated_failures_lock_the_account_for_a_while(sessions) -> None:  # type: ignore[no-untyped-def]
    make_user(sessions)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert "再错 2 次" in login(sessions, "wrong-pass1", now).error
    assert "再错 1 次" in login(sessions, "wrong-pass1", now).error
    assert "锁定 15 分钟" in login(sessions, "wrong-pass1", now).error
    locked = login(sessions, "kefu2026", now + timedelta(minutes=5))
    assert locked.user is None and "已锁定" in locked.error
    assert login(sessions, "kefu2026", now + timedelta(minutes=16)).user is not None


def test_password_expires_and_can_be_changed(sessions) -> None:  # type: ignore[no-untyped-def]
    user = make_user(sessions)
    assert not accounts.password_expired(user, SETTINGS)
    assert accounts.password_expired(user, SETTINGS, datetime.now(UTC) + timedelta(days=91))
    with transaction(sessions) as session:
        user = accounts.get_user(session, user.id)
        with pytest.raises(Invalid, match="原密码"):
            accounts.do_change_password(session, user, "nope", "newpass2026")
        accounts.do_change_password(session, user, "kefu2026", "newpass2026")
    assert login(sessions, "newpass2026").user is not None
    assert login(sessions, "kefu2026").user is None


def test_roles_have_the_permissions_of_their_job() -> None:
    assert allowed(Role.AGENT, Permission.CUSTOMER_EDIT)
    assert not allowed(Role.AGENT, Permission.AUDIT_VIEW)
    assert allowed(Role.SUPERVISOR, Permission.AUDIT_VIEW)
    assert all(allowed(Role.ADMIN, p) for p in Permission)
    assert Role.TEAM_LEAD.label == "班组长"
