"""What a browser gets for an address that does not exist or a bug: a Chinese page with the way
back to 工作台; programs under /api keep JSON."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from conftest import client_for
from kefu.core.settings import Settings
from kefu.demo import seed_demo
from kefu.web.app import create_app

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    """The platform on SQLite (the pages, not the database, are under test), with two routes that fail."""
    application = create_app(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'k.db'}", secret_key="t"))
    seed_demo(application.state.sessions, activity=False, must_change_password=False)
    failing = APIRouter()

    @failing.get("/broken")
    def broken_page() -> None:
        raise RuntimeError("a bug")

    @failing.get("/api/broken")
    def broken_api() -> None:
        raise RuntimeError("a bug")

    application.include_router(failing)
    return application


def test_an_unknown_address_is_a_chinese_page(app: FastAPI) -> None:
    anonymous = TestClient(app).get("/no/such/page", headers=BROWSER)
    assert anonymous.status_code == 404 and anonymous.headers["content-type"].startswith("text/html")
    assert "<h1>页面不存在</h1>" in anonymous.text and "/no/such/page" in anonymous.text
    assert '<a href="/">返回工作台</a>' in anonymous.text and "Not Found" not in anonymous.text
    agent = client_for(app, "10001")
    known = agent.get("/no/such/page", headers=BROWSER)
    assert known.status_code == 404 and "李晓" in known.text  # the header of every page, still there
    missing = agent.get("/calls/999999", headers=BROWSER)  # a record that is not there
    assert missing.status_code == 404 and "<h1>页面不存在</h1>" in missing.text and "返回工作台" in missing.text


def test_the_api_keeps_json(app: FastAPI) -> None:
    answer = TestClient(app).get("/api/no/such/thing", headers=BROWSER)
    assert answer.status_code == 404 and answer.json() == {"detail": "没有这个页面或接口"}
    broken = TestClient(app, raise_server_exceptions=False).get("/api/broken")
    assert broken.status_code == 500 and "服务器内部错误" in broken.json()["detail"]


def test_a_bug_is_a_chinese_page_without_the_trace(app: FastAPI) -> None:
    answer = TestClient(app, raise_server_exceptions=False).get("/broken", headers=BROWSER)
    assert answer.status_code == 500 and answer.headers["content-type"].startswith("text/html")
    assert "<h1>服务器出错了</h1>" in answer.text and '<a href="/">返回工作台</a>' in answer.text
    assert "Internal Server Error" not in answer.text and "a bug" not in answer.text and "Traceback" not in answer.text
    # answered outside the middleware, with the same security headers as every page
    assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in answer.headers["content-security-policy"]
