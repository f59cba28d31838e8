"""Migrations, accounts (passwords, logins and their throttle) and the audit log on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select

from kefu.accounts import service as accounts
from kefu.accounts.models import LoginThrottle, User
from kefu.core import audit
from kefu.core.db import alembic_config, make_engine, migrate, transaction
from kefu.core.errors import Conflict, Invalid
from kefu.core.security import Permission, Role, allowed
from kefu.core.settings import Settings

SETTINGS = Settings(max_failed_logins=3, lockout_minutes=15, password_max_age_days=90, secret_key="test-secret")


@pytest.mark.empty_database
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


def login(sessions, password: str, now: datetime | None = None, agent_no: str = "12345", address: str = "10.0.0.8"):  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        return accounts.do_login(session, agent_no, password, SETTINGS, now, address=address)


def test_login_with_agent_no_and_password(sessions) -> None:  # type: ignore[no-untyped-def]
    make_user(sessions)
    result = login(sessions, "kefu2026", agent_no=" 12345 ")
    assert result.user is not None and result.user.name == "小李" and result.error is None
    assert login(sessions, "kefu2026", agent_no="99999").error.startswith("工号或密码错误")
    with sessions() as session:
        actions = [e.action for e in audit.entries(session, entity="user")]
    assert actions[:2] == ["login_failed", "login"]


def test_repeated_failures_pause_the_agent_no_from_that_address_only(sessions) -> None:  # type: ignore[no-untyped-def]
    make_user(sessions)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert "再错 2 次" in login(sessions, "wrong-pass1", now, address="10.9.9.9").error
    assert "再错 1 次" in login(sessions, "wrong-pass1", now, address="10.9.9.9").error
    assert "15 分钟后再试" in login(sessions, "wrong-pass1", now, address="10.9.9.9").error
    paused = login(sessions, "kefu2026", now + timedelta(minutes=5), address="10.9.9.9")
    assert paused.user is None and "10 分钟后再试" in paused.error  # even the right password: no guessing
    assert login(sessions, "kefu2026", now + timedelta(minutes=5), address="10.0.0.8").user is not None
    assert login(sessions, "kefu2026", now + timedelta(minutes=16), address="10.9.9.9").user is not None


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


# ---------------------------------------------------------------- passwords


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1", "至少 8 位"),
        ("abcd1234", "常见密码"),
        ("password1", "常见密码"),
        ("woaini1314", "常见密码"),
        ("qwertyuiop", "常见密码"),
        ("x12345abc!", "工号"),
        ("LiXiao#2026", "姓名拼音"),
        ("xiaoli_2026", "姓名拼音"),
        ("李晓的密码2026", "姓名"),
        ("一组yyds20261", "班组"),
        ("abcdefgh", "连续"),
        ("aaaaaaaaaa1", "重复"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, reason: str) -> None:
    with pytest.raises(Invalid, match=reason):
        accounts.check_password_strength(password, agent_no="12345", name="李晓", team="一组")


@pytest.mark.parametrize("password", ["correct horse battery", "Xq7#mP2vTk", "lanhai-7-shuijiao"])
def test_uncommon_passwords_are_accepted(password: str) -> None:
    accounts.check_password_strength(password, agent_no="12345", name="李晓", team="一组")


def test_a_new_password_is_checked_against_the_users_own_details(sessions) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        user = accounts.do_create_user(
            session, None, agent_no="10086", name="王敏", role=Role.AGENT, password="kefu2026", team="二组"
        )
    for weak, reason in [("wangmin2026!", "姓名拼音"), ("pw-10086-ok", "工号"), ("password1", "常见密码")]:
        with pytest.raises(Invalid, match=reason), transaction(sessions) as session:
            accounts.do_change_password(session, accounts.get_user(session, user.id), "kefu2026", weak)


def test_an_initial_password_chosen_by_someone_else_must_be_changed(sessions) -> None:  # type: ignore[no-untyped-def]
    admin = make_user(sessions, "90009", Role.ADMIN)
    assert not admin.must_change_password  # set up by the system (kefu itself), chosen by the operator
    with transaction(sessions) as session:
        made = accounts.do_create_user(
            session, admin.id, agent_no="10010", name="新人", role=Role.AGENT, password="kefu2026"
        )
    assert made.must_change_password
    assert accounts.password_change_reason(made, SETTINGS) == "首次登录请先修改初始密码"
    with transaction(sessions) as session:
        accounts.do_change_password(session, accounts.get_user(session, made.id), "kefu2026", "lanhai-7-shuijiao")
    with sessions() as session:
        again = accounts.get_user(session, made.id)
        assert not again.must_change_password and accounts.password_change_reason(again, SETTINGS) is None


def test_demo_accounts_must_change_the_shared_password(sessions) -> None:  # type: ignore[no-untyped-def]
    from kefu.demo import DEMO_USERS, seed_demo

    seed_demo(sessions, activity=False)
    with sessions() as session:
        users = list(session.scalars(select(User)))
    assert len(users) == len(DEMO_USERS) and all(u.must_change_password for u in users)


# ---------------------------------------------------------------- logins: same answer, same work, throttled


def test_known_and_unknown_agent_no_get_the_same_answers(sessions) -> None:  # type: ignore[no-untyped-def]
    make_user(sessions)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    known = [login(sessions, "wrong-pass1", now, agent_no="12345").error for _ in range(4)]
    unknown = [login(sessions, "wrong-pass1", now, agent_no="54321").error for _ in range(4)]
    assert known == unknown
    assert known[0] == "工号或密码错误(再错 2 次,此工号在本机将暂停登录 15 分钟)"
    assert "失败次数过多" in known[2] and "失败次数过多" in known[3]


def test_an_unknown_agent_no_costs_an_argon2_verify_like_a_known_one(sessions, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kefu.core import security

    make_user(sessions)
    verified: list[str] = []
    real = security._hasher

    class Counting:
        """The real argon2 hasher, noting each hash it verifies against."""

        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def verify(self, password_hash: str, password: str) -> bool:
            verified.append(password_hash.split("$")[1])
            return real.verify(password_hash, password)

    monkeypatch.setattr(security, "_hasher", Counting())
    login(sessions, "wrong-pass1", agent_no="12345")
    login(sessions, "wrong-pass1", agent_no="no-such-agent")
    login(sessions, "wrong-pass1", agent_no="")
    assert verified == ["argon2id", "argon2id", "argon2id"]


def test_a_stranger_cannot_lock_the_user_out_of_their_own_address(sessions) -> None:  # type: ignore[no-untyped-def]
    make_user(sessions)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    for _ in range(20):
        login(sessions, "guess-pass1", now, address="203.0.113.7")
    assert "失败次数过多" in login(sessions, "kefu2026", now, address="203.0.113.7").error
    assert login(sessions, "kefu2026", now, address="10.0.0.8").user is not None


def test_one_address_trying_many_agent_nos_is_paused(sessions) -> None:  # type: ignore[no-untyped-def]
    make_user(sessions)
    settings = SETTINGS.model_copy(update={"max_failed_logins_per_address": 6})
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with transaction(sessions) as session:
        answers = [
            accounts.do_login(session, f"2000{i}", "guess-pass1", settings, now, address="203.0.113.7").error
            for i in range(6)
        ]
    assert answers[0].startswith("工号或密码错误") and "失败次数过多" in answers[-1]
    with transaction(sessions) as session:
        paused = accounts.do_login(session, "12345", "kefu2026", settings, now, address="203.0.113.7")
        elsewhere = accounts.do_login(session, "12345", "kefu2026", settings, now, address="10.0.0.8")
    assert paused.user is None and "失败次数过多" in paused.error and elsewhere.user is not None


def test_a_success_clears_the_count_and_old_failures_are_forgotten(sessions) -> None:  # type: ignore[no-untyped-def]
    make_user(sessions)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    login(sessions, "wrong-pass1", now)
    login(sessions, "wrong-pass1", now)
    assert login(sessions, "kefu2026", now).user is not None
    assert "再错 2 次" in login(sessions, "wrong-pass1", now).error  # counting from 1 again
    assert "再错 1 次" in login(sessions, "wrong-pass1", now).error
    assert "再错 2 次" in login(sessions, "wrong-pass1", now + timedelta(minutes=16)).error  # 15 minutes: forgotten


def test_an_inactive_account_is_refused(sessions) -> None:  # type: ignore[no-untyped-def]
    user = make_user(sessions)
    with transaction(sessions) as session:
        accounts.get_user(session, user.id).active = False
    assert login(sessions, "wrong-pass1").error.startswith("工号或密码错误")
    assert login(sessions, "kefu2026").error == "账号已停用,请联系管理员"


def test_what_was_typed_into_the_agent_no_field_is_not_audited(sessions) -> None:  # type: ignore[no-untyped-def]
    make_user(sessions)
    login(sessions, "wrong-pass1", agent_no="Secret#Pw2026")  # a password in the wrong box
    login(sessions, "wrong-pass1", agent_no="12345")
    with sessions() as session:
        failed = [e for e in audit.entries(session, entity="user") if e.action == "login_failed"]
        throttle_keys = list(session.scalars(select(LoginThrottle.key)))
    assert len(failed) == 2
    assert "Secret#Pw2026" not in repr([(e.entity_id, e.detail, e.changes) for e in failed])
    assert "Secret#Pw2026" not in "".join(throttle_keys)
    unknown, known = sorted(failed, key=lambda e: e.id)
    assert unknown.entity_id is None and known.entity_id is not None and "10.0.0.8" in known.detail


# ---------------------------------------------------------------- the audit log keeps no secrets


def test_audit_entries_mask_id_numbers_and_drop_passwords(sessions) -> None:  # type: ignore[no-untyped-def]
    from kefu.customers import service as customers
    from kefu.customers.schemas import CustomerCreate

    user = make_user(sessions)
    with transaction(sessions) as session:
        created = customers.do_create_customer(
            session, user.id, CustomerCreate(name="张伟", phone="13812345678", id_number="110101199003074518")
        )
        audit.record(session, user.id, "update", "user", user.id, {"password": ["old-pw", "new-pw"]})
        audit.record(session, user.id, "note", "customer", created.id, detail="身份证 110101199003074518 已核对")
    with sessions() as session:
        entries = audit.entries(session)
    stored = repr([(e.changes, e.detail) for e in entries])
    assert "110101199003074518" not in stored and "old-pw" not in stored and "new-pw" not in stored
    create = next(e for e in entries if e.entity == "customer" and e.action == "create")
    assert create.changes["id_number"] == [None, "1" + "*" * 17]
    assert create.changes["name"] == [None, "张伟"]  # only the sensitive fields are masked
    assert next(e for e in entries if e.action == "update").changes["password"] == ["[已隐去]", "[已隐去]"]


@pytest.mark.empty_database
def test_the_migration_masks_what_the_audit_log_kept_before(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    command.upgrade(alembic_config(database_url), "0006")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_log (at, actor_id, action, entity, entity_id, changes, detail) VALUES "
                "(:at, NULL, 'create', 'customer', '1', :changes, NULL),"
                "(:at, NULL, 'login_failed', 'user', 'MyPassw0rd!', NULL, 'unknown or inactive')"
            ),
            {"at": datetime.now(UTC), "changes": '{"id_number": [null, "110101199003074518"], "name": [null, "张伟"]}'},
        )
    migrate(database_url)
    with engine.connect() as connection:
        query = select(audit.AuditEntry.entity_id, audit.AuditEntry.changes, audit.AuditEntry.detail)
        customer, failed_login = connection.execute(query.order_by(audit.AuditEntry.id)).all()
    engine.dispose()
    assert customer.changes == {"id_number": [None, "1" + "*" * 17], "name": [None, "张伟"]}
    assert failed_login.entity_id is None and "MyPassw0rd!" not in repr(failed_login)


# ---------------------------------------------------------------- files only their owner can read


def test_kefu_creates_its_files_for_its_owner_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import stat

    from sqlalchemy import text

    folder = tmp_path / "kefu-data"
    settings = Settings(data_dir=folder)
    assert settings.signing_key() == settings.signing_key()  # created once, then read
    migrate(settings.database)
    engine = make_engine(settings.database)
    with engine.connect() as connection:  # an open connection keeps the -wal and -shm files
        connection.execute(text("SELECT count(*) FROM users"))
        names = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
    engine.dispose()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert names == {"secret_key": 0o600, "kefu.db": 0o600, "kefu.db-wal": 0o600, "kefu.db-shm": 0o600}
