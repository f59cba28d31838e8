from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kefu.inspection.engine import Inspector
from kefu.inspection.scorecard import Finding, Report
from kefu.inspection.transcript import Transcript
from kefu.rulebook.loader import load_rulebook
from kefu.rulebook.schema import Rulebook


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


# The real data beside the repository (shared/data, see its README); never inside the package.
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

POSTGRES_URL = os.environ.get("KEFU_TEST_POSTGRES_URL")  # .ci/run starts a real server and sets it


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each database test runs on SQLite and on a real PostgreSQL, each time on an empty schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kefu.db'}"
    if not POSTGRES_URL:
        message = "KEFU_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def sessions(database_url: str):  # type: ignore[no-untyped-def]
    from kefu.core.db import make_engine, migrate, session_factory

    migrate(database_url)
    engine = make_engine(database_url)
    yield session_factory(engine)
    engine.dispose()


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
