"""Overdue escalation on a schedule: one round in its own transaction, safe when several runners
share a database, the loop started and stopped with the app, `kefu escalate` — SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kefu.accounts import service as accounts
from kefu.core.audit import AuditEntry
from kefu.core.db import make_engine, session_factory, transaction
from kefu.core.security import Role
from kefu.core.settings import Settings
from kefu.web.app import create_app
from kefu.workorders import service as wo
from kefu.workorders.escalation import EscalationLoop, run_escalation_round
from kefu.workorders.models import EventKind, OrderType, WorkOrder, WorkOrderEvent
from kefu.workorders.schemas import WorkOrderCreate

# A Monday 09:00 on the centre's clock (01:00 UTC); a consultation must be taken on within one
# business hour, so at 11:00 every order created at 09:00 has missed its response deadline.
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=2)
KEFU = Path(sys.executable).parent / "kefu"


def long_ago() -> datetime:
    """Long enough ago (holidays included) that both the response and the resolution are missed."""
    return datetime.now(UTC) - timedelta(days=30)


def create_orders(sessions: sessionmaker[Session], count: int, now: datetime = T0) -> list[int]:
    with transaction(sessions) as session:
        agent = accounts.do_create_user(
            session, None, agent_no="12345", name="小李", role=Role.AGENT, password="kefu2026"
        ).id
        data = WorkOrderCreate(type=OrderType.CONSULTATION, title="咨询保修期", description="询问智能门锁的保修期")
        return [wo.do_create(session, agent, data, now=now).id for _ in range(count)]


def escalations(sessions: sessionmaker[Session]) -> dict[int, int]:
    """Escalation events per order."""
    with sessions() as session:
        query = (
            select(WorkOrderEvent.order_id, func.count())
            .where(WorkOrderEvent.kind == EventKind.ESCALATE)
            .group_by(WorkOrderEvent.order_id)
        )
        return dict(session.execute(query).all())


def escalation_audits(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        query = select(func.count()).where(AuditEntry.action == "escalate", AuditEntry.entity == "work_order")
        return session.scalar(query) or 0


def test_a_round_escalates_each_missed_deadline_once(sessions: sessionmaker[Session]) -> None:
    ids = create_orders(sessions, 3)
    assert run_escalation_round(sessions, T0 + timedelta(minutes=30)) == 0  # nothing due yet
    assert run_escalation_round(sessions, LATER) == 3
    assert run_escalation_round(sessions, LATER + timedelta(minutes=5)) == 0  # already escalated
    assert escalations(sessions) == dict.fromkeys(ids, 1)
    assert escalation_audits(sessions) == 3
    with sessions() as session:
        order = session.get(WorkOrder, ids[0])
        assert order is not None and order.escalation_level == 1
        assert order.escalations[0].data["deadline"] == "响应" and order.escalations[0].actor_id is None


def test_concurrent_rounds_escalate_each_deadline_exactly_once(database_url: str) -> None:
    """Two runners (threads, each with its own engine, like two server processes) start a round at
    the same moment: the lock serialises them, or skips one (PostgreSQL)."""
    from kefu.core.db import migrate

    migrate(database_url)
    engines = [make_engine(database_url) for _ in range(2)]
    factories = [session_factory(engine) for engine in engines]
    try:
        ids = create_orders(factories[0], 40)
        start = threading.Barrier(2)
        results: list[int] = []
        failures: list[BaseException] = []

        def runner(factory: sessionmaker[Session]) -> None:
            start.wait()
            try:
                results.append(run_escalation_round(factory, LATER))
            except BaseException as error:  # reported below, not lost in the thread
                failures.append(error)

        threads = [threading.Thread(target=runner, args=(factory,)) for factory in factories]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not failures
        assert sorted(results) == [0, 40]  # one runner did all, the other found nothing left (or was skipped)
        assert escalations(factories[0]) == dict.fromkeys(ids, 1)
        assert escalation_audits(factories[0]) == 40
    finally:
        for engine in engines:
            engine.dispose()


# ---------------------------------------------------------------- with the app


def make_app(database_url: str, tmp_path: Path, interval: float):  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, secret_key="test-secret", escalation_interval=interval
    )
    return create_app(settings)


def test_the_app_runs_the_escalation_loop_while_it_runs(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url, tmp_path, 300)
    try:
        assert app.state.escalation is None  # not before startup
        with TestClient(app):
            loop = app.state.escalation
            assert isinstance(loop, EscalationLoop) and loop.running and loop.interval == 300
        assert not loop.running  # stopped at shutdown without waiting for the interval
    finally:
        app.state.engine.dispose()


def test_the_loop_escalates_overdue_orders_in_the_background(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url, tmp_path, 0.05)
    try:
        ids = create_orders(app.state.sessions, 2, now=long_ago())
        with TestClient(app):
            loop = app.state.escalation
            assert loop.wait_for_rounds(3, timeout=60)  # three rounds: the later ones find nothing new
            assert loop.escalated == 2
        assert escalations(app.state.sessions) == dict.fromkeys(ids, 2)  # 响应 and 解决, once each
    finally:
        app.state.engine.dispose()


def test_interval_zero_turns_the_loop_off(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url, tmp_path, 0)
    try:
        create_orders(app.state.sessions, 1, now=long_ago())
        with TestClient(app):
            assert app.state.escalation is None
        assert escalations(app.state.sessions) == {}
    finally:
        app.state.engine.dispose()
    with pytest.raises(ValueError, match="interval must be positive"):
        EscalationLoop(app.state.sessions, 0)


def test_a_failing_round_does_not_end_the_loop(tmp_path: Path) -> None:
    """The database is not there (no schema): each round fails, is logged, and the next one runs."""
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    loop = EscalationLoop(session_factory(engine), 0.01)
    loop.start()
    try:
        assert loop.wait_for_rounds(2, timeout=60)
        assert loop.running and loop.escalated == 0
    finally:
        loop.stop()
        engine.dispose()
    assert not loop.running


def test_escalation_interval_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().escalation_interval == 300
    monkeypatch.setenv("KEFU_ESCALATION_INTERVAL", "60")
    assert Settings().escalation_interval == 60
    monkeypatch.setenv("KEFU_ESCALATION_INTERVAL", "-5")
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        Settings()


def test_kefu_escalate_runs_one_round(tmp_path: Path) -> None:
    from kefu.core.db import migrate

    url = f"sqlite:///{tmp_path / 'kefu.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        ids = create_orders(session_factory(engine), 2, now=long_ago())
        env = {**os.environ, "KEFU_DATABASE_URL": url, "KEFU_DATA_DIR": str(tmp_path)}
        first = subprocess.run([KEFU, "escalate"], env=env, capture_output=True, text=True, timeout=120)
        assert first.returncode == 0 and "已升级 2 张超时工单" in first.stdout, first.stderr
        second = subprocess.run([KEFU, "escalate"], env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0 and "已升级 0 张超时工单" in second.stdout, second.stderr
        assert escalations(session_factory(engine)) == dict.fromkeys(ids, 2)  # 响应 and 解决, once each
    finally:
        engine.dispose()
