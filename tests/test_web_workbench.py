"""工作台 on SQLite and PostgreSQL: my open work orders by deadline (overdue ones first and red),
today's call numbers and calls, nothing of other agents or other days; then in real Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from browser_helpers import login
from conftest import AppFactory, client_for, live_server
from kefu.accounts.models import User
from kefu.calls import service as calls
from kefu.calls.schemas import CallCreate
from kefu.core.clock import on_centre_clock
from kefu.core.db import transaction, utcnow
from kefu.core.settings import Settings
from kefu.customers.models import Customer
from kefu.demo import seed_demo
from kefu.flows import intake
from kefu.web.app import create_app
from kefu.workorders import service as workorders
from kefu.workorders.schemas import WorkOrderCreate


@dataclass(frozen=True)
class Desk:
    overdue: str  # work-order numbers
    fresh: str
    handed_over: str  # 王敏's order, assigned to 李晓
    not_mine: str
    resolved: str
    today_calls: list[int]
    yesterday_call: int
    colleague_call: int


def build(factory: sessionmaker[Session]) -> Desk:
    """李晓 (10001): an urgent fault order ten days old (long overdue), a consultation created now,
    one of 王敏's orders assigned to 李晓, a resolved one; two calls today and one yesterday.
    王敏 (10002): an order and a call of her own. All through the real services."""
    now = utcnow()
    with transaction(factory) as session:
        li = session.scalar(select(User).where(User.agent_no == "10001"))
        wang = session.scalar(select(User).where(User.agent_no == "10002"))
        zhang = session.scalar(select(Customer).where(Customer.phone == "13812345678"))
        assert li is not None and wang is not None and zhang is not None

        def order(actor: User, created: datetime, **fields: object) -> str:
            values = {"customer_id": zhang.id, "description": "客户反映的问题", **fields}
            return workorders.do_create(session, actor.id, WorkOrderCreate(**values), now=created).number

        overdue = order(
            li,
            now - timedelta(days=10),
            type="故障类",
            priority="紧急",
            title="摄像头离线",
            measures_taken="已远程重启",
        )
        fresh = order(li, now, type="咨询类", priority="中", title="套餐资费咨询")
        handed_over = order(wang, now, type="咨询类", priority="高", title="发票开具", assignee_id=li.id)
        not_mine = order(wang, now - timedelta(days=9), type="咨询类", priority="低", title="王敏的工单")
        resolved = order(li, now - timedelta(days=8), type="咨询类", priority="中", title="已解决的工单")
        resolved_order = workorders.get_by_number(session, resolved)
        workorders.do_resolve(session, li.id, resolved_order.id, measures_taken="已解答", now=now - timedelta(days=7))

        start, _ = calls.day_range(now)
        ring = start + (now - start) / 2  # within today on the centre's clock, whatever the hour

        def call(agent: User, rang: datetime, direction: str, answered: bool, reason: str) -> int:
            times = {"answered_at": rang + timedelta(seconds=5), "ended_at": rang + timedelta(seconds=65)}
            data = CallCreate(
                direction=direction,
                ring_at=rang,
                customer_id=zhang.id,
                agent_id=agent.id,
                reason=reason,
                summary="测试通话",
                **(times if answered else {}),
            )
            return intake.do_record_call(session, None, data).id

        today = [
            call(li, ring, "inbound", True, "fault"),
            call(li, ring + timedelta(seconds=1), "outbound", False, "callback"),
        ]
        yesterday = call(li, start - timedelta(hours=2), "inbound", True, "query")
        colleague = call(wang, ring, "inbound", True, "query")
    return Desk(overdue, fresh, handed_over, not_mine, resolved, today, yesterday, colleague)


@pytest.fixture
def app(app_factory: AppFactory) -> tuple[FastAPI, Desk]:
    application = app_factory()
    return application, build(application.state.sessions)


def section(html: str, id_: str) -> str:
    match = re.search(rf'<section class="card" id="{id_}">(.*?)</section>', html, re.S)
    assert match is not None, f"#{id_} missing"
    return match.group(1)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_my_open_orders_soonest_deadline_first_overdue_in_red(app) -> None:  # type: ignore[no-untyped-def]
    application, desk = app
    html = client_for(application).get("/").text
    orders = section(html, "my-orders")
    rows = re.findall(r'<tr class="(overdue)?" data-number="([^"]+)">(.*?)</tr>', orders, re.S)
    assert rows[0][1] == desk.overdue
    assert {number for _, number, _ in rows} == {desk.overdue, desk.fresh, desk.handed_over}  # owner or assignee
    assert [number for cls, number, _ in rows if cls] == [desk.overdue]
    first = text(rows[0][2])
    assert first.startswith(desk.overdue) and "故障类 紧急 摄像头离线 待处理" in first and first.endswith("已超时")
    assert "已超时" not in text("".join(cells for cls, _, cells in rows if not cls))
    assert re.search(rf'<a href="/workorders/\d+">{desk.overdue}</a>', orders) and "1 条已超时" in text(orders)

    with application.state.sessions() as session:  # the deadlines, on the centre's clock
        li = session.scalar(select(User.id).where(User.agent_no == "10001"))
        expected = [
            (order.number, on_centre_clock(due).strftime("%Y-%m-%d %H:%M"))
            for order, due in workorders.open_orders_by_deadline(session, li)  # type: ignore[arg-type]
            if due is not None
        ]
    assert [n for n, _ in expected] == [n for _, n, _ in rows]
    for (number, due), (_, _, cells) in zip(expected, rows, strict=True):
        assert due in text(cells), number


def test_todays_numbers_and_calls_only_mine_and_only_today(app) -> None:  # type: ignore[no-untyped-def]
    application, desk = app
    today = section(client_for(application).get("/").text, "today")
    assert re.search(r'id="today-calls">2<', today) and re.search(r'id="today-answered">1<', today)
    numbers = text(today)
    assert "呼入 / 呼出 1 / 1" in numbers
    assert (
        "总通话时长 1 分 0 秒" in numbers and "平均处理时长 1 分 0 秒" in numbers and "平均振铃时长 5.0 秒" in numbers
    )
    links = re.findall(r'href="/calls/(\d+)"', today)
    assert sorted(map(int, links)) == sorted(desk.today_calls)
    assert "未接通" in numbers and "故障申告" in numbers and "回访" in numbers

    colleague = section(client_for(application, "10002").get("/").text, "today")
    assert re.search(r'id="today-calls">1<', colleague)
    assert re.findall(r'href="/calls/(\d+)"', colleague) == [str(desk.colleague_call)]


def test_workbench_without_customer_data_still_greets(app) -> None:  # type: ignore[no-untyped-def]
    application, _ = app
    html = client_for(application, "40001").get("/").text  # 培训师: no customer data, no calls
    assert 'id="opening"' in html and 'id="knowledge-updates"' in html
    assert 'id="my-orders"' not in html and 'id="today"' not in html


def test_no_open_orders_and_no_calls_say_so(app) -> None:  # type: ignore[no-untyped-def]
    application, _ = app
    html = client_for(application, "20001").get("/").text  # 班组长 陈静: nothing today
    assert "没有待办工单" in text(section(html, "my-orders"))
    today = section(html, "today")
    assert re.search(r'id="today-calls">0<', today) and "今天还没有通话" in text(today)


# ---------------------------------------------------------------- in a real browser (SQLite)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("kefu-workbench")
    application = create_app(Settings(data_dir=folder, secret_key="browser-test"))
    seed_demo(application.state.sessions, activity=False, must_change_password=False)
    build(application.state.sessions)
    with live_server(application) as url:
        yield url
    application.state.engine.dispose()


@pytest.fixture
def page(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=server)
    yield context.new_page()
    context.close()


def test_agent_sees_the_overdue_order_first_and_todays_calls(page, server) -> None:  # type: ignore[no-untyped-def]
    login(page, server, "10001")
    assert page.locator("h1").inner_text() == "工作台"
    rows = page.locator("#my-orders tbody tr")
    assert rows.count() == 3
    first = rows.first
    assert first.get_attribute("class") == "overdue" and "已超时" in first.inner_text()
    assert "摄像头离线" in first.inner_text()
    red = first.locator("td").nth(3).evaluate("td => getComputedStyle(td).color")
    assert red == "rgb(198, 40, 40)"  # --bad
    assert rows.nth(1).get_attribute("class") == "" and "已超时" not in rows.nth(1).inner_text()
    for card in ("#my-orders", "#today", "#opening"):  # the essentials fit a 1366×768 screen
        box = page.locator(card).bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1366 and box["y"] < 768, card

    assert page.locator("#today-calls").inner_text() == "2"
    assert page.locator("#today ul.today-calls li").count() == 2
    number = first.get_attribute("data-number")
    first.get_by_role("link").click()
    page.wait_for_url("**/workorders/*")
    assert number in page.locator("h1").inner_text()
