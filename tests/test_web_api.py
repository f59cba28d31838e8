"""The REST API on SQLite and PostgreSQL: auth, CSRF, permissions, customers, audit, bad input."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import AppFactory, client_for
from kefu.core.db import transaction
from kefu.demo import DEMO_PASSWORD


@pytest.fixture
def app(app_factory: AppFactory) -> FastAPI:
    return app_factory(max_failed_logins=3)


def test_login_and_wrong_password(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    wrong = client.post("/api/auth/login", json={"agent_no": "10001", "password": "nope"})
    assert wrong.status_code == 401 and wrong.json()["detail"].startswith("工号或密码错误(再错 2 次")
    assert client.get("/api/auth/me").status_code == 401
    ok = client.post("/api/auth/login", json={"agent_no": "10001", "password": DEMO_PASSWORD})
    assert ok.status_code == 200 and ok.json()["user"]["role_label"] == "话务员"
    assert client.get("/api/auth/me").json()["agent_no"] == "10001"


def test_repeated_failures_pause_that_agent_no_from_that_address(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    for _ in range(3):
        client.post("/api/auth/login", json={"agent_no": "10002", "password": "nope"})
    paused = client.post("/api/auth/login", json={"agent_no": "10002", "password": DEMO_PASSWORD})
    assert paused.status_code == 401 and "失败次数过多" in paused.json()["detail"]


def test_writes_need_the_csrf_token(app) -> None:  # type: ignore[no-untyped-def]
    client = client_for(app)
    token = client.headers.pop("X-CSRF-Token")
    refused = client.post("/api/customers", json={"name": "新客户", "phone": "13700000000"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    client.headers["X-CSRF-Token"] = token
    assert client.post("/api/customers", json={"name": "新客户", "phone": "13700000000"}).status_code == 201


def test_customer_lookup_is_masked_until_verified(app) -> None:  # type: ignore[no-untyped-def]
    client = client_for(app)
    [zhang] = client.get("/api/customers", params={"q": "13812345678"}).json()
    assert zhang["masked"] and zhang["phone"] == "138********" and zhang["name"] == "张*"
    wrong = client.post(f"/api/customers/{zhang['id']}/verify", json={"phone_last4": "0000"})
    assert wrong.status_code == 422 and "不符" in wrong.json()["detail"]
    ok = client.post(f"/api/customers/{zhang['id']}/verify", json={"phone_last4": "5678"})
    assert ok.status_code == 200 and ok.json()["phone"] == "13812345678" and ok.json()["verified_level"] == 1


def test_read_back_update_conflict_and_two_factor_rule(app) -> None:  # type: ignore[no-untyped-def]
    client = client_for(app)
    [zhang] = client.get("/api/customers", params={"q": "A1001"}).json()
    customer = f"/api/customers/{zhang['id']}"
    client.post(f"{customer}/verify", json={"phone_last4": "5678"})
    change = {"version": 1, "address": "上海市浦东新区世纪大道1号"}
    assert client.post(f"{customer}/preview", json=change).json() == {
        "address": ["北京市海淀区科技路100号", "上海市浦东新区世纪大道1号"]
    }
    assert client.patch(customer, json=change).json()["version"] == 2
    stale = client.patch(customer, json={"version": 1, "notes": "迟到的修改"})
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["detail"]
    phone = client.patch(customer, json={"version": 2, "phone": "13900001111"})
    assert phone.status_code == 403 and "两项" in phone.json()["detail"]
    assert client.get(customer).json()["notes"] == "智能家居标准版用户"  # nothing lost


def test_permissions_are_checked_on_every_endpoint(app) -> None:  # type: ignore[no-untyped-def]
    qa = client_for(app, "30001")
    assert qa.get("/api/customers", params={"q": "5678"}).status_code == 200
    denied = qa.post("/api/customers", json={"name": "x", "phone": "13700000001"})
    assert denied.status_code == 403 and "质检员无权" in denied.json()["detail"]
    assert client_for(app, "10001").get("/api/audit").status_code == 403
    entries = client_for(app, "50001").get("/api/audit", params={"entity": "customer"}).json()["entries"]
    assert any(e["action"] == "lookup" for e in entries) or entries == []


def test_every_lookup_and_change_is_in_the_audit_log(app) -> None:  # type: ignore[no-untyped-def]
    agent = client_for(app)
    [zhang] = agent.get("/api/customers", params={"q": "张伟"}).json()
    agent.post(f"/api/customers/{zhang['id']}/verify", json={"phone_last4": "5678"})
    agent.patch(f"/api/customers/{zhang['id']}", json={"version": 1, "notes": "已回访"})
    entries = client_for(app, "50001").get("/api/audit", params={"entity": "customer"}).json()["entries"]
    actions = [e["action"] for e in entries]
    assert {"lookup", "verify", "update"} <= set(actions)
    update = next(e for e in entries if e["action"] == "update")
    assert update["changes"] == {"notes": ["智能家居标准版用户", "已回访"]}


def test_bad_input_is_explained_per_field(app) -> None:  # type: ignore[no-untyped-def]
    client = client_for(app)
    bad = client.post("/api/customers", json={"name": "", "phone": "12345", "vip": True})
    assert bad.status_code == 422
    fields = {e["field"]: e["message"] for e in bad.json()["errors"]}
    assert "电话号码格式不正确" in fields["phone"] and "name" in fields and "vip" in fields
    assert client.get("/api/customers/99999").status_code == 404


def test_expired_password_must_be_changed_first(app, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from kefu.accounts.models import User

    with transaction(app.state.sessions) as session:
        session.execute(
            update(User)
            .where(User.agent_no == "10002")
            .values(password_changed_at=datetime.now(UTC) - timedelta(days=200))
        )
    client = TestClient(app)
    answer = client.post("/api/auth/login", json={"agent_no": "10002", "password": DEMO_PASSWORD})
    assert answer.json()["must_change_password"] is True
    client.headers["X-CSRF-Token"] = answer.json()["csrf"]
    blocked = client.get("/api/customers", params={"q": "5678"})
    assert blocked.status_code == 403 and "密码已过期" in blocked.json()["detail"]
    changed = client.post("/api/auth/password", json={"old": DEMO_PASSWORD, "new": "fresh2026pw"})
    assert changed.status_code == 200
    assert client.get("/api/customers", params={"q": "5678"}).status_code == 200


def test_idle_session_times_out(app, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    client = client_for(app)
    assert client.get("/api/auth/me").status_code == 200
    later = datetime.now(UTC) + timedelta(minutes=31)
    monkeypatch.setattr("kefu.http.session.now", lambda: later)
    timed_out = client.get("/api/auth/me")
    assert timed_out.status_code == 401 and "30 分钟未操作" in timed_out.json()["detail"]


def test_openapi_document_lists_the_api(app) -> None:  # type: ignore[no-untyped-def]
    paths = TestClient(app).get("/api/openapi.json").json()["paths"]
    assert {"/api/auth/login", "/api/customers", "/api/customers/{customer_id}", "/api/audit"} <= set(paths)


def test_end_of_call_forgets_verifications_and_logout_ends_the_session(app) -> None:  # type: ignore[no-untyped-def]
    client = client_for(app)
    zhang = client.get("/api/customers", params={"q": "13812345678"}).json()[0]
    assert client.post(f"/api/customers/{zhang['id']}/verify", json={"phone_last4": "5678"}).status_code == 200
    assert client.get(f"/api/customers/{zhang['id']}").json()["phone"] == "13812345678"
    assert client.post("/api/session/forget-verifications").json() == {"ok": True}
    assert client.get(f"/api/customers/{zhang['id']}").json()["phone"] != "13812345678"  # the next caller: masked
    assert client.post("/api/auth/logout").status_code == 200
    assert client.get("/api/auth/me").status_code == 401
    after = client.post("/api/session/forget-verifications")  # the session and its CSRF token are gone
    assert after.status_code == 403 and "CSRF" in after.json()["detail"]
