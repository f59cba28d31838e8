"""Work orders over the web: the API (permissions, bad input, optimistic locking, the state
machine, export) on SQLite and PostgreSQL, the pages, and the issue's main flow in Chromium."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from browser_helpers import login
from conftest import client_for, live_server
from kefu.accounts.models import User
from kefu.calls.schemas import CallCreate
from kefu.core.db import transaction
from kefu.core.settings import Settings
from kefu.customers.models import Customer
from kefu.demo import seed_demo
from kefu.flows import intake
from kefu.web.app import create_app
from kefu.web.pages import workorders as workorder_pages
from kefu.workorders import api as workorder_api
from kefu.workorders import service
from kefu.workorders.schemas import WorkOrderCreate

SUMMARY = "客户家中宽带无法上网,已重启路由器仍然无效,要求尽快上门检修"


def build_app(settings: Settings) -> FastAPI:
    """As app.py will once the routers are registered there (idempotent if they already are)."""
    app = create_app(settings)
    paths = {getattr(route, "path", None) for route in app.routes}
    if "/api/workorders" not in paths:
        app.include_router(workorder_api.router)
    if "/workorders" not in paths:
        app.include_router(workorder_pages.router)
    seed_demo(app.state.sessions, activity=False, must_change_password=False)
    return app


def user_id(app: FastAPI, agent_no: str) -> int:
    with transaction(app.state.sessions) as session:
        return session.scalar(select(User.id).where(User.agent_no == agent_no))  # type: ignore[return-value]


def zhang_id(app: FastAPI) -> int:
    with transaction(app.state.sessions) as session:
        return session.scalar(select(Customer.id).where(Customer.phone == "13812345678"))  # type: ignore[return-value]


def make_call(app: FastAPI) -> int:
    """A finished inbound call of agent 10001 with 张伟 about a fault."""
    ring = datetime.now(UTC) - timedelta(minutes=10)
    data = CallCreate(
        direction="inbound",
        ring_at=ring,
        answered_at=ring + timedelta(seconds=5),
        ended_at=ring + timedelta(minutes=4),
        customer_id=zhang_id(app),
        agent_id=user_id(app, "10001"),
        caller_number="13812345678",
        reason="fault",
        summary=SUMMARY,
    )
    with transaction(app.state.sessions) as session:
        return intake.do_record_call(session, None, data).id


FAULT = {
    "type": "故障类",
    "title": "宽带无法上网",
    "priority": "high",
    "description": SUMMARY,
    "measures_taken": "已指导客户重启路由器",
}


# ---------------------------------------------------------------- API


def test_create_read_list_and_the_full_lifecycle(app: FastAPI) -> None:
    agent = client_for(app)
    call_id = make_call(app)
    created = agent.post("/api/workorders", json={**FAULT, "customer_id": zhang_id(app), "call_id": call_id})
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["status"] == "new" and order["type_label"] == "故障类" and order["customer_name"] == "张*"
    assert order["owner"]["agent_no"] == "10001" and order["allowed_actions"] == ["start", "wait", "resolve"]
    assert [d["name"] for d in order["deadlines"]] and order["deadlines"][0]["state"] == "running"
    url = f"/api/workorders/{order['id']}"

    other = user_id(app, "10002")
    transfer = agent.post(f"{url}/transfer", json={"to_user_id": other, "notes": "客户宽带故障,已重启无效,请安排上门"})
    assert transfer.status_code == 200 and transfer.json()["assignee"]["agent_no"] == "10002"
    colleague = client_for(app, "10002")
    assert order["number"] in [o["number"] for o in colleague.get("/api/workorders", params={"mine": True}).json()]
    assert colleague.post(f"{url}/start").json()["status"] == "in_progress"
    resolved = colleague.post(f"{url}/resolve", json={"measures_taken": "已上门更换光猫,网络恢复"})
    assert resolved.json()["status"] == "resolved"
    called = agent.post(f"{url}/callback", json={"satisfaction": 5, "comment": "很满意"})
    assert called.json()["satisfaction"] == 5
    closed = agent.post(f"{url}/close").json()
    assert closed["status"] == "closed" and closed["allowed_actions"] == []
    kinds = [e["kind"] for e in agent.get(url).json()["timeline"]]
    assert kinds == ["create", "transfer", "start", "resolve", "callback", "close"]

    assert [o["id"] for o in agent.get("/api/workorders", params={"q": "宽带", "type": "fault"}).json()] == [
        order["id"]
    ]
    assert agent.get("/api/workorders", params={"status": "待处理"}).json() == []
    assert agent.get("/api/workorders", params={"status": "nonsense"}).status_code == 422


def test_missing_template_fields_and_bad_input_are_422(app: FastAPI) -> None:
    agent = client_for(app)
    missing = agent.post("/api/workorders", json={"type": "complaint", "title": "投诉服务态度"})
    assert missing.status_code == 422
    assert missing.json()["missing"] == ["问题描述", "处理建议", "涉及部门"]
    assert "投诉类工单缺少必填项" in missing.json()["detail"]
    no_type = agent.post("/api/workorders", json={"title": "x"})
    assert no_type.status_code == 422 and "请选择工单类型" in no_type.text
    unknown = agent.post("/api/workorders", json={**FAULT, "colour": "red"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "colour"
    order = agent.post("/api/workorders", json=FAULT).json()
    short = agent.post(f"/api/workorders/{order['id']}/transfer", json={"to_user_id": 1, "notes": "转给你"})
    assert short.status_code == 422 and "转派说明至少" in short.text
    bad = agent.post(f"/api/workorders/{order['id']}/start")
    assert bad.status_code == 200
    assert agent.post(f"/api/workorders/{order['id']}/callback", json={"satisfaction": 9}).status_code == 422
    assert agent.get("/api/workorders/99999").status_code == 404


def test_stale_version_and_illegal_transition_are_409(app: FastAPI) -> None:
    agent = client_for(app)
    order = agent.post("/api/workorders", json=FAULT).json()
    url = f"/api/workorders/{order['id']}"
    first = agent.patch(url, json={"version": order["version"], "priority": "urgent"})
    assert first.status_code == 200 and first.json()["priority_label"] == "紧急"
    stale = agent.patch(url, json={"version": order["version"], "title": "迟到的修改"})
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["detail"]
    stale_action = agent.post(f"{url}/start", json={"version": order["version"]})
    assert stale_action.status_code == 409
    illegal = agent.post(f"{url}/close")
    assert illegal.status_code == 409
    assert illegal.json()["detail"] == "工单尚未开始处理,不能关闭(请先处理并标记为已解决)"
    reopen = agent.post(f"{url}/reopen", json={"reason": "客户仍不满意"})
    assert reopen.status_code == 409 and "只有已解决的工单可以重新打开" in reopen.json()["detail"]
    assert agent.get(url).json()["status"] == "new"  # nothing changed


def test_permissions(app: FastAPI) -> None:
    agent = client_for(app)
    order = agent.post("/api/workorders", json=FAULT).json()
    url = f"/api/workorders/{order['id']}"
    qa = client_for(app, "30001")
    assert qa.get(url).status_code == 200  # QA reads
    for method, path, body in [
        ("post", "/api/workorders", FAULT),
        ("patch", url, {"version": 1, "title": "x"}),
        ("post", f"{url}/start", None),
        ("post", f"{url}/close", None),
    ]:
        refused = getattr(qa, method)(path, json=body)
        assert refused.status_code == 403 and "质检员无权" in refused.json()["detail"], (path, refused.text)
    trainer = client_for(app, "40001")
    assert trainer.get("/api/workorders").status_code == 403
    colleague = user_id(app, "10002")
    assert agent.post(f"{url}/assign", json={"assignee_id": colleague}).status_code == 403  # agents transfer
    lead = client_for(app, "20001")
    assigned = lead.post(f"{url}/assign", json={"assignee_id": colleague, "note": "忙时分流"})
    assert assigned.status_code == 200 and assigned.json()["assignee"]["agent_no"] == "10002"
    assert agent.post("/api/workorders/export").status_code == 403  # export is for leads
    assert TestClient(app).get("/api/workorders").status_code == 401


def test_export_csv_and_xlsx(app: FastAPI) -> None:
    client_for(app).post("/api/workorders", json={**FAULT, "customer_id": zhang_id(app)})
    lead = client_for(app, "20001")
    answer = exported(app, lead, "csv")
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["工单编号", "工单类型", "优先级", "状态", "标题"]
    assert rows[1][1:6] == ["故障类", "高", "待处理", "宽带无法上网", "张*"]  # as the team lead's screen shows it
    xlsx = exported(app, lead, "xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert lead.post("/api/workorders/export", params={"format": "pdf"}).status_code == 422
    assert lead.post("/api/workorders/export", params={"status": "没有这种状态"}).status_code == 422


def exported(app: FastAPI, client: TestClient, fmt: str) -> Any:
    """An export runs as a background job (kefu.jobs): started, run here, downloaded."""
    from kefu.jobs.api import job_runner

    started = client.post("/api/workorders/export", params={"format": fmt})
    assert started.status_code == 202, started.text
    job_runner(app).run_pending()
    job = client.get(started.json()["status_url"]).json()
    assert job["status"] == "done", job
    return client.get(job["download_url"])


# ---------------------------------------------------------------- pages (no browser)


def test_pages_highlight_overdue_and_refuse_illegal_actions(app: FastAPI) -> None:
    agent = client_for(app)
    me = user_id(app, "10001")
    with transaction(app.state.sessions) as session:
        old = service.do_create(
            session,
            me,
            WorkOrderCreate(type="consultation", title="很久以前的咨询", description="套餐资费咨询"),
            now=datetime.now(UTC) - timedelta(days=10),
        )
        old_id = old.id
    fresh = agent.post("/api/workorders", json=FAULT).json()
    page = agent.get("/workorders")
    assert page.status_code == 200
    html = page.text
    assert html.index("很久以前的咨询") < html.index("宽带无法上网")  # by deadline: the overdue one first
    assert f'<tr class="overdue" data-number="{old.number}"' in html
    assert 'type="search"' in html and "Ctrl+F3" in html
    assert "宽带无法上网" not in agent.get("/workorders", params={"type": "consultation"}).text

    detail = agent.get(f"/workorders/{fresh['id']}").text
    assert "开始处理" in detail and 'data-action="close"' not in detail and 'data-action="reopen"' not in detail
    refused = agent.post(f"/workorders/{fresh['id']}/close", data={"version": "1"})
    assert refused.status_code == 409
    assert "工单尚未开始处理,不能关闭(请先处理并标记为已解决)" in refused.text
    overdue_page = agent.get(f"/workorders/{old_id}").text
    assert "deadline-overdue" in overdue_page and "已超时" in overdue_page

    qa = client_for(app, "30001")
    assert qa.post(f"/workorders/{fresh['id']}/start", data={}).status_code == 403
    assert qa.get("/workorders/new").status_code == 403


def test_new_form_shows_the_call_and_reports_missing_fields(app: FastAPI) -> None:
    agent = client_for(app)
    call_id = make_call(app)
    form = agent.get("/workorders/new", params={"call_id": call_id})
    assert form.status_code == 200 and SUMMARY in form.text and "张*" in form.text  # masked until verified
    assert '<option value="fault" selected>' in form.text  # suggested by the call's reason
    answer = agent.post(
        "/workorders/new",
        data={"type": "complaint", "title": "投诉", "description": "服务态度差", "call_id": str(call_id)},
    )
    assert answer.status_code == 422 and "投诉类工单缺少必填项:处理建议、涉及部门" in answer.text
    assert agent.get("/api/workorders").json() == []


# ---------------------------------------------------------------- the main flow in Chromium


def submit(page, button) -> None:  # type: ignore[no-untyped-def]
    """Click a form's button and wait for the answer page (PRG), so the next read is of it."""
    with page.expect_navigation():
        button.click()


@pytest.fixture(scope="module")
def flow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    folder = tmp_path_factory.mktemp("kefu-workorders")
    app = build_app(Settings(data_dir=folder, secret_key="browser-test"))
    call_id = make_call(app)
    with live_server(app) as url:
        yield url, call_id
    app.state.engine.dispose()


@pytest.fixture
def flow_page(browser, flow_server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=flow_server[0])
    yield context.new_page()
    context.close()


def test_work_order_from_a_call_transfer_resolve_callback(flow_page, flow_server) -> None:  # type: ignore[no-untyped-def]
    page, call_id = flow_page, flow_server[1]
    login(page, flow_server[0], "10001")
    assert page.locator("h1").inner_text() == "工作台"

    # The caller: look up and verify before anything is shown.
    page.goto("/customers?q=13812345678")
    page.locator("table.list tbody tr").get_by_role("link").click()
    page.wait_for_url("**/customers/*")
    page.get_by_label("手机号后四位").fill("5678")
    submit(page, page.get_by_role("button", name="验证"))
    assert "身份验证通过" in page.locator(".flash").inner_text()

    # A work order from the call: customer and summary carried over, the fault template marked.
    page.goto(f"/workorders/new?call_id={call_id}")
    assert page.locator("textarea[name=description]").input_value() == SUMMARY
    assert "张伟" in page.locator("#customer").inner_text()  # verified above
    assert page.locator("label[data-field=measures_taken]").get_attribute("class") == "req"
    page.get_by_label("工单类型").select_option(label="投诉类")  # the marks follow the type
    assert "req" in (page.locator("label[data-field=departments]").get_attribute("class") or "")
    assert page.locator("label[data-field=measures_taken]").get_attribute("class") == ""
    page.get_by_label("工单类型").select_option(label="故障类")
    page.get_by_label("优先级").select_option(label="高")
    page.get_by_label("已采取的处理措施").fill("已指导客户重启路由器,无效")
    submit(page, page.get_by_role("button", name="创建工单"))
    assert re.search(r"/workorders/\d+$", page.url)
    assert "已创建" in page.locator(".flash").inner_text()
    assert page.locator("#status").inner_text() == "待处理"
    assert page.locator("dd[data-field=customer]").inner_text() == "张伟"
    assert page.locator("dd[data-field=description]").inner_text() == SUMMARY
    assert page.locator("#deadlines tbody tr").count() >= 2
    assert page.locator("form[data-action=close]").count() == 0  # not offered while new
    order_url = page.url

    # 转派 to 王敏 with the background; notes are required.
    transfer = page.locator("form[data-action=transfer]")
    transfer.get_by_label("转派给").select_option(label="王敏(10002)")
    transfer.get_by_label("转派说明").fill("客户宽带故障,重启无效,需安排上门检修")
    submit(page, transfer.get_by_role("button", name="转派"))
    assert "已转派" in page.locator(".flash").inner_text()
    assert "王敏" in page.locator("dd[data-field=assignee]").inner_text()

    # 王敏 finds it among her open orders, works on it and resolves it.
    submit(page, page.get_by_role("button", name="退出"))
    assert page.url.endswith("/login")
    login(page, flow_server[0], "10002")
    page.goto("/workorders")
    row = page.locator("table.list tbody tr")
    assert row.count() == 1 and "故障申告 - 张伟" in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_url(order_url)
    submit(page, page.get_by_role("button", name="开始处理"))
    assert page.locator("#status").inner_text() == "处理中"
    resolve = page.locator("form[data-action=resolve]")
    resolve.get_by_label("已采取的处理措施").fill("已上门更换光猫,网络恢复正常")
    submit(page, resolve.get_by_role("button", name="解决"))
    assert page.locator("#status").inner_text() == "已解决"

    # 回访: satisfaction 5.
    callback = page.locator("form[data-action=callback]")
    callback.get_by_label("满意度").select_option("5")
    callback.get_by_label("回访记录").fill("客户表示网络已恢复,很满意")
    submit(page, callback.get_by_role("button", name="回访"))
    assert "回访已记录" in page.locator(".flash").inner_text()
    assert page.locator("dd[data-field=satisfaction]").inner_text().startswith("5 分")

    kinds = page.locator("#timeline li").evaluate_all("items => items.map(i => i.dataset.kind)")
    assert kinds == ["create", "transfer", "start", "resolve", "callback"]
    labels = page.locator("#timeline .kind").all_inner_texts()
    assert labels == ["创建", "转派", "开始处理", "解决", "回访"]
    assert "转派给 王敏(10002)" in page.locator("#timeline").inner_text()

    # Ctrl+F3 (seed 004): the work-order search, here from the order's page.
    number = page.locator("h1").inner_text().split()[1]
    page.keyboard.press("Control+F3")
    page.wait_for_url("**/workorders?scope=all#search")
    assert page.evaluate("document.activeElement.id") == "workorder-search"
    page.keyboard.type(number)
    page.keyboard.press("Enter")
    page.wait_for_url("**/workorders?q=*")
    assert page.locator("table.list tbody tr").count() == 1 and number in page.locator("table.list").inner_text()

    # An illegal action posted anyway is answered with the service's message.
    page.goto(order_url)
    answer = page.request.post(
        order_url + "/start", form={"csrf": page.locator("input[name=csrf]").first.input_value()}
    )
    assert answer.status == 409 and "工单已解决,不能转为处理中" in answer.text()


def test_complaint_classification_through_the_api(app: FastAPI) -> None:
    agent = client_for(app)
    complaint = {
        "type": "投诉类",
        "title": "宽带反复断网",
        "description": "三天断网五次,要求赔偿",
        "handling_suggestion": "安排上门检修",
        "departments": ["技术部"],
    }
    order = agent.post("/api/workorders", json=complaint).json()
    url = f"/api/workorders/{order['id']}"
    early = agent.post(f"{url}/classify", json={"category": "网络质量"})
    assert early.status_code == 409 and "请在处理中进行" in early.json()["detail"]
    agent.post(f"{url}/start")
    assert agent.post(f"{url}/classify", json={"category": "网络质量", "priority": "最高"}).status_code == 422
    assert agent.post(f"{url}/classify", json={"category": "x" * 40}).status_code == 422
    classified = agent.post(f"{url}/classify", json={"category": "网络质量", "priority": "紧急", "note": "上报主管"})
    assert classified.status_code == 200
    assert classified.json()["complaint_category"] == "网络质量" and classified.json()["priority_label"] == "紧急"
    assert client_for(app, "30001").post(f"{url}/classify", json={"category": "网络质量"}).status_code == 403
    consultation = agent.post(
        "/api/workorders", json={"type": "咨询类", "title": "资费", "description": "问资费"}
    ).json()
    agent.post(f"/api/workorders/{consultation['id']}/start")
    wrong = agent.post(f"/api/workorders/{consultation['id']}/classify", json={"category": "网络质量"})
    assert wrong.status_code == 422 and "只有投诉类工单需要分类与分级" in wrong.json()["detail"]
