"""The audit log as a supervisor reads it (/audit, /audit/export, /api/audit): names, Chinese
labels and values, times and days on the centre's clock, filters, pages, CSV — on SQLite and
PostgreSQL; one flow in a real browser."""

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
from conftest import AppFactory, client_for, live_server
from kefu.accounts.models import User
from kefu.core import audit
from kefu.core.clock import on_centre_clock
from kefu.core.db import transaction
from kefu.core.settings import Settings
from kefu.demo import seed_demo
from kefu.web.app import create_app

# 23:30 UTC on Monday 11 March 2024 is Tuesday 07:30 in Shanghai; 15:30 UTC is still Monday there.
TUESDAY_MORNING = datetime(2024, 3, 11, 23, 30, tzinfo=UTC)
MONDAY_NIGHT = datetime(2024, 3, 11, 15, 30, tzinfo=UTC)


def text_of(html: str) -> str:
    """The page as a person reads it: tags and styles gone, spaces squeezed."""
    html = re.sub(r"<(style|script)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def user_id(app: FastAPI, agent_no: str) -> int:
    with app.state.sessions() as session:
        return int(session.scalar(select(User.id).where(User.agent_no == agent_no)))


def record_at(app: FastAPI, moment: datetime, *args: Any, **kwargs: Any) -> int:
    """An audit entry written at ``moment`` (as if it had happened then)."""
    with transaction(app.state.sessions) as session:
        entry = audit.record(session, *args, **kwargs)
        entry.at = moment
        session.flush()
        return entry.id


@pytest.fixture
def supervisor(app: FastAPI) -> TestClient:
    return client_for(app, "50001")


def test_entries_read_with_names_labels_and_the_centres_clock(app: FastAPI, supervisor: TestClient) -> None:
    agent = client_for(app, "10001")
    [zhang] = agent.get("/api/customers", params={"q": "张伟"}).json()
    agent.post(f"/api/customers/{zhang['id']}/verify", json={"phone_last4": "5678"})
    assert agent.patch(f"/api/customers/{zhang['id']}", json={"version": 1, "notes": "已回访"}).status_code == 200
    order = agent.post(
        "/api/workorders",
        json={"type": "consultation", "priority": "high", "title": "资费咨询", "description": "问资费"},
    ).json()
    record_at(app, TUESDAY_MORNING, user_id(app, "10001"), "update", "work_order", order["id"], {"promised_at": [
        None, "2024-03-12T02:00:00+00:00"]})  # fmt: skip

    page = supervisor.get("/audit")
    assert page.status_code == 200
    shown = text_of(page.text)
    rows = {m[1]: text_of(m[2]) for m in re.finditer(r'<tr data-entry="(\d+)">(.*?)</tr>', page.text, re.S)}
    update = next(row for row in rows.values() if "备注" in row)
    assert "李晓(10001) 修改 客户 " in update and "备注: 智能家居标准版用户 → 已回访" in update
    created = next(row for row in rows.values() if "新建 工单" in row)
    assert f"工单 {order['number']}" in created  # the work order by its number, not its id
    for change in ("工单类型: 空 → 咨询类", "优先级: 空 → 高", "状态: 空 → 待处理", "处理人: 空 → 李晓(10001)"):
        assert change in created, created
    assert "查询" in shown and "身份验证" in shown and "登录" in shown  # lookup, verify, login
    promised = next(row for row in rows.values() if "承诺时间" in row)
    assert "2024-03-12 07:30:00" in promised  # when it happened, on the centre's clock (UTC+8)
    assert "承诺时间: 空 → 2024-03-12 10:00:00" in promised  # a stored UTC time, shown on the centre's clock
    for english in ("lookup", "verify", "work_order", "status:None", "None →", "user 1"):
        assert english not in shown, english
    with app.state.sessions() as session:  # every time shown is the stored time on the centre's clock
        for entry in session.scalars(select(audit.AuditEntry)):
            assert on_centre_clock(entry.at).strftime("%Y-%m-%d %H:%M:%S") in rows[str(entry.id)]

    api = supervisor.get("/api/audit", params={"entity": "customer", "action": "update"}).json()
    [entry] = api["entries"]
    assert api["total"] == 1 and (api["offset"], api["limit"]) == (0, 50)
    assert entry["actor"] == "李晓(10001)" and entry["action_label"] == "修改" and entry["entity_label"] == "客户"
    assert entry["changes"] == {"notes": ["智能家居标准版用户", "已回访"]}  # as stored, for programs
    assert entry["changes_shown"] == [{"field": "notes", "label": "备注", "old": "智能家居标准版用户", "new": "已回访"}]
    assert entry["at"].endswith("+08:00")


def test_id_numbers_stay_masked_and_unknown_values_show_as_stored(app: FastAPI, supervisor: TestClient) -> None:
    record_at(app, TUESDAY_MORNING, None, "archive_magic", "gizmo", 7, {"colour": [None, "blue"]})
    shown = text_of(supervisor.get("/audit").text)
    assert "110101199003074518" not in shown and "1*****************" in shown  # 张伟's, masked when stored
    assert "系统 archive_magic gizmo 7 colour: 空 → blue" in shown  # no label: shown as stored
    agent = client_for(app, "10001")
    for url in ("/audit", "/audit/export", "/api/audit"):
        assert agent.get(url).status_code == 403, url  # supervisors and admins only


def test_every_action_and_object_kind_the_demo_writes_has_a_chinese_label(app_factory: AppFactory) -> None:
    app = app_factory(activity=True)  # calls, scorecards, work orders through their whole flow, articles
    with app.state.sessions() as session:
        stored = {
            (row.action, row.entity)
            for row in session.execute(select(audit.AuditEntry.action, audit.AuditEntry.entity))
        }
    assert len(stored) > 10
    for action, entity in stored:
        assert audit.AuditAction.parse(action).label and audit.AuditEntity.parse(entity).label


def test_filters_by_day_operator_action_and_object(app: FastAPI, supervisor: TestClient) -> None:
    li, wang = user_id(app, "10001"), user_id(app, "10002")
    morning = record_at(app, TUESDAY_MORNING, li, "view", "customer", 1)
    night = record_at(app, MONDAY_NIGHT, wang, "view", "customer", 2)
    record_at(app, TUESDAY_MORNING + timedelta(days=1), li, "view", "customer", 3)

    def ids(**params: Any) -> list[int]:
        answer = supervisor.get("/api/audit", params=params)
        assert answer.status_code == 200, answer.text
        return [e["id"] for e in answer.json()["entries"]]

    # The centre's calendar: 23:30 UTC on the 11th is the 12th in Shanghai, 15:30 UTC is the 11th.
    assert ids(start="2024-03-12", end="2024-03-12") == [morning]
    assert ids(start="2024-03-11", end="2024-03-11") == [night]
    assert ids(start="2024-03-11", end="2024-03-12") == [morning, night]
    assert ids(actor_id=wang, action="view") == [night]
    assert ids(action="查看", entity="客户", entity_id="1") == [morning]  # labels work as well as values
    page = supervisor.get("/audit", params={"start": "2024-03-12", "end": "2024-03-12", "entity": "customer"})
    rows = re.findall(r'<tr data-entry="(\d+)">', page.text)
    assert rows == [str(morning)] and "共 1 条" in text_of(page.text)
    assert 'value="2024-03-12"' in page.text and '<option value="customer" selected>' in page.text  # kept

    backwards = supervisor.get("/api/audit", params={"start": "2024-03-12", "end": "2024-03-11"})
    assert backwards.status_code == 422 and "结束日期不能早于开始日期" in backwards.text
    far = supervisor.get("/api/audit", params={"end": "9999-12-31"})  # a day no log has: refused, not a 500
    assert far.status_code == 422 and far.json()["errors"][0]["message"] == "不能大于 2999-12-31"
    unknown = supervisor.get("/api/audit", params={"action": "fly"})
    assert unknown.status_code == 422 and "操作应为" in unknown.json()["errors"][0]["message"]
    page = supervisor.get("/audit", params={"start": "2024-03-12", "end": "2024-03-11"})
    assert page.status_code == 422 and "结束日期:结束日期不能早于开始日期" not in page.text
    assert "结束日期不能早于开始日期" in text_of(page.text)


def test_pages_of_fifty_with_the_total(app: FastAPI, supervisor: TestClient) -> None:
    li = user_id(app, "10001")
    with transaction(app.state.sessions) as session:
        for n in range(120):
            audit.record(session, li, "read", "knowledge", n)
    total = supervisor.get("/api/audit", params={"action": "read"}).json()["total"]
    assert total == 120
    first = supervisor.get("/audit", params={"action": "read"})
    assert len(re.findall(r'<tr data-entry="', first.text)) == 50
    assert "共 120 条 · 第 1 / 3 页" in text_of(first.text)
    assert 'href="/audit?action=read&amp;page=2" rel="next"' in first.text  # the filter goes along
    last = supervisor.get("/audit", params={"action": "read", "page": "3"})
    assert len(re.findall(r'<tr data-entry="', last.text)) == 20 and "第 3 / 3 页" in text_of(last.text)
    past = supervisor.get("/audit", params={"action": "read", "page": "99"})  # the last page, not nothing
    assert len(re.findall(r'<tr data-entry="', past.text)) == 20
    api = supervisor.get("/api/audit", params={"action": "read", "limit": 100, "offset": 100}).json()
    assert len(api["entries"]) == 20 and api["total"] == 120
    newest = [e["id"] for e in supervisor.get("/api/audit", params={"action": "read", "limit": 200}).json()["entries"]]
    assert newest == sorted(newest, reverse=True)


def test_csv_export_of_the_filtered_entries(app: FastAPI, supervisor: TestClient) -> None:
    li = user_id(app, "10001")
    record_at(app, TUESDAY_MORNING, li, "update", "customer", 1, {"address": ["旧地址", None]}, detail="=1+1")
    record_at(app, MONDAY_NIGHT, li, "update", "customer", 2, {"address": [None, "新地址"]})
    answer = supervisor.get("/audit/export", params={"start": "2024-03-12", "action": "update"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert re.search(r'attachment; filename="audit-log-\d{8}-\d{4}\.csv"', answer.headers["content-disposition"])
    assert answer.content.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads the Chinese
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [(r["时间"], r["操作人"], r["操作"], r["对象"], r["变更(原值 → 新值)"], r["说明"]) for r in rows] == [
        ("2024-03-12 07:30:00", "李晓(10001)", "修改", "客户 1", "地址:旧地址 → 空", "'=1+1")
    ]
    [exported] = supervisor.get("/api/audit", params={"action": "export", "entity": "audit_log"}).json()["entries"]
    assert exported["actor"] == "刘洋(50001)" and "导出审计日志 1 条" in exported["detail"]
    assert "2024-03-12 至 今天" in exported["detail"] and "操作:修改" in exported["detail"]


def test_the_export_refuses_a_wrong_filter_in_chinese(app: FastAPI, supervisor: TestClient) -> None:
    answer = supervisor.get("/audit/export", params={"start": "昨天"})
    assert answer.status_code == 422 and "开始日期:" in text_of(answer.text) and "日期" in text_of(answer.text)


# ---------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("audit")
    app = create_app(Settings(data_dir=folder, secret_key="browser-test"))
    seed_demo(app.state.sessions, activity=False, must_change_password=False)
    with transaction(app.state.sessions) as session:  # a long log: a page, not a 17,900-pixel wall
        for n in range(140):
            audit.record(session, None, "read", "knowledge", n, detail=f"已阅读第 {n} 次")
    with live_server(app) as url:
        yield url


def test_a_supervisor_filters_and_pages_through_the_log(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=server)
    page = context.new_page()
    login(page, server, "50001")
    page.goto("/audit")
    assert page.locator("table.audit tbody tr").count() == 50
    assert page.evaluate("document.documentElement.scrollHeight") < 8000
    with page.expect_navigation():  # choosing an action filters at once
        page.locator("select[name=action]").select_option(label="阅读")
    assert "action=read" in page.url
    actions = page.locator("table.audit tbody td[data-action]").all_inner_texts()
    assert len(actions) == 50 and set(actions) == {"阅读"}
    assert "共 140 条 · 第 1 / 3 页" in page.locator("#audit-count").inner_text()
    page.get_by_role("link", name="下一页").click()
    page.wait_for_url("**page=2**")
    assert "第 2 / 3 页" in page.locator("#audit-count").inner_text() and "action=read" in page.url
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 CSV").click()
    data = download.value.path().read_bytes().decode("utf-8-sig")
    assert len(data.strip().splitlines()) == 141 and data.startswith("时间,操作人,操作")
    context.close()
