"""Under load the real application bends, it does not break (SQLite and PostgreSQL): requests
beyond capacity get 503 with Retry-After at once — never a 500, never a hang — and full service
comes back as soon as the load goes; SQLite writers take turns instead of failing with
"database is locked".

Nothing here depends on the machine's speed: capacity is exhausted by requests the test holds
inside the application (or by connections the test holds), and every wait has a generous bound
that only a hang would reach.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from conftest import live_server
from kefu.core import db as core_db
from kefu.core.db import transaction
from kefu.core.settings import Settings
from kefu.customers import service as customers
from kefu.customers.models import Customer
from kefu.customers.schemas import CustomerCreate
from kefu.demo import DEMO_PASSWORD, seed_demo
from kefu.web.admission import BUSY
from kefu.web.app import create_app

BOUND = 20.0  # seconds; every answer here comes far sooner unless something hangs


class Hold:
    """A route added for the test: a request to it takes a place and keeps it until released."""

    def __init__(self, app: FastAPI) -> None:
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()

        @app.get("/api/test/hold", include_in_schema=False)
        def hold() -> dict[str, bool]:
            self.entered.release()
            return {"released": self.release.wait(BOUND)}

    def take(self, base: str, places: int) -> list[threading.Thread]:
        answers: list[int] = []

        def held_request() -> None:
            answers.append(httpx.get(f"{base}/api/test/hold", timeout=BOUND).status_code)

        threads = [threading.Thread(target=held_request) for _ in range(places)]
        for thread in threads:
            thread.start()
        for _ in range(places):
            assert self.entered.acquire(timeout=BOUND), "the held request never reached the application"
        self.answers = answers
        return threads


def make_app(database_url: str, tmp_path: Path, **overrides: Any) -> FastAPI:
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        secret_key="overload-test",
        escalation_interval=0,
        **overrides,
    )
    application = create_app(settings)
    seed_demo(application.state.sessions, activity=False, must_change_password=False)
    return application


@pytest.fixture
def small(database_url: str, tmp_path: Path) -> Iterator[tuple[FastAPI, Hold]]:
    """Room for one request at a time, no waiting for a place."""
    application = make_app(database_url, tmp_path, max_concurrent_requests=1, admission_wait_ms=0)
    hold = Hold(application)
    yield application, hold
    hold.release.set()
    application.state.engine.dispose()


def logged_in(base: str, agent_no: str = "10001") -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=BOUND)
    answer = client.post("/api/auth/login", json={"agent_no": agent_no, "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf"]
    return client


def a_call(i: int) -> dict[str, Any]:
    return {
        "direction": "inbound",
        "reason": "consult.tariff",
        "ring_at": datetime.now(UTC).isoformat(),
        "summary": f"压测来电 {i}",
    }


def test_beyond_capacity_requests_get_503_at_once_and_service_comes_back(small) -> None:  # type: ignore[no-untyped-def]
    application, hold = small
    with live_server(application) as base:
        agent = logged_in(base)
        holders = hold.take(base, 1)

        api = agent.get("/api/workorders")
        assert api.status_code == 503 and api.json() == {"detail": BUSY}
        assert int(api.headers["retry-after"]) >= 1
        write = agent.post("/api/calls", json=a_call(0))
        assert write.status_code == 503 and write.json() == {"detail": BUSY}
        page = httpx.get(f"{base}/login", timeout=BOUND)
        assert page.status_code == 503 and "服务器繁忙" in page.text and "retry-after" in page.headers
        assert httpx.get(f"{base}/healthz", timeout=BOUND).json()["active"] == 1
        assert httpx.get(f"{base}/static/kefu.css", timeout=BOUND).status_code == 200

        hold.release.set()
        for thread in holders:
            thread.join(BOUND)
        assert hold.answers == [200]
        assert agent.get("/api/workorders").status_code == 200
        assert agent.post("/api/calls", json=a_call(1)).status_code == 201
        assert httpx.get(f"{base}/login", timeout=BOUND).status_code == 200


def test_a_storm_of_requests_gets_answers_or_503_never_500_or_a_hang(database_url: str, tmp_path: Path) -> None:
    application = make_app(database_url, tmp_path, max_concurrent_requests=2, admission_wait_ms=0)
    with live_server(application) as base:
        agents = [logged_in(base, "10001"), logged_in(base, "10002")]

        def one(i: int) -> int:
            agent = agents[i % 2]
            match i % 4:
                case 0:
                    return agent.get("/api/customers", params={"q": "5678"}).status_code
                case 1:
                    customer = {"name": f"客户{i}", "phone": f"1370000{i:04d}"}
                    return agent.post("/api/customers", json=customer).status_code
                case 2:
                    return agent.post("/api/calls", json=a_call(i)).status_code
                case _:
                    return agent.get("/api/workorders").status_code

        with ThreadPoolExecutor(max_workers=24) as pool:
            statuses = list(pool.map(one, range(96), timeout=BOUND * 3))
        assert set(statuses) <= {200, 201, 503}, statuses
        # The storm is over: everything is served again at once.
        assert [one(i) for i in range(4)] == [200, 201, 201, 200]
    application.state.engine.dispose()


def test_no_free_database_connection_is_a_quick_503_not_a_30_second_wait(database_url: str, tmp_path: Path) -> None:
    application = make_app(database_url, tmp_path, max_concurrent_requests=2, db_pool_timeout=0.2)
    engine = application.state.engine
    with live_server(application) as base:
        agent = logged_in(base)
        taken = [engine.connect() for _ in range(engine.pool.size() + engine.pool._max_overflow)]
        try:
            answer = agent.get("/api/workorders")
            assert answer.status_code == 503 and answer.json() == {"detail": BUSY} and "retry-after" in answer.headers
        finally:
            for connection in taken:
                connection.close()
        assert agent.get("/api/workorders").status_code == 200
    engine.dispose()


def test_concurrent_writers_through_the_api_all_succeed(database_url: str, tmp_path: Path) -> None:
    """Twelve agents' browsers writing at once, room for all of them: every write is saved, none
    fails on a lock (SQLite: one writer at a time, the others wait their turn)."""
    application = make_app(database_url, tmp_path, max_concurrent_requests=16)
    with live_server(application) as base:
        clients = [logged_in(base, "10001" if i % 2 else "10002") for i in range(12)]

        def write(i: int) -> tuple[int, str]:
            client = clients[i % len(clients)]
            if i % 2:
                answer = client.post("/api/calls", json=a_call(i))
            else:
                answer = client.post("/api/customers", json={"name": f"并发客户{i}", "phone": f"1390000{i:04d}"})
            return answer.status_code, answer.text[:200]

        with ThreadPoolExecutor(max_workers=12) as pool:
            results = list(pool.map(write, range(120), timeout=BOUND * 3))
    assert [r for r in results if r[0] != 201] == []
    with application.state.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Customer).where(Customer.name.like("并发客户%"))) == 60
    application.state.engine.dispose()


def test_concurrent_write_transactions_take_turns(sessions) -> None:  # type: ignore[no-untyped-def]
    """Sixteen threads, each transaction reading, writing and keeping its write open a moment (as
    a slow request does): all commit; none sees "database is locked"."""
    errors: list[str] = []
    barrier = threading.Barrier(16)

    def work(n: int) -> None:
        barrier.wait(BOUND)
        for k in range(5):
            try:
                with transaction(sessions) as session:
                    session.scalar(select(func.count()).select_from(Customer))
                    customers.do_create_customer(
                        session, None, CustomerCreate(name=f"线程{n}-{k}", phone=f"13{n:03d}{k:06d}")
                    )
                    threading.Event().wait(0.02)
            except Exception as error:
                errors.append(repr(error)[:200])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BOUND * 3)
    assert errors == []
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 80


def test_sqlite_writer_without_a_turn_in_time_gets_503(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kefu.core.sqlite_writer import writer_lock

    monkeypatch.setattr(core_db, "SQLITE_BUSY_SECONDS", 0.3)
    application = make_app(f"sqlite:///{tmp_path / 'kefu.db'}", tmp_path)
    with live_server(application) as base:
        agent = logged_in(base)
        lock = writer_lock(str((tmp_path / "kefu.db").resolve()))
        assert lock.acquire(timeout=BOUND)  # another writer of this process holds the turn
        try:
            answer = agent.post("/api/customers", json={"name": "等不到", "phone": "13700001111"})
            assert answer.status_code == 503 and answer.json() == {"detail": BUSY}
        finally:
            lock.release()
        assert agent.post("/api/customers", json={"name": "轮到了", "phone": "13700001111"}).status_code == 201
    application.state.engine.dispose()
