"""Calls, import and export over HTTP (SQLite and PostgreSQL), and their pages in real Chromium."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import func, select

from browser_helpers import login
from conftest import AppFactory, client_for, live_server
from kefu.accounts.models import User
from kefu.calls.models import CallRecord
from kefu.core.db import transaction
from kefu.core.settings import Settings
from kefu.customers.models import Customer
from kefu.demo import seed_demo
from kefu.flows.intake import seed_demo_calls
from kefu.web.app import create_app

BOM = b"\xef\xbb\xbf"


def add_routers(app: FastAPI) -> FastAPI:
    """What app.py will register: the call and import/export routers, the exports first (before
    /api/customers/{customer_id}). Idempotent, so the tests keep working once app.py has them."""
    from kefu.calls.api import router as calls_api
    from kefu.dataio.api import router as dataio_api
    from kefu.web.pages import calls as call_pages

    if not any(getattr(r, "original_router", None) is dataio_api for r in app.router.routes):
        app.include_router(dataio_api)
        app.include_router(calls_api)
        app.include_router(call_pages.router)
    routes = app.router.routes
    exports = [r for r in routes if getattr(r, "original_router", None) is dataio_api]
    routes[:] = exports + [r for r in routes if all(r is not e for e in exports)]
    return app


def seed_calls(app: FastAPI) -> None:
    with transaction(app.state.sessions) as session:
        agents = list(session.scalars(select(User).where(User.agent_no.in_(["10001", "10002"])).order_by(User.id)))
        customers = list(session.scalars(select(Customer).order_by(Customer.id)))
        seed_demo_calls(session, agents, customers)


@pytest.fixture
def app(app_factory: AppFactory) -> FastAPI:
    application = add_routers(app_factory())
    seed_calls(application)
    return application


def job_of(app: FastAPI, client: TestClient, answer: Any) -> dict[str, Any]:
    """The job an import or export answered 202 with, run to its end (a test client has no
    lifespan, so no runner thread: the queued jobs run here)."""
    from kefu.jobs.api import job_runner

    assert answer.status_code == 202, answer.text
    assert answer.headers["location"] == answer.json()["status_url"]
    job_runner(app).run_pending()
    job = client.get(answer.json()["status_url"]).json()
    assert job["status"] in ("done", "failed"), job
    return job  # type: ignore[no-any-return]


def download(app: FastAPI, client: TestClient, answer: Any) -> Any:
    job = job_of(app, client, answer)
    assert job["status"] == "done", job
    return client.get(job["download_url"])


def count(app: FastAPI, model: Any) -> int:
    with app.state.sessions() as session:
        return session.scalar(select(func.count(model.id))) or 0


NEW_CALL = {
    "direction": "呼入",
    "ring_at": "2026-03-02 09:00:00",
    "answered_at": "2026-03-02 09:00:06",
    "ended_at": "2026-03-02 09:02:00",
    "caller_number": "13812345678",
    "reason": "咨询-资费",
    "summary": "咨询5G套餐资费",
    "transcript": "客服: 您好,很高兴为您服务\n客户: 我想问一下5G套餐\n客服: 好的,请您稍等",
}


# ---------------------------------------------------------------------------- API: calls


def test_create_call_checks_reason_and_transcript(app: FastAPI) -> None:
    client = client_for(app)
    created = client.post("/api/calls", json=NEW_CALL)
    assert created.status_code == 201, created.text
    call = created.json()
    assert call["reason"] == "consult.tariff" and call["reason_label"] == "咨询-资费"
    assert call["agent_no"] == "10001" and call["direction_label"] == "呼入" and len(call["transcript"]) == 3
    assert call["talk_seconds"] == 114

    bad = client.post("/api/calls", json={**NEW_CALL, "transcript": "客服: 您好\n[00:03.0-00:01.0] 客户: 你好"})
    assert bad.status_code == 422
    [problem] = bad.json()["errors"]
    assert problem["field"] == "transcript" and "第 2 行" in problem["message"] and "早于开始时间" in problem["message"]

    no_reason = client.post("/api/calls", json={k: v for k, v in NEW_CALL.items() if k != "reason"})
    assert no_reason.status_code == 422
    assert any(e["field"] == "reason" and "来电原因" in e["message"] for e in no_reason.json()["errors"])
    blank = client.post("/api/calls", json={**NEW_CALL, "reason": " "})
    assert blank.status_code == 422
    unknown = client.post("/api/calls", json={**NEW_CALL, "reason": "闲聊"})
    assert unknown.status_code == 422 and "未知的来电原因" in unknown.text
    order = client.post("/api/calls", json={**NEW_CALL, "ended_at": "2026-03-02 08:00:00"})
    assert order.status_code == 422 and "结束时间不能早于" in order.text


def test_list_get_and_stale_update(app: FastAPI) -> None:
    client = client_for(app)
    every = client.get("/api/calls").json()
    assert len(every) >= 10
    complaints = client.get("/api/calls", params={"reason": "投诉"}).json()
    assert complaints and all(c["reason_label"] == "投诉" for c in complaints)
    outbound = client.get("/api/calls", params={"direction": "呼出"}).json()
    assert all(c["direction"] == "outbound" for c in outbound)
    agent_id = every[0]["agent_id"]
    assert all(c["agent_id"] == agent_id for c in client.get("/api/calls", params={"agent_id": agent_id}).json())
    assert client.get("/api/calls", params={"start": "2000-01-01", "end": "2000-01-02"}).json() == []
    bad_range = client.get("/api/calls", params={"start": "2026-02-01", "end": "2026-01-01"})
    assert bad_range.status_code == 422 and "结束时间不能早于开始时间" in bad_range.json()["detail"]
    assert client.get("/api/calls", params={"reason": "闲聊"}).status_code == 422

    call_id = every[0]["id"]
    url = f"/api/calls/{call_id}"
    assert client.get(url).json()["id"] == call_id
    assert client.get("/api/calls/999999").status_code == 404
    changed = client.patch(url, json={"version": 1, "summary": "已更正的小结", "reason": "complaint"})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = client.patch(url, json={"version": 1, "summary": "迟到的修改"})
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["detail"]
    assert client.get(url).json()["summary"] == "已更正的小结"
    assert client.patch(url, json={"version": 2, "reason": None}).status_code == 422


def test_workorder_draft_and_inspection(app: FastAPI) -> None:
    client = client_for(app)
    with_customer = next(c for c in client.get("/api/calls").json() if c["customer_id"] and c["transcript"])
    draft = client.get(f"/api/calls/{with_customer['id']}/workorder-draft").json()
    assert draft["call_id"] == with_customer["id"] and draft["customer_id"] == with_customer["customer_id"]
    assert draft["description"] == with_customer["summary"] and draft["note"].startswith("来自 ")

    card = client.get(f"/api/calls/{with_customer['id']}/inspection").json()
    assert card["applicable"] is True
    report = card["report"]
    assert 0 <= report["score"] <= 100 and report["categories"] and isinstance(report["findings"], list)

    bare = client.post("/api/calls", json={k: v for k, v in NEW_CALL.items() if k != "transcript"}).json()
    none = client.get(f"/api/calls/{bare['id']}/inspection").json()
    assert none["applicable"] is False and none["report"] is None and "没有转写" in none["message"]
    assert client.get("/api/calls/999999/inspection").status_code == 404


def test_call_and_data_permissions(app: FastAPI) -> None:
    assert TestClient(app).get("/api/calls").status_code == 401
    trainer = client_for(app, "40001")
    assert trainer.get("/api/calls").status_code == 403
    qa = client_for(app, "30001")
    assert qa.get("/api/calls").status_code == 200
    denied = qa.post("/api/calls", json=NEW_CALL)
    assert denied.status_code == 403 and "质检员无权" in denied.json()["detail"]
    agent = client_for(app, "10001")
    upload = {"file": ("c.csv", "姓名,电话\n测试,13700000009\n".encode())}
    refused = agent.post("/api/import/customers", files=upload)
    assert refused.status_code == 403 and "话务员无权" in refused.json()["detail"]
    assert agent.post("/api/calls/export").status_code == 403
    assert agent.post("/api/customers/export").status_code == 403
    assert agent.post("/api/workorders/export").status_code == 403
    assert agent.get("/import").status_code == 403
    no_csrf = client_for(app, "20001")
    no_csrf.headers.pop("X-CSRF-Token")
    assert no_csrf.post("/api/import/customers", files=upload).status_code == 403
    assert not client_for(app, "50001").get("/api/customers", params={"q": "13700000009"}).json()


# ---------------------------------------------------------------------------- API: export


def test_exports_csv_with_bom_and_xlsx(app: FastAPI) -> None:
    lead = client_for(app, "20001")
    csv_answer = download(app, lead, lead.post("/api/calls/export", params={"format": "csv", "reason": "投诉"}))
    assert csv_answer.status_code == 200 and csv_answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_answer.headers["content-disposition"]
    body = csv_answer.content
    assert body.startswith(BOM)
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("通话编号,呼叫方向,渠道,工号") and "来电原因" in lines[0]
    assert len(lines) > 1 and "投诉" in lines[1]

    xlsx = download(app, lead, lead.post("/api/calls/export", params={"format": "xlsx"}))
    assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith("application/vnd.openxml")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("通话编号", "呼叫方向") and len(rows) - 1 == len(lead.get("/api/calls").json())

    customers_csv = download(app, lead, lead.post("/api/customers/export", params={"format": "csv"}))
    assert customers_csv.content.startswith(BOM)
    assert customers_csv.content.decode("utf-8-sig").splitlines()[0].startswith("客户编号,姓名,电话")
    customers_xlsx = download(app, lead, lead.post("/api/customers/export", params={"format": "xlsx"}))
    names = [r[1] for r in load_workbook(io.BytesIO(customers_xlsx.content)).active.iter_rows(values_only=True)]
    assert names[0] == "姓名" and "张*" in names and "张伟" not in names  # masked: a team lead verifies nobody
    assert lead.post("/api/calls/export", params={"format": "pdf"}).status_code == 422


# ---------------------------------------------------------------------------- API: import

GOOD_CUSTOMERS = "姓名,电话,账户,地址\n孙丽,13700001111,B2001,广州市天河区\n周杰,13700002222,B2002,深圳市南山区\n"
BAD_CUSTOMERS = "姓名,电话,账户,地址\n孙丽,13700001111,B2001,广州市天河区\n周杰,12345,B2002,深圳市南山区\n"


def test_import_with_a_bad_row_writes_nothing(app: FastAPI) -> None:
    lead = client_for(app, "20001")
    before = count(app, Customer)
    bad = job_of(app, lead, lead.post("/api/import/customers", files={"file": ("客户.csv", BAD_CUSTOMERS.encode())}))
    assert bad["status"] == "failed" and bad["status_label"] == "失败"
    [error] = bad["result"]["errors"]
    assert error["row"] == 3 and error["field"] == "电话" and error["message"].startswith("第 3 行:电话:")
    assert "没有导入任何数据" in bad["result"]["detail"] and bad["error"].startswith("没有导入任何数据:第 3 行:电话:")
    assert count(app, Customer) == before

    checked = lead.post(
        "/api/import/customers", files={"file": ("客户.csv", GOOD_CUSTOMERS.encode())}, data={"dry_run": "true"}
    )
    dry = job_of(app, lead, checked)
    assert dry["status"] == "done" and dry["dry_run"] is True and dry["result"]["dry_run"] is True
    assert dry["result"]["rows"] == 2 and "检查通过" in dry["result"]["message"]
    assert count(app, Customer) == before

    done = job_of(app, lead, lead.post(f"/api/jobs/{dry['id']}/confirm"))  # the same file, for real
    assert done["status"] == "done" and done["result"]["created"] == 2 and len(done["result"]["ids"]) == 2
    assert count(app, Customer) == before + 2
    assert lead.post(f"/api/jobs/{dry['id']}/confirm").status_code == 409  # not twice
    again = job_of(app, lead, lead.post("/api/import/customers", files={"file": ("客户.csv", GOOD_CUSTOMERS.encode())}))
    assert again["status"] == "failed" and {e["row"] for e in again["result"]["errors"]} == {2, 3}
    assert count(app, Customer) == before + 2
    empty = lead.post("/api/import/customers", files={"file": ("空.csv", b"")})
    assert empty.status_code == 422 and "空" in empty.json()["detail"]


def test_gb18030_csv_and_xlsx_import(app: FastAPI) -> None:
    lead = client_for(app, "20001")
    gb = lead.post("/api/import/customers", files={"file": ("客户-gbk.csv", GOOD_CUSTOMERS.encode("gb18030"))})
    assert job_of(app, lead, gb)["status"] == "done"
    [sun] = lead.get("/api/customers", params={"q": "B2001"}).json()
    assert sun["name"].startswith("孙")
    lead.post(f"/api/customers/{sun['id']}/verify", json={"phone_last4": "1111"})
    assert lead.get(f"/api/customers/{sun['id']}").json()["address"] == "广州市天河区"

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["姓名", "电话"])
    book.active.append(["钱七", "13700003333"])
    book.active.append(["", "13700004444"])
    buffer = io.BytesIO()
    book.save(buffer)
    xlsx = job_of(app, lead, lead.post("/api/import/customers", files={"file": ("客户.xlsx", buffer.getvalue())}))
    assert xlsx["status"] == "failed" and xlsx["result"]["errors"][0]["message"].startswith("第 3 行:姓名:")


def test_import_calls_with_transcripts(app: FastAPI) -> None:
    lead = client_for(app, "20001")
    header = "通话编号,呼叫方向,工号,客户账户,振铃时间,接听时间,结束时间,来电原因,小结,转写\n"
    good = (
        '"IMP-1",呼入,10001,A1001,2026/03/02 09:00:00,2026/03/02 09:00:05,2026/03/02 09:03:00,投诉,网络差,'
        '"客服: 您好\n客户: 网络太差了"\n'
    )
    bad = '"IMP-2",呼入,10002,,2026/03/02 10:00:00,,,故障申告,断网,"客服: 您好\n[00:03.0-00:01.0] 客户: 断网了"\n'
    before = count(app, CallRecord)
    rejected = job_of(
        app, lead, lead.post("/api/import/calls", files={"file": ("calls.csv", (header + good + bad).encode())})
    )
    assert rejected["status"] == "failed"
    [error] = rejected["result"]["errors"]
    assert error["row"] == 3 and error["field"] == "转写" and "第 2 行" in error["reason"]
    assert count(app, CallRecord) == before
    done = job_of(app, lead, lead.post("/api/import/calls", files={"file": ("calls.csv", (header + good).encode())}))
    assert done["status"] == "done" and done["result"]["created"] == 1
    [imported] = lead.get(
        "/api/calls", params={"reason": "complaint", "start": "2026-03-02", "end": "2026-03-03"}
    ).json()
    assert imported["agent_no"] == "10001" and [t["speaker"] for t in imported["transcript"]] == ["agent", "customer"]


# ---------------------------------------------------------------------------- pages (server-rendered, no browser)


def test_call_pages_render(app: FastAPI) -> None:
    agent = client_for(app, "10001")
    listing = agent.get("/calls")
    assert listing.status_code == 200 and "我今天的通话" in listing.text and "咨询-资费" in listing.text
    assert "/export/calls" not in listing.text  # agents may not export
    filtered = agent.get("/calls", params={"reason": "complaint", "direction": "inbound", "start": "", "end": ""})
    assert filtered.status_code == 200
    wrong = agent.get("/calls", params={"start": "2026-02-01", "end": "2026-01-01"})
    assert wrong.status_code == 422 and "结束时间不能早于开始时间" in wrong.text
    lead_list = client_for(app, "20001").get("/calls", params={"reason": "complaint"})
    assert 'action="/export/calls?reason=complaint"' in lead_list.text
    call_id = agent.get("/api/calls").json()[0]["id"]
    page = agent.get(f"/calls/{call_id}")
    assert page.status_code == 200 and "由此通话创建工单" in page.text and "质检评分" in page.text
    assert agent.get("/calls/999999").status_code == 404


# ---------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("kefu-calls")
    app = add_routers(create_app(Settings(data_dir=folder, secret_key="browser-test")))
    seed_demo(app.state.sessions, activity=False, must_change_password=False)
    seed_calls(app)
    with live_server(app) as url:
        yield url


@pytest.fixture
def page(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=server)
    yield context.new_page()
    context.close()


def test_team_lead_imports_customers_after_fixing_a_bad_row(page, server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad_file, good_file = tmp_path / "客户-有错.csv", tmp_path / "客户.csv"
    bad_file.write_bytes(BAD_CUSTOMERS.encode("gb18030"))
    good_file.write_bytes(GOOD_CUSTOMERS.encode("utf-8-sig"))
    login(page, server, "20001")
    page.goto("/import")
    page.get_by_label("导入内容").select_option("customers")
    page.get_by_label("文件").set_input_files(str(bad_file))
    page.get_by_role("button", name="检查文件").click()  # a background job checks it; the page follows
    assert "没有导入任何数据" in page.locator("[role=alert]").inner_text()
    errors = page.locator(".row-errors li").all_inner_texts()
    assert errors == ["第 3 行:电话:电话号码格式不正确(手机 11 位,或区号-座机号)"]
    assert page.get_by_role("button", name="确认导入").count() == 0

    page.get_by_label("文件").set_input_files(str(good_file))
    page.get_by_role("button", name="检查文件").click()
    expect(page.locator("#result [role=status]")).to_contain_text("检查通过")
    page.get_by_role("button", name="确认导入 2 条客户").click()
    expect(page.locator("#result [role=status]")).to_contain_text("已导入 2 条")

    page.goto("/customers?q=B2002")
    row = page.locator("table.list tbody tr")
    assert row.count() == 1 and "周*" in row.inner_text()


def test_agent_sees_the_scorecard_and_creates_a_work_order_from_a_call(page, server) -> None:  # type: ignore[no-untyped-def]
    login(page, server, "10001")
    page.goto("/calls")
    assert page.locator("#mine table.list tbody tr").count() > 0
    page.locator("#mine table.list tbody tr a").first.click()
    page.wait_for_url("**/calls/*")
    score = page.locator("#scorecard .score").inner_text()
    assert re.match(r"\d+(\.\d)? 分", score) and ("合格" in score) and "合格线 80" in score
    assert page.locator("#scorecard table.list tbody tr").count() == 4  # the four categories
    assert page.locator("#transcript tbody tr").count() > 2
    assert page.locator("dd[data-field=reason]").inner_text() != ""
    button = page.get_by_role("button", name="由此通话创建工单")
    assert button.is_visible()
    call_id = page.url.rsplit("/", 1)[1]
    button.click()
    page.wait_for_url(f"**/workorders/new?call_id={call_id}")
