"""The knowledge search index is built in the background when the app starts: ready before the first
search, and a search that comes during the build waits for it instead of finding nothing."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from kefu.core.settings import Settings
from kefu.demo import DEMO_PASSWORD, seed_demo
from kefu.knowledge.api import IndexHolder, index_holder
from kefu.knowledge.demo import FAQ_004
from kefu.web.app import create_app

FORGOT_PASSWORD = FAQ_004[0]  # 忘记密码怎么办?


class HeldFirstSession:
    """The app's session factory, except that the first session (the index build's) is handed out
    only once ``release`` is set: the build is then under way and cannot finish before."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.release = threading.Event()
        self.build_started = threading.Event()
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> Session:
        with self._lock:
            self.calls += 1
            first = self.calls == 1
        if first:
            self.build_started.set()
            assert self.release.wait(60)
        return self.sessions()


@pytest.fixture
def app(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, database_url=database_url, secret_key="test-secret", escalation_interval=0)
    application = create_app(settings)
    seed_demo(application.state.sessions, must_change_password=False)
    yield application
    application.state.engine.dispose()


def login(client: TestClient) -> None:
    answer = client.post("/api/auth/login", json={"agent_no": "10001", "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text


def test_the_index_is_ready_after_startup_without_a_search(app: Any) -> None:
    assert getattr(app.state, "knowledge_index", None) is None  # nothing built before startup
    with TestClient(app) as client:
        holder = index_holder(app)
        assert holder.wait_built(timeout=120)  # built by startup: no search has run
        index = holder.get()
        assert len(index) > len(FAQ_004) and index.search("忘记密码怎么办")[0].title == FORGOT_PASSWORD.question
        login(client)
        hits = client.get("/api/knowledge/search", params={"q": "忘記密碼怎麼辦"}).json()["hits"]
        assert hits[0]["title"] == FORGOT_PASSWORD.question


def test_a_search_during_the_build_waits_for_it(app: Any) -> None:
    held = HeldFirstSession(app.state.sessions)
    app.state.sessions = held  # the startup build takes the first session
    with TestClient(app) as client:
        assert held.build_started.wait(60)  # the build is under way and holds the index
        holder = index_holder(app)
        assert not holder.built
        login(client)
        answers: list[Any] = []
        searching = threading.Event()

        def search() -> None:
            searching.set()
            answers.append(client.get("/api/knowledge/search", params={"q": "忘記密碼怎麼辦"}))

        thread = threading.Thread(target=search)
        thread.start()
        assert searching.wait(60)
        held.release.set()  # let the build finish; the search gets the finished index
        thread.join(120)
        [answer] = answers
        assert answer.status_code == 200, answer.text
        hits = answer.json()["hits"]
        assert hits and hits[0]["title"] == FORGOT_PASSWORD.question and hits[0]["snippet"] == FORGOT_PASSWORD.answer
        assert holder.built


def test_a_failed_startup_build_is_done_by_the_first_search(app: Any) -> None:
    sessions = app.state.sessions
    attempts = []

    def failing_first(*args: Any) -> Session:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("database away")
        return sessions()

    holder = IndexHolder(failing_first, app.state.rulebook)  # type: ignore[arg-type]
    holder.build_in_background()
    assert not holder.wait_built(timeout=60)  # failed (and logged), not left half-built
    hits = holder.get().search("忘记密码怎么办")  # the first search builds it
    assert hits[0].title == FORGOT_PASSWORD.question and len(attempts) == 2
