"""Bad input at the boundary, on SQLite and PostgreSQL: ids past what a column holds, numbers that
are not finite, bodies too deep or too big, NUL characters, LIKE wildcards, and stored values an
older version left behind. Each is a clear 4xx in Chinese (or handled), never a 500."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import client_for
from kefu.accounts import service as accounts
from kefu.accounts.models import Role
from kefu.calls.models import CallRecord
from kefu.calls.schemas import MAX_TRANSCRIPT_CHARS, MAX_TURNS
from kefu.core.db import transaction
from kefu.core.fields import MAX_ID
from kefu.customers.models import Customer
from kefu.inspection.parsers import parse_text
from kefu.web.app import routers
from kefu.web.input_guard import MAX_BODY_BYTES

HUGE = 2**64  # past 64 bits: SQLite refuses it, PostgreSQL's integer ends at 2**31 - 1
PAST_INT4 = MAX_ID + 1


@pytest.fixture
def admin(app: FastAPI) -> TestClient:
    """An administrator logged in through the API (an account made here, not a demo login)."""
    password = secrets.token_urlsafe(16)
    with transaction(app.state.sessions) as session:
        accounts.do_create_user(
            session, None, agent_no="99002", name="边界测试", role=Role.ADMIN, password=password,
            must_change_password=False,
        )
    return client_for(app, "99002", password)


def reason(client: TestClient) -> str:
    return str(client.get("/api/calls/reasons").json()[0]["code"])


def new_call(client: TestClient, **fields: Any) -> Any:
    body = {"direction": "inbound", "ring_at": "2026-11-20 10:00", "reason": reason(client), **fields}
    return client.post("/api/calls", json=body)


def raw_call(client: TestClient, transcript: str) -> Any:
    """A call whose transcript is given as raw JSON text (numbers Python's json would not write)."""
    head = f'{{"direction": "inbound", "ring_at": "2026-11-20 10:00", "reason": "{reason(client)}", "transcript": '
    return client.post("/api/calls", content=head + transcript + "}", headers={"content-type": "application/json"})


def calls_stored(app: FastAPI) -> int:
    with app.state.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(CallRecord)) or 0)


def exported(app: FastAPI, client: TestClient, fmt: str = "csv") -> Any:
    """The call export, run as the background job it is (kefu.jobs): the file's answer."""
    from kefu.jobs.api import job_runner

    job = client.post("/api/calls/export", params={"format": fmt})
    assert job.status_code == 202, job.text
    job_runner(app).run_pending()
    done = client.get(job.json()["status_url"]).json()
    assert done["status"] == "done", done
    return client.get(done["download_url"])


def messages(answer: Any) -> str:
    body = answer.json()
    return body["detail"] + ";" + ";".join(f"{e['field']}:{e['message']}" for e in body.get("errors", []))


# ---------------------------------------------------------------- ids


def id_routes() -> list[tuple[str, str, list[str]]]:
    """Every route (API and pages) with an id in its path: (method, path, id names)."""
    found = []
    for route in (route for router in routers() for route in router.routes):
        if not isinstance(route, APIRoute):
            continue
        names = [p.name for p in route.dependant.path_params if p.name.endswith("_id")]
        if names and route.dependant.path_params[0].field_info.annotation is int:
            found.extend((method, route.path, names) for method in sorted(route.methods))
    return found


def test_every_route_refuses_an_id_no_row_can_have(app: FastAPI, admin: TestClient) -> None:
    routes = id_routes()
    assert len(routes) > 60  # the API's and the pages' (a guard against the walk finding nothing)
    for method, path, names in routes:
        for bad in (HUGE, PAST_INT4, 0):
            url = path
            for name in names:
                url = url.replace(f"{{{name}:int}}", str(bad)).replace(f"{{{name}}}", str(bad))
            extra = {"json": {}} if path.startswith("/api/") and method != "GET" else {}
            answer = admin.request(method, url, **extra)
            assert answer.status_code == 422, f"{method} {url}: {answer.status_code} {answer.text[:200]}"
            if path.startswith("/api/"):
                assert any(e["field"].startswith("path.") for e in answer.json()["errors"]), url


@pytest.mark.parametrize(
    "url",
    [
        f"/api/calls?customer_id={HUGE}",
        f"/api/calls?agent_id={PAST_INT4}",
        f"/api/calls?offset={HUGE}",
        f"/api/knowledge/articles?offset={HUGE}",
        f"/api/quality/sampling/runs?plan_id={HUGE}",
        f"/api/quality/reports?agent_id={HUGE}",
        "/api/audit?limit=-1",
    ],
)
def test_query_numbers_past_the_range_are_refused(admin: TestClient, url: str) -> None:
    answer = admin.get(url)
    assert answer.status_code == 422, answer.text
    assert "不" in messages(answer) or "有误" in messages(answer)


def test_ids_in_bodies_are_checked_too(admin: TestClient) -> None:
    answer = new_call(admin, customer_id=HUGE)
    assert answer.status_code == 422 and "customer_id:不能大于 2147483647" in messages(answer)
    answer = admin.delete(f"/api/quality/sampling/plans/1?version={HUGE}")
    assert answer.status_code == 422
    calibration = {"name": "x", "call_ids": [HUGE], "inspector_ids": [1, 2], "reference_id": 1}
    assert admin.post("/api/quality/calibration", json=calibration).status_code == 422


@pytest.mark.parametrize("version", ["abc", str(HUGE), ""])
def test_customer_edit_page_refuses_a_version_that_is_no_version(admin: TestClient, version: str) -> None:
    [zhang] = admin.get("/api/customers", params={"q": "A1001"}).json()
    answer = admin.post(f"/customers/{zhang['id']}/edit", data={"version": version, "notes": "改一下"})
    assert answer.status_code == 422
    assert any(reason in answer.text for reason in ("应为整数", "不能大于 2147483647")), version


def test_an_empty_account_id_is_no_account_id(admin: TestClient) -> None:
    """Found by the fuzz run: "" was stored, and a second customer without an account was a 500."""
    for phone in ("13700000101", "13700000102"):
        answer = admin.post("/api/customers", json={"name": "无账户", "phone": phone, "account_id": "", "email": ""})
        assert answer.status_code == 201, answer.text
        assert answer.json()["account_id"] is None


# ---------------------------------------------------------------- transcripts


def test_a_transcript_time_that_is_not_finite_is_refused(app: FastAPI, admin: TestClient) -> None:
    before = calls_stored(app)
    answer = raw_call(admin, '[{"speaker": "agent", "text": "您好", "start": 1e400, "end": 1e401}]')
    assert answer.status_code == 422
    assert "transcript.0.start:数字超出范围(应为有限的数字)" in messages(answer)
    answer = raw_call(admin, '[{"speaker": "agent", "text": "您好", "start": NaN, "end": Infinity}]')
    assert answer.status_code == 422 and "transcript.0.end:数字超出范围" in messages(answer)
    # The same transcript as text inside a JSON string reaches the transcript parser: refused there.
    text = json.dumps({"turns": [{"speaker": "agent", "text": "您好", "start": 1, "end": 1e400}]})
    answer = new_call(admin, transcript=text.replace("1e+400", "1e400"))
    assert answer.status_code == 422 and "转写第 1 句的 end:结束时间(end)应为有限的秒数,这里是 inf" in messages(answer)
    assert calls_stored(app) == before
    assert exported(app, admin).status_code == 200


def test_odd_stored_turns_do_not_break_reading_or_exporting(app: FastAPI, admin: TestClient, database_url: str) -> None:
    """Values an older version or a direct database edit left behind: shown as well as possible,
    never a 500 for every user of the list or the export."""
    call_id = new_call(admin, transcript="客服: 您好\n客户: 我想查话费").json()["id"]
    odd: list[Any] = [
        {"speaker": "agent", "text": "您好", "start": "x", "end": None},
        {"text": 5},
        "一句没有说话人的话",
        {"speaker": "customer", "text": "好的", "start": 1, "end": 2},
    ]
    if database_url.startswith("sqlite"):  # PostgreSQL's json type cannot even hold Infinity
        odd.append({"speaker": "agent", "text": "再见", "start": float("inf"), "end": float("nan")})
    with transaction(app.state.sessions) as session:
        session.get(CallRecord, call_id).transcript = odd
    assert admin.get(f"/api/calls/{call_id}").status_code == 200
    assert admin.get("/api/calls").status_code == 200
    for fmt in ("csv", "xlsx"):
        assert exported(app, admin, fmt).status_code == 200
    assert "客户: 好的" in exported(app, admin).content.decode("utf-8-sig")
    assert admin.get(f"/calls/{call_id}").status_code == 200


def test_deeply_nested_json_is_refused_in_chinese(app: FastAPI, admin: TestClient) -> None:
    before = calls_stored(app)
    deep = "[" * 1000 + "]" * 1000
    answer = raw_call(admin, deep)
    assert answer.status_code == 422 and "JSON 嵌套过深" in messages(answer)
    answer = new_call(admin, transcript=deep)  # the same as text: the transcript parser's turn
    assert answer.status_code == 422 and "嵌套过深" in messages(answer)
    answer = new_call(admin, summary=[[["x"]]] * 2)
    assert answer.status_code == 422
    assert calls_stored(app) == before


def test_transcript_size_is_bounded_on_the_platform(app: FastAPI, admin: TestClient) -> None:
    turn = {"speaker": "agent", "text": "您好"}
    answer = new_call(admin, transcript=[turn] * (MAX_TURNS + 1))
    assert answer.status_code == 422 and f"最多 {MAX_TURNS} 句" in messages(answer)
    long_text = "话" * (MAX_TRANSCRIPT_CHARS // 2 + 1)
    answer = new_call(admin, transcript=[{"speaker": "agent", "text": long_text}] * 2)
    assert answer.status_code == 422 and f"最多 {MAX_TRANSCRIPT_CHARS} 字" in messages(answer)
    assert new_call(admin, transcript=[turn] * MAX_TURNS).status_code == 201  # the limit itself is fine


def test_a_body_past_the_limit_is_refused_before_it_is_read(admin: TestClient) -> None:
    big = json.dumps({"direction": "inbound", "summary": "话" * MAX_BODY_BYTES})
    answer = admin.post("/api/calls", content=big, headers={"content-type": "application/json"})
    assert answer.status_code == 413 and "请求内容过大" in answer.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while reading
        yield b'{"summary": "'
        for _ in range(MAX_BODY_BYTES // 65536 + 1):
            yield b"x" * 65536
        yield b'"}'

    answer = admin.post("/api/calls", content=chunks(), headers={"content-type": "application/json"})
    assert answer.status_code == 413


def test_the_offline_checker_keeps_reading_big_files() -> None:
    """``kefu qa`` has no platform limits: a long transcript file is inspected as before."""
    turns = [{"speaker": "agent" if i % 2 else "customer", "text": "您好" * 60} for i in range(MAX_TURNS * 2)]
    [item] = parse_text(json.dumps({"turns": turns}, ensure_ascii=False), "<big>", "json")
    assert item.error is None and item.transcript is not None and len(item.transcript.turns) == MAX_TURNS * 2
    [bad] = parse_text(json.dumps({"turns": [{"speaker": "agent", "text": "a\x00b"}]}), "<nul>", "json")
    assert bad.error is not None and "NUL" in bad.error.reason


# ---------------------------------------------------------------- NUL


def test_nul_is_refused_in_every_kind_of_input(app: FastAPI, admin: TestClient) -> None:
    before = calls_stored(app)
    answer = new_call(admin, summary="客户\x00来电")
    assert answer.status_code == 422 and "summary:不能包含空字符(NUL)" in messages(answer)
    answer = new_call(admin, transcript=[{"speaker": "agent", "text": "您\x00好"}])
    assert answer.status_code == 422 and "transcript.0.text" in messages(answer)
    answer = admin.post("/api/customers", json={"name": "张\x00三", "phone": "13700000009"})
    assert answer.status_code == 422 and "name:不能包含空字符" in messages(answer)
    answer = admin.post("/api/customers", json={"name": "张三", "phone": "13700000009", "no\x00te": "x"})
    assert answer.status_code == 422
    assert admin.get("/api/customers", params={"q": "张\x00伟"}).status_code == 422
    assert admin.get("/api/workorders", params={"q": "\x00"}).status_code == 422
    page = admin.post("/customers/1/edit", data={"version": "1", "notes": "备\x00注"})
    assert page.status_code == 422 and "空字符" in page.text
    assert calls_stored(app) == before
    with app.state.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Customer).where(Customer.phone == "13700000009")) == 0


# ---------------------------------------------------------------- LIKE wildcards


def test_like_wildcards_in_a_search_are_plain_text(admin: TestClient) -> None:
    everyone = len(admin.get("/api/customers", params={"q": "1"}).json() or []) + 1
    for query in ("%%", "__", "%_", "\\%"):
        answer = admin.get("/api/customers", params={"q": query})
        assert answer.status_code == 200 and answer.json() == [], query
    assert admin.post("/api/customers", json={"name": "折扣%%客户", "phone": "13700000008"}).status_code == 201
    [found] = admin.get("/api/customers", params={"q": "%%"}).json()
    assert found["phone"].endswith("0008") and everyone > 1
    order = {"type": "consultation", "title": "询问 100% 返现活动", "description": "客户咨询返现规则"}
    assert admin.post("/api/workorders", json=order).status_code == 201, "work order"
    assert admin.post("/api/workorders", json={**order, "title": "普通咨询"}).status_code == 201
    titles = [o["title"] for o in admin.get("/api/workorders", params={"q": "0%"}).json()]
    assert titles == ["询问 100% 返现活动"]
    assert admin.get("/api/workorders", params={"q": "__"}).json() == []


# ---------------------------------------------------------------- answers


def test_api_times_carry_the_offset_of_the_centres_clock(admin: TestClient) -> None:
    article = {"title": "资费说明", "category": "faq", "body": "每月 1 日出账。", "keywords": ["资费"]}
    created = admin.post("/api/knowledge/articles", json=article).json()
    read = admin.get(f"/api/knowledge/articles/{created['id']}").json()
    assert created["created_at"] == read["created_at"] and read["created_at"].endswith("+08:00")
    assert read["history"][0]["at"].endswith("+08:00")
    order = admin.post("/api/workorders", json={"type": "consultation", "title": "资费咨询", "description": "问资费"})
    assert order.json()["created_at"].endswith("+08:00"), order.text
    again = admin.get(f"/api/workorders/{order.json()['id']}").json()
    assert again["created_at"] == order.json()["created_at"] and again["timeline"][0]["at"].endswith("+08:00")
    call = new_call(admin, ring_at="2026-11-20T02:00:00Z").json()
    assert call["ring_at"] == "2026-11-20T10:00:00+08:00"
    assert admin.get(f"/api/calls/{call['id']}").json()["ring_at"] == call["ring_at"]
    assert all(e["at"].endswith("+08:00") for e in admin.get("/api/audit").json()["entries"])


def test_validation_messages_are_chinese(admin: TestClient) -> None:
    answer = admin.post("/api/customers", json={"phone": "13700000007", "name": "x" * 65, "extra": 1})
    fields = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert answer.status_code == 422 and answer.json()["detail"] == "输入有误"
    assert fields == {"name": "最多 64 个字", "extra": "不认识的字段"}
    assert messages(admin.get("/api/calls", params={"limit": "many"})).endswith("query.limit:应为整数")


def test_openapi_documents_every_answer(app: FastAPI) -> None:
    spec = TestClient(app).get("/api/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and set(schemas["ValidationProblem"]["required"]) == {"detail"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "404", "409", "422", "503"} <= codes, f"{method} {path}"
            assert "Retry-After" in operation["responses"]["503"]["headers"]
    for path in ("/api/jobs/{job_id}/file", "/api/quality/reports/export"):
        content = spec["paths"][path]["get"]["responses"]["200"]["content"]
        assert "application/json" not in content, path
