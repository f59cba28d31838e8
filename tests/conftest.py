from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The lowest argon2 cost for the tests' password hashes (production keeps argon2's defaults): the
# demo's seven logins are hashed for every test. Set before any settings are read.
os.environ.setdefault("KEFU_PASSWORD_HASH_TIME_COST", "1")
os.environ.setdefault("KEFU_PASSWORD_HASH_MEMORY_KIB", "8")
os.environ.setdefault("KEFU_PASSWORD_HASH_PARALLELISM", "1")

import pytest
import sqlalchemy as sa

from kefu.calls.schemas import CallCreate
from kefu.core.clock import centre_tz
from kefu.inspection.engine import Inspector
from kefu.inspection.scorecard import Finding, Report
from kefu.inspection.transcript import Transcript
from kefu.rulebook.loader import load_rulebook
from kefu.rulebook.schema import Rulebook

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient


@pytest.fixture(scope="session")
def rulebook() -> Rulebook:
    return load_rulebook()


@pytest.fixture(scope="session")
def inspector(rulebook: Rulebook) -> Inspector:
    return Inspector(rulebook)


def agent(text: str, start: float | None = None, end: float | None = None) -> dict[str, Any]:
    return {"speaker": "agent", "text": text, "start": start, "end": end}


def customer(text: str, start: float | None = None, end: float | None = None) -> dict[str, Any]:
    return {"speaker": "customer", "text": text, "start": start, "end": end}


def timed(*turns: tuple[str, str], rate: float = 140.0, gap: float = 0.6) -> list[dict[str, Any]]:
    """Turns with timestamps: each speaks ``rate`` characters a minute, ``gap`` s apart."""
    out, clock = [], 0.0
    for speaker, text in turns:
        length = max(1.0, len(text) / rate * 60)
        out.append({"speaker": speaker, "text": text, "start": round(clock, 2), "end": round(clock + length, 2)})
        clock += length + gap
    return out


def call(turns: list[dict[str, Any]], **fields: Any) -> Transcript:
    return Transcript.model_validate({"id": fields.pop("id", "t"), **fields, "turns": turns})


def found(report: Report, rule: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule]


GOOD_OPENING = "您好,感谢致电智能科技客服中心,我是客服小李,工号12345,很高兴为您服务,请问有什么可以帮您?"
GOOD_CLOSING = "请问还有其他可以帮到您的吗?感谢您的来电,祝您生活愉快,再见!"
META = {"agent_id": "12345", "agent_name": "小李", "company": "智能科技", "channel": "voice"}

# A transcript's turns as the calls API takes them: agent 12345's morning greeting and a polite
# close around a tariff question (no finding) or a rude answer (「我不知道」「等一下」).
OPENING_TURN = {
    "speaker": "agent",
    "text": "上午好,感谢致电智能科技客服中心,客服12345号为您服务,请问有什么可以帮您?",
    "start": 0,
    "end": 5,
}
CLOSING_TURNS = [
    {"speaker": "agent", "text": "请问还有其他可以帮到您的吗?", "start": 40, "end": 42},
    {"speaker": "customer", "text": "没有了,谢谢。", "start": 42.5, "end": 44},
    {"speaker": "agent", "text": "感谢您的来电,祝您生活愉快,再见!", "start": 44.5, "end": 47},
]
GOOD_TURNS = [
    OPENING_TURN,
    {"speaker": "customer", "text": "我想问一下宽带资费。", "start": 5.5, "end": 8},
    {"speaker": "agent", "text": "好的,我来为您查询宽带资费。", "start": 8.5, "end": 11},
    *CLOSING_TURNS,
]
RUDE_TURNS = [
    OPENING_TURN,
    {"speaker": "customer", "text": "我的宽带为什么又断了?", "start": 5.5, "end": 8},
    {"speaker": "agent", "text": "这个我不知道,你等一下。", "start": 8.5, "end": 11},
    *CLOSING_TURNS,
]


# The real data beside the repository (shared/data, see its README); never inside the package.
def call_at_nine(agent_id: int, transcript: list[dict[str, Any]] | None, **fields: Any) -> CallCreate:
    """A 46-second tariff question answered by ``agent_id`` on 2026-11-23 at 09:00 (centre's clock)."""
    at = datetime(2026, 11, 23, 9, 0, 0, tzinfo=centre_tz())
    values = {
        "direction": "inbound",
        "ring_at": at,
        "answered_at": at.replace(second=4),
        "ended_at": at.replace(second=50),
        "reason": "consult.tariff",
        "agent_id": agent_id,
        "transcript": transcript,
    }
    return CallCreate.model_validate({**values, **fields})


SHARED_DATA = Path(os.environ.get("KEFU_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def shared_data(name: str) -> Path:
    """A real data file. Missing: skipped on a developer's machine, a failure in CI (where
    shared/ is always checked out beside the repository, so a skip would hide a broken path)."""
    path = SHARED_DATA / name
    if not path.is_file():
        message = f"real data file {path} not found (set KEFU_SHARED_DATA to the shared/data folder)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


# ---------------------------------------------------------------- databases
#
# Each database test starts on a database at the latest migration with no rows, without running
# the migrations again: on SQLite a copy of a file migrated once per run; on PostgreSQL one
# database, a copy of one migrated once per run, emptied between tests (_PostgresTestDatabase).
# The migrations' own tests take an empty database (@pytest.mark.empty_database).

POSTGRES_URL = os.environ.get("KEFU_TEST_POSTGRES_URL")  # .ci/run starts a real server and sets it


def _postgres_or_skip() -> str:
    if not POSTGRES_URL:
        message = "KEFU_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return POSTGRES_URL


def _on_postgres_server(*statements: str) -> None:
    """Run statements on KEFU_TEST_POSTGRES_URL's server, outside a transaction (CREATE DATABASE)."""
    admin = sa.create_engine(_postgres_or_skip(), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))
    admin.dispose()


def _postgres_database(suffix: str) -> tuple[str, str]:
    """(name, URL) of a database beside KEFU_TEST_POSTGRES_URL's: ``<its name>_<suffix>``."""
    server = sa.make_url(_postgres_or_skip())
    name = f"{server.database}_{suffix}"
    return name, server.set(database=name).render_as_string(hide_password=False)


def _new_postgres_database(suffix: str, template: str | None = None) -> str:
    """A new database, empty or a copy of ``template``, in place of one an earlier test or run
    left (WITH (FORCE): connections a test left open do not stop it). Returns its URL."""
    name, url = _postgres_database(suffix)
    copy = f' TEMPLATE "{template}"' if template else ""
    _on_postgres_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"{copy}')
    return url


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kefu.core.db import migrate

    path = tmp_path_factory.mktemp("migrated") / "kefu.db"
    migrate(f"sqlite:///{path}")
    return path


_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
_SEQUENCES = "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
# What a test could change besides rows (emptying in place needs the schema as migrated).
_SCHEMA = """
SELECT md5(string_agg(item, ';' ORDER BY item)) FROM (
    SELECT format('%s.%s %s %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull) AS item
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
    WHERE connamespace = 'public'::regnamespace
    UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL SELECT adrelid::regclass || ' ' || pg_get_expr(adbin, adrelid) FROM pg_attrdef
    UNION ALL SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL SELECT proname || md5(prosrc) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
    UNION ALL SELECT 'alembic ' || version_num FROM alembic_version
) AS items
"""


class _PostgresTestDatabase:
    """The one PostgreSQL database the tests take in turn: a copy of a database migrated once per
    run. Between tests it is emptied in place (the last test's connections ended, every row deleted,
    every sequence restarted: ~0.03 s) rather than copied again (CREATE DATABASE … TEMPLATE writes
    the whole database: 0.1 s on an idle server, over 1 s on a busy one). It is copied again when
    emptying fails or the last test changed the schema, so every test starts as on a fresh copy."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.url = _new_postgres_database("test", template=template)
        self.used = False
        with self._connect() as connection:
            self.schema = connection.scalar(sa.text(_SCHEMA))
            tables = connection.scalars(sa.text(_TABLES)).all()
            self.migrations_left_rows = any(
                connection.scalar(sa.text(f'SELECT EXISTS (SELECT FROM "{table}")')) for table in tables
            )

    @contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        engine = sa.create_engine(self.url, poolclass=sa.NullPool)
        try:
            with engine.begin() as connection:
                yield connection
        finally:
            engine.dispose()

    def take(self) -> str:
        if self.used and not self._emptied():
            _new_postgres_database("test", template=self.template)
        self.used = True
        return self.url

    def _emptied(self) -> bool:
        if self.migrations_left_rows:
            return False
        try:
            with self._connect() as connection:
                connection.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                connection.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
                if connection.scalar(sa.text(_SCHEMA)) != self.schema:
                    return False
                connection.execute(sa.text("SET LOCAL session_replication_role = replica"))  # no FK order needed
                for table in connection.scalars(sa.text(_TABLES)).all():
                    connection.execute(sa.text(f'DELETE FROM "{table}"'))
                for sequence in connection.scalars(sa.text(_SEQUENCES)).all():
                    connection.execute(sa.text(f'ALTER SEQUENCE "{sequence}" RESTART'))
            return True
        except sa.exc.SQLAlchemyError:
            return False


@pytest.fixture(scope="session")
def _postgres_databases() -> Iterator[None]:
    """The tests' databases beside KEFU_TEST_POSTGRES_URL's, dropped at the end of the run."""
    yield
    _on_postgres_server(
        *(
            f'DROP DATABASE IF EXISTS "{_postgres_database(suffix)[0]}" WITH (FORCE)'
            for suffix in ("test", "empty", "template")
        )
    )


@pytest.fixture(scope="session")
def _postgres_test_database(_postgres_databases: None) -> _PostgresTestDatabase:
    from kefu.core.db import migrate

    migrate(_new_postgres_database("template"))
    return _PostgresTestDatabase(_postgres_database("template")[0])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "empty_database: database_url has no schema (the migrations' own tests)")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each database test runs on SQLite and on a real PostgreSQL, each time on a database of its
    own with the latest migration's schema and no rows; with ``@pytest.mark.empty_database``, on
    one without any schema."""
    empty = request.node.get_closest_marker("empty_database") is not None
    if request.param == "sqlite":
        path = tmp_path / "kefu.db"
        if not empty:
            shutil.copy(request.getfixturevalue("_migrated_sqlite"), path)  # keeps its 0600
        return f"sqlite:///{path}"
    _postgres_or_skip()
    if empty:
        request.getfixturevalue("_postgres_databases")
        return _new_postgres_database("empty")
    return request.getfixturevalue("_postgres_test_database").take()


@pytest.fixture
def sessions(database_url: str):  # type: ignore[no-untyped-def]
    from kefu.core.db import make_engine, session_factory

    engine = make_engine(database_url)
    yield session_factory(engine)
    engine.dispose()


# ---------------------------------------------------------------- the platform on a test database

AppFactory = Callable[..., "FastAPI"]


@pytest.fixture
def app_factory(database_url: str, tmp_path: Path) -> Iterator[AppFactory]:
    """Makes the whole platform on the test's database, with the demo seeded: its logins (demo
    password, no change asked for) and customers; ``activity=True`` adds its calls with their
    scorecards, work orders and articles. Other keywords are settings. Closed after the test."""
    from kefu.core.settings import Settings
    from kefu.demo import seed_demo
    from kefu.web.app import create_app

    made: list[FastAPI] = []

    def make(*, activity: bool = False, must_change_password: bool = False, **settings: Any) -> FastAPI:
        base = {"data_dir": tmp_path, "database_url": database_url, "secret_key": "test-secret"}
        application = create_app(Settings(**{**base, **settings}), run_migrations=False)  # migrated already
        seed_demo(application.state.sessions, activity=activity, must_change_password=must_change_password)
        made.append(application)
        return application

    yield make
    for application in made:
        application.state.engine.dispose()


@pytest.fixture
def app(app_factory: AppFactory) -> FastAPI:
    """The platform with the demo's logins and customers (``app_factory``)."""
    return app_factory()


def client_for(
    app: FastAPI, agent_no: str = "10001", password: str | None = None, client: TestClient | None = None
) -> TestClient:
    """A client logged in over the API as ``agent_no`` (with the demo password unless another is
    given), carrying the CSRF token its writes need."""
    from fastapi.testclient import TestClient

    from kefu.demo import DEMO_PASSWORD

    client = client or TestClient(app)
    answer = client.post("/api/auth/login", json={"agent_no": agent_no, "password": password or DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf"]
    return client


# ---------------------------------------------------------------- pages in a real browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """``app`` served by a real uvicorn on a free localhost port, for the browser tests."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.time() + 15
    while not instance.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Debian's Chromium driven by Playwright; missing, it is a skip locally and a failure in CI."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


# ---------------------------------------------------------------- readers of customer data


def reader(role: str = "admin", verified: dict[int, int] | None = None, user_id: int = 0, team: str | None = None):  # type: ignore[no-untyped-def]
    """Someone reading customer data outside a request (kefu.core.privacy): by default an admin,
    who sees everything unmasked; no audit entry is written (no session)."""
    from types import SimpleNamespace

    from kefu.core.privacy import Reader
    from kefu.core.security import Role

    return Reader(None, SimpleNamespace(id=user_id, role=Role(role), team=team), verified)
