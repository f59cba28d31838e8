"""Sessions kept on the server (logout and a password change really end them), Secure cookies
behind a trusted proxy only, logins that say nothing about which 工号 exist, demo accounts that
must change the shared password, and the security headers, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import AppFactory
from kefu.accounts.models import User, UserSession
from kefu.core.settings import Settings
from kefu.demo import DEMO_PASSWORD, seed_demo
from kefu.web.app import create_app

NEW_PASSWORD = "lanhai-7-shuijiao"


def make_app(database_url: str, tmp_path: Path, *, must_change: bool = False, **settings: Any):  # type: ignore[no-untyped-def]
    application = create_app(
        Settings(data_dir=tmp_path, database_url=database_url, secret_key="test-secret", **settings)
    )
    seed_demo(application.state.sessions, activity=False, must_change_password=must_change)
    return application


@pytest.fixture
def app(app_factory: AppFactory) -> FastAPI:
    return app_factory(max_failed_logins=3)


def logged_in(app, agent_no: str = "10001", password: str = DEMO_PASSWORD, **client: Any) -> TestClient:  # type: ignore[no-untyped-def]
    browser = TestClient(app, **client)
    answer = browser.post("/api/auth/login", json={"agent_no": agent_no, "password": password})
    assert answer.status_code == 200, answer.text
    browser.headers["X-CSRF-Token"] = answer.json()["csrf"]
    return browser


def copy_of(app, browser: TestClient) -> TestClient:  # type: ignore[no-untyped-def]
    """Another program holding a copy of ``browser``'s cookie (stolen, or saved before logout)."""
    thief = TestClient(app)
    thief.cookies.set("kefu_session", browser.cookies["kefu_session"])
    thief.headers["X-CSRF-Token"] = browser.headers["X-CSRF-Token"]
    return thief


# ---------------------------------------------------------------- ending sessions


def test_a_copied_cookie_is_refused_after_logout(app) -> None:  # type: ignore[no-untyped-def]
    browser = logged_in(app)
    thief = copy_of(app, browser)
    assert thief.get("/api/auth/me").status_code == 200  # the copy works while the session lives
    assert browser.post("/api/auth/logout").status_code == 200
    refused = thief.get("/api/auth/me")
    assert refused.status_code == 401 and "登录已失效" in refused.json()["detail"]
    assert browser.get("/api/auth/me").status_code == 401


def test_logout_page_ends_the_session_too(app) -> None:  # type: ignore[no-untyped-def]
    browser = logged_in(app)
    thief = copy_of(app, browser)
    assert browser.post("/logout", data={"csrf": browser.headers["X-CSRF-Token"]}).status_code == 200
    assert thief.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_a_password_change_ends_every_other_session(app) -> None:  # type: ignore[no-untyped-def]
    here, elsewhere = logged_in(app), logged_in(app)
    thief = copy_of(app, here)
    old_cookie = here.cookies["kefu_session"]
    changed = here.post("/api/auth/password", json={"old": DEMO_PASSWORD, "new": NEW_PASSWORD})
    assert changed.status_code == 200 and changed.json()["ended_sessions"] == 1
    assert here.cookies["kefu_session"] != old_cookie  # a new session id for this browser
    assert here.get("/api/auth/me").status_code == 200
    assert elsewhere.get("/api/auth/me").status_code == 401
    assert thief.get("/api/auth/me").status_code == 401  # the copy from before the change
    with app.state.sessions() as session:
        reasons = session.scalars(select(UserSession.end_reason).where(UserSession.ended_at.is_not(None))).all()
    assert sorted(reasons) == ["password_change", "password_change"]


def test_the_password_page_ends_other_sessions(app) -> None:  # type: ignore[no-untyped-def]
    here, elsewhere = logged_in(app), logged_in(app)
    form = {"csrf": here.headers["X-CSRF-Token"], "old": DEMO_PASSWORD, "new": NEW_PASSWORD, "again": NEW_PASSWORD}
    done = here.post("/password", data=form)
    assert done.status_code == 200 and "其他 1 处登录已退出" in done.text
    assert here.get("/api/auth/me").status_code == 200 and elsewhere.get("/api/auth/me").status_code == 401


def test_idle_time_is_decided_on_the_server(app, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    browser = logged_in(app)
    start = datetime.now(UTC)
    for minutes in (20, 40, 60):  # used every 20 minutes: alive
        monkeypatch.setattr("kefu.http.session.now", lambda m=minutes: start + timedelta(minutes=m))
        assert browser.get("/api/auth/me").status_code == 200
    monkeypatch.setattr("kefu.http.session.now", lambda: start + timedelta(minutes=91))
    thief = copy_of(app, browser)  # even a cookie re-sent unchanged cannot stretch it
    timed_out = thief.get("/api/auth/me")
    assert timed_out.status_code == 401 and "30 分钟未操作" in timed_out.json()["detail"]
    assert browser.get("/api/auth/me").status_code == 401


def test_a_session_ends_after_a_working_day_however_busy(app, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    browser = logged_in(app)
    start = datetime.now(UTC)
    for minutes in range(20, 12 * 60, 20):
        monkeypatch.setattr("kefu.http.session.now", lambda m=minutes: start + timedelta(minutes=m))
        assert browser.get("/api/auth/me").status_code == 200
    monkeypatch.setattr("kefu.http.session.now", lambda: start + timedelta(hours=12, minutes=1))
    assert "12 小时" in browser.get("/api/auth/me").json()["detail"]


def test_reading_pages_writes_last_seen_at_most_once_a_minute(app, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    browser = logged_in(app)
    start = datetime.now(UTC)

    def last_seen() -> datetime:
        with app.state.sessions() as session:
            seen = session.scalar(select(UserSession.last_seen_at))
            return seen if seen.tzinfo else seen.replace(tzinfo=UTC)

    first = last_seen()
    for seconds in (10, 30, 50):
        monkeypatch.setattr("kefu.http.session.now", lambda s=seconds: start + timedelta(seconds=s))
        assert browser.get("/api/auth/me").status_code == 200
    assert last_seen() == first
    monkeypatch.setattr("kefu.http.session.now", lambda: start + timedelta(seconds=75))
    assert browser.get("/api/auth/me").status_code == 200
    assert abs(last_seen() - (start + timedelta(seconds=75))) < timedelta(seconds=1)


def test_the_cookie_holds_a_random_token_and_the_database_only_its_hash(app) -> None:  # type: ignore[no-untyped-def]
    import base64
    import json

    browser = logged_in(app)
    payload = browser.cookies["kefu_session"].split(".")[0]
    data = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    assert set(data) == {"sid", "csrf"} and len(data["sid"]) >= 40
    with app.state.sessions() as session:
        row = session.scalars(select(UserSession)).one()
    assert data["sid"] not in row.token_hash and len(row.token_hash) == 64
    assert row.address == "testclient" and row.user_agent == "testclient"


# ---------------------------------------------------------------- my sessions, everyone's sessions


def test_a_user_sees_and_ends_their_own_sessions(app) -> None:  # type: ignore[no-untyped-def]
    office, home = logged_in(app), logged_in(app)
    mine = office.get("/api/auth/sessions").json()
    assert len(mine) == 2 and [s["current"] for s in mine].count(True) == 1
    other = next(s for s in mine if not s["current"])
    assert office.delete(f"/api/auth/sessions/{other['id']}").json() == {"ended": 1}
    assert home.get("/api/auth/me").status_code == 401 and office.get("/api/auth/me").status_code == 200
    colleague = logged_in(app, "10002")
    theirs = colleague.get("/api/auth/sessions").json()[0]["id"]
    assert office.delete(f"/api/auth/sessions/{theirs}").status_code == 404  # not mine: no such session
    assert office.get("/api/sessions").status_code == 403
    assert colleague.get("/api/auth/me").status_code == 200


def test_a_supervisor_sees_and_ends_anyones_sessions(app) -> None:  # type: ignore[no-untyped-def]
    agent, supervisor = logged_in(app, "10001"), logged_in(app, "50001")
    listed = supervisor.get("/api/sessions").json()
    assert {s["agent_no"] for s in listed} == {"10001", "50001"}
    agents = supervisor.get("/api/sessions", params={"user_id": listed[-1]["user_id"]}).json()
    assert [s["agent_no"] for s in agents] == [listed[-1]["agent_no"]]
    agent_id = next(s["user_id"] for s in listed if s["agent_no"] == "10001")
    assert supervisor.delete(f"/api/users/{agent_id}/sessions").json() == {"ended": 1}
    assert agent.get("/api/auth/me").status_code == 401
    admin = logged_in(app, "90001")
    admin_id = next(s["user_id"] for s in supervisor.get("/api/sessions").json() if s["agent_no"] == "90001")
    refused = supervisor.delete(f"/api/users/{admin_id}/sessions")
    assert refused.status_code == 403 and admin.get("/api/auth/me").status_code == 200
    audit = admin.get("/api/audit", params={"entity": "user"}).json()["entries"]
    assert any(e["action"] == "session_end" for e in audit)


def test_the_sessions_page_shows_and_ends_logins(app) -> None:  # type: ignore[no-untyped-def]
    agent, other_pc, supervisor = logged_in(app, "10001"), logged_in(app, "10001"), logged_in(app, "50001")
    mine = agent.get("/sessions")
    assert mine.status_code == 200 and mine.text.count("data-session=") == 2 and "当前" in mine.text
    assert "王敏" not in mine.text and "刘洋" not in mine.text  # an agent sees only their own
    everyone = supervisor.get("/sessions").text
    assert everyone.count("data-session=") == 3 and "李晓" in everyone and "结束此人全部登录" in everyone
    other_id = next(s["id"] for s in other_pc.get("/api/auth/sessions").json() if s["current"])
    ended = supervisor.post(f"/sessions/{other_id}/end", data={"csrf": supervisor.headers["X-CSRF-Token"]})
    assert ended.status_code == 200 and "已结束该登录" in ended.text
    assert other_pc.get("/api/auth/me").status_code == 401 and agent.get("/api/auth/me").status_code == 200
    own_id = agent.get("/api/auth/sessions").json()[0]["id"]
    logged_out = agent.post(f"/sessions/{own_id}/end", data={"csrf": agent.headers["X-CSRF-Token"]})
    assert logged_out.url.path == "/login" and agent.get("/api/auth/me").status_code == 401


# ---------------------------------------------------------------- the cookie


def session_cookie(answer: httpx.Response) -> str:
    return next(v for v in answer.headers.get_list("set-cookie") if v.startswith("kefu_session="))


def test_the_cookie_is_httponly_and_samesite_and_not_secure_over_plain_http(app) -> None:  # type: ignore[no-untyped-def]
    answer = TestClient(app).post("/api/auth/login", json={"agent_no": "10001", "password": DEMO_PASSWORD})
    flags = session_cookie(answer).lower()
    assert "httponly" in flags and "samesite=lax" in flags and "secure" not in flags


def test_the_cookie_is_secure_behind_a_trusted_proxy_only(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url, tmp_path, trusted_proxies="10.0.0.1")
    login = {"agent_no": "10001", "password": DEMO_PASSWORD}
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.168.7.20"}
    proxied = TestClient(app, client=("10.0.0.1", 40000)).post("/api/auth/login", json=login, headers=https)
    assert "; secure" in session_cookie(proxied).lower()
    assert "max-age=31536000" in proxied.headers["strict-transport-security"]
    forged = TestClient(app, client=("10.0.0.99", 40000)).post("/api/auth/login", json=login, headers=https)
    assert "secure" not in session_cookie(forged).lower() and "strict-transport-security" not in forged.headers
    with app.state.sessions() as session:
        addresses = session.scalars(select(UserSession.address).order_by(UserSession.id)).all()
    assert addresses == ["192.168.7.20", "10.0.0.99"]  # only the trusted proxy may name the client
    app.state.engine.dispose()


def test_kefu_https_makes_the_cookie_always_secure(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url, tmp_path, https=True)
    answer = TestClient(app).post("/api/auth/login", json={"agent_no": "10001", "password": DEMO_PASSWORD})
    assert "; secure" in session_cookie(answer).lower()
    app.state.engine.dispose()


# ---------------------------------------------------------------- logging in


def test_known_and_unknown_agent_no_are_answered_alike(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)

    def attempt(agent_no: str) -> tuple[int, str]:
        answer = client.post("/api/auth/login", json={"agent_no": agent_no, "password": "wrong-pass1"})
        return answer.status_code, answer.json()["detail"]

    known = [attempt("10001") for _ in range(4)]
    unknown = [attempt("77777") for _ in range(4)]
    assert known == unknown and known[0][0] == 401 and "失败次数过多" in known[-1][1]
    token = login_form_token(client)
    page = [
        re.search(r'class="error"[^>]*>([^<]*)<', client.post("/login", data=form).text)[1]
        for form in ({"csrf": token, "agent_no": no, "password": "wrong-pass1"} for no in ("10002", "77778"))
    ]
    assert page[0] == page[1] and page[0].startswith("工号或密码错误")


def test_a_stranger_hammering_from_elsewhere_does_not_lock_the_user_out(app) -> None:  # type: ignore[no-untyped-def]
    stranger = TestClient(app, client=("203.0.113.9", 50000))
    for _ in range(10):
        stranger.post("/api/auth/login", json={"agent_no": "10001", "password": "guess-pass1"})
    paused = stranger.post("/api/auth/login", json={"agent_no": "10001", "password": DEMO_PASSWORD})
    assert paused.status_code == 401 and "失败次数过多" in paused.json()["detail"]
    assert logged_in(app, "10001", client=("10.1.2.3", 50000)).get("/api/auth/me").status_code == 200


def test_the_throttle_is_shared_by_every_server_process(database_url: str, tmp_path: Path) -> None:
    first = make_app(database_url, tmp_path, max_failed_logins=2)
    second = create_app(  # another process on the same database
        Settings(data_dir=tmp_path, database_url=database_url, secret_key="test-secret", max_failed_logins=2)
    )
    for app in (first, second):
        TestClient(app).post("/api/auth/login", json={"agent_no": "10001", "password": "guess-pass1"})
    paused = TestClient(second).post("/api/auth/login", json={"agent_no": "10001", "password": DEMO_PASSWORD})
    assert "失败次数过多" in paused.json()["detail"]
    first.state.engine.dispose()
    second.state.engine.dispose()


def test_a_weak_new_password_is_refused_with_the_reason(app) -> None:  # type: ignore[no-untyped-def]
    browser = logged_in(app)
    weak_ones = [("abcd1234", "常见密码"), ("password1", "常见密码"), ("x10001-ok", "工号"), ("lixiao-2026", "拼音")]
    for weak, reason in weak_ones:
        refused = browser.post("/api/auth/password", json={"old": DEMO_PASSWORD, "new": weak})
        assert refused.status_code == 422 and reason in refused.json()["detail"], weak
    page = browser.post(
        "/password",
        data={"csrf": browser.headers["X-CSRF-Token"], "old": DEMO_PASSWORD, "new": "abcd1234", "again": "abcd1234"},
    )
    assert page.status_code == 422 and "常见密码" in page.text


# ---------------------------------------------------------------- demo accounts


def test_demo_accounts_must_change_the_shared_password_first(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url, tmp_path, must_change=True)  # what `kefu serve` seeds
    browser = TestClient(app)
    answer = browser.post("/api/auth/login", json={"agent_no": "10001", "password": DEMO_PASSWORD})
    assert answer.json()["must_change_password"] is True
    browser.headers["X-CSRF-Token"] = answer.json()["csrf"]
    blocked = browser.get("/api/customers", params={"q": "5678"})
    assert blocked.status_code == 403 and "首次登录请先修改初始密码" in blocked.json()["detail"]
    assert browser.get("/", follow_redirects=False).headers["location"] == "/password"
    assert browser.post("/api/auth/password", json={"old": DEMO_PASSWORD, "new": NEW_PASSWORD}).status_code == 200
    assert browser.get("/api/customers", params={"q": "5678"}).status_code == 200
    page = TestClient(app)  # the login form sends a demo user to the password page with the reason
    form = {"csrf": login_form_token(page), "agent_no": "10002", "password": DEMO_PASSWORD}
    arrived = page.post("/login", data=form)
    assert arrived.url.path == "/password" and "首次登录请先修改初始密码" in arrived.text
    app.state.engine.dispose()


def login_form_token(client: TestClient) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)[1]


def test_kefu_serve_seeds_demo_accounts_that_must_change_their_password(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "KEFU_DATA_DIR": str(tmp_path / "data"), "KEFU_ESCALATION_INTERVAL": "0"}
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("KEFU_DATABASE_URL", None)
    kefu = Path(sys.executable).parent / "kefu"
    server = subprocess.Popen(
        [str(kefu), "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                login = httpx.post(f"{base}/api/auth/login", json={"agent_no": "10001", "password": DEMO_PASSWORD})
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("kefu serve did not answer within 60 s")
        assert login.status_code == 200 and login.json()["must_change_password"] is True
    finally:
        server.kill()
        output = server.communicate(timeout=30)[0]
    assert "首次登录须修改密码" in output


# ---------------------------------------------------------------- headers


def test_pages_and_api_answers_carry_the_security_headers(app) -> None:  # type: ignore[no-untyped-def]
    browser = logged_in(app)
    for path in ("/login", "/", "/customers", "/api/auth/me", "/api/customers?q=5678", "/api/nothing-here"):
        answer = browser.get(path)
        headers = answer.headers
        assert headers["cache-control"] == "no-store", path
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
        policy = headers["content-security-policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy and "unsafe-eval" not in policy
    static = browser.get("/static/kefu.js")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")
    assert static.headers["x-content-type-options"] == "nosniff"
    refused = TestClient(app).get("/api/auth/me")  # refusals too
    assert refused.status_code == 401 and refused.headers["cache-control"] == "no-store"


def test_pages_carry_no_inline_script_or_event_handler() -> None:
    """The Content-Security-Policy runs only /static scripts: a template with an inline script
    or an on…= attribute would be dead in the browser."""
    folder = Path(__file__).parents[1] / "src/kefu/web/templates"
    for template in folder.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert 'src="/static/' in tag or 'type="application/json"' in tag, (template.name, tag)
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
        assert "javascript:" not in text, template.name


def test_a_user_from_the_database_is_needed_not_an_old_cookie(app) -> None:  # type: ignore[no-untyped-def]
    browser = logged_in(app)
    with app.state.sessions() as session, session.begin():
        session.scalars(select(User).where(User.agent_no == "10001")).one().active = False
    refused = browser.get("/api/auth/me")
    assert refused.status_code == 401 and "停用" in refused.json()["detail"]


# ---------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from conftest import live_server

    application = create_app(Settings(data_dir=tmp_path_factory.mktemp("kefu"), secret_key="browser-test"))
    seed_demo(application.state.sessions)  # as `kefu serve` does: the demo accounts must change the password
    with live_server(application) as url:
        yield url


def test_in_the_browser_a_demo_user_changes_the_password_first_and_no_page_breaks_the_policy(browser, live) -> None:  # type: ignore[no-untyped-def]
    from browser_helpers import login

    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=live)
    page = context.new_page()
    problems: list[str] = []
    page.on(  # script errors and policy violations (not answers such as the 422 of a refused password)
        "console",
        lambda message: problems.append(message.text)
        if message.type == "error" and not message.text.startswith("Failed to load resource")
        else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))

    login(page, live, "50001")
    assert page.url.endswith("/password") and "首次登录请先修改初始密码" in page.locator(".flash").inner_text()
    page.goto("/customers")  # nothing else until the password is changed
    assert page.url.endswith("/password")
    page.get_by_label("原密码").fill(DEMO_PASSWORD)
    page.get_by_label("新密码", exact=True).fill("abcd1234")
    page.get_by_label("再次输入新密码").fill("abcd1234")
    page.get_by_role("button", name="保存").click()
    assert "常见密码" in page.locator("[role=alert]").inner_text()
    page.get_by_label("原密码").fill(DEMO_PASSWORD)
    page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="保存").click()
    assert "密码已修改" in page.locator(".flash").inner_text() and page.locator("h1").inner_text() == "工作台"

    page.keyboard.press("/")  # static/kefu.js: "/" focuses the search box
    assert page.evaluate("document.activeElement.type") == "search"
    page.goto("/workorders/new")  # static/workorder_new.js reads the templates from a JSON block
    before = page.locator("#workorder-form label.req[data-field]").count()
    types = page.locator("#type option").evaluate_all("options => options.map(o => o.value)")
    counts = set()
    for value in types:
        page.select_option("#type", value)
        counts.add(page.locator("#workorder-form label.req[data-field]").count())
    assert before >= 0 and len(counts) > 1  # the required fields follow the type
    page.goto("/audit")  # <select data-autosubmit>
    with page.expect_navigation():
        page.select_option("select[name=entity]", "user")
    assert "entity=user" in page.url
    for path in ("/customers", "/workorders", "/calls", "/knowledge", "/knowledge/new", "/assist", "/import",
                 "/quality/rulebooks", "/quality/rulebooks/new", "/quality/reviews", "/quality/reports"):  # fmt: skip
        page.goto(path)
        assert page.locator("h1").count() >= 1, path
    context.close()
    assert problems == []
