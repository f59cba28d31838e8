"""A customer's contact history (calls and work orders in one list) on SQLite and PostgreSQL: the
plain function, GET /api/customers/{id}/history and the customer page, with bad filters and masking."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from browser_helpers import login
from conftest import AppFactory, client_for, live_server, reader
from kefu.accounts.models import User
from kefu.calls.schemas import CallCreate
from kefu.core import audit
from kefu.core.db import transaction
from kefu.core.errors import Invalid, NotFound
from kefu.core.privacy import Reader
from kefu.core.settings import Settings
from kefu.customers.models import Customer
from kefu.demo import seed_demo
from kefu.flows.intake import do_record_call
from kefu.overviews.customer_history import HistoryQuery, customer_history, parse_query
from kefu.web.app import create_app
from kefu.workorders.schemas import WorkOrderCreate
from kefu.workorders.service import do_create

CENTRE = timezone(timedelta(hours=8))  # the default centre clock (Asia/Shanghai)


def agent(customer_id: int, level: int = 0) -> Reader:
    """An agent reading the history with ``level`` identity factors of the customer checked."""
    return reader("agent", {customer_id: level})


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2026 on the centre's clock."""
    return datetime(2026, 3, day, hour, minute, tzinfo=CENTRE)


@dataclass(frozen=True)
class World:
    zhang: int
    lin: int
    calls: dict[str, int]
    orders: dict[str, int]


def build(factory: sessionmaker[Session]) -> World:
    """On top of the demo logins and customers (no demo activity): 张伟's three calls and two
    work orders over 2–6 March, and one call of 林芳 that must never show in 张伟's history."""
    with transaction(factory) as session:
        agent = session.scalar(select(User).where(User.agent_no == "10001"))
        assert agent is not None
        zhang = session.scalar(select(Customer).where(Customer.phone == "13812345678"))
        lin = session.scalar(select(Customer).where(Customer.phone == "13987654321"))
        assert zhang is not None and lin is not None

        def call(key: str, ring: datetime, reason: str, summary: str | None, customer: Customer = zhang) -> int:
            answered = {"answered_at": ring + timedelta(seconds=6), "ended_at": ring + timedelta(minutes=3)}
            data = CallCreate(
                direction="inbound",
                ring_at=ring,
                customer_id=customer.id,
                agent_id=agent.id,
                caller_number=customer.phone,
                reason=reason,
                summary=summary,
                **(answered if key != "missed" else {}),
            )
            return do_record_call(session, agent.id, data).id

        calls = {
            "fault": call("fault", at(2, 9), "fault", "宽带无法上网,客户手机 13812345678,身份证 110101199003074518"),
            "missed": call("missed", at(5, 23, 50), "query", None),  # the last minutes of 5 March
            "late": call("late", at(6, 0, 5), "consult.tariff", "咨询资费"),  # already 6 March
            "other": call("other", at(4, 10), "fault", "林芳的来电", customer=lin),
        }
        orders = {
            "fault": do_create(
                session,
                agent.id,
                WorkOrderCreate(
                    type="故障类",
                    priority="高",
                    title="故障申告 - 张伟",
                    customer_id=zhang.id,
                    description="宽带无法上网",
                    measures_taken="已指导重启光猫,无效",
                    call_id=calls["fault"],
                ),
                now=at(2, 9, 10),
            ).id,
            "complaint": do_create(
                session,
                agent.id,
                WorkOrderCreate(
                    type="投诉类",
                    priority="紧急",
                    title="上门维修迟到",
                    customer_id=zhang.id,
                    description="工程师上门迟到两小时",
                    handling_suggestion="致歉并安排回访",
                    departments="网络部",
                ),
                now=at(4, 15),
            ).id,
        }
        return World(zhang.id, lin.id, calls, orders)


def kinds_and_ids(items: list) -> list[tuple[str, int]]:  # type: ignore[type-arg]
    return [(item.kind, item.id) for item in items]


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> tuple[sessionmaker[Session], World]:
    seed_demo(sessions, activity=False, must_change_password=False)
    return sessions, build(sessions)


# ---------------------------------------------------------------- the plain function


def test_calls_and_orders_in_one_list_newest_first(world) -> None:  # type: ignore[no-untyped-def]
    sessions, w = world
    with sessions() as session:
        items = customer_history(session, agent(w.zhang, 1), w.zhang)
    assert kinds_and_ids(items) == [
        ("call", w.calls["late"]),
        ("call", w.calls["missed"]),
        ("work_order", w.orders["complaint"]),
        ("work_order", w.orders["fault"]),
        ("call", w.calls["fault"]),
    ]
    late, missed, complaint, fault_order, fault_call = items
    assert late.at == at(6, 0, 5) and late.at.utcoffset() == timedelta(hours=8)  # on the centre's clock
    assert (late.label, late.status, late.url, late.kind_label) == (
        "咨询-资费",
        "已接通",
        f"/calls/{late.id}",
        "通话·呼入",
    )
    assert missed.status == "未接通" and missed.title == "呼入通话(无小结)" and missed.label == "查询"
    assert (complaint.label, complaint.status, complaint.url) == ("投诉类", "待处理", f"/workorders/{complaint.id}")
    assert complaint.number is not None and complaint.number.startswith("GD20260304-")
    assert fault_order.title == "故障申告 - 张伟" and fault_call.label == "故障申告"
    assert w.calls["other"] not in [i.id for i in items if i.kind == "call"]  # 林芳's call is hers only


def test_date_range_includes_both_days_on_the_centres_clock(world) -> None:  # type: ignore[no-untyped-def]
    sessions, w = world
    with sessions() as session:
        fifth = customer_history(
            session, agent(w.zhang), w.zhang, HistoryQuery(start=date(2026, 3, 5), end=date(2026, 3, 5))
        )
        assert kinds_and_ids(fifth) == [("call", w.calls["missed"])]  # 23:50 is the 5th, 00:05 is not
        from_fourth = customer_history(session, agent(w.zhang), w.zhang, parse_query("2026-03-04", None, None))
        assert kinds_and_ids(from_fourth) == [
            ("call", w.calls["late"]),
            ("call", w.calls["missed"]),
            ("work_order", w.orders["complaint"]),
        ]
        until_second = customer_history(session, agent(w.zhang), w.zhang, parse_query("", "2026-03-02", ""))
        assert kinds_and_ids(until_second) == [("work_order", w.orders["fault"]), ("call", w.calls["fault"])]
        assert customer_history(session, agent(w.zhang), w.zhang, parse_query("2026-03-07", "2026-03-31")) == []


def test_filter_by_kind_order_type_or_call_reason(world) -> None:  # type: ignore[no-untyped-def]
    sessions, w = world
    with sessions() as session:

        def ids(type_: str) -> list[tuple[str, int]]:
            return kinds_and_ids(customer_history(session, agent(w.zhang), w.zhang, parse_query(type=type_)))

        assert ids("work_order") == [("work_order", w.orders["complaint"]), ("work_order", w.orders["fault"])]
        assert ids("call") == [("call", w.calls["late"]), ("call", w.calls["missed"]), ("call", w.calls["fault"])]
        assert ids("work_order:complaint") == ids("work_order:投诉类") == [("work_order", w.orders["complaint"])]
        assert ids("call:fault") == ids("call:故障申告") == [("call", w.calls["fault"])]
        assert ids("工单") == ids("work_order")
        assert ids("work_order:suggestion") == []
        both = customer_history(
            session, agent(w.zhang), w.zhang, parse_query("2026-03-02", "2026-03-03", "work_order:fault")
        )
        assert kinds_and_ids(both) == [("work_order", w.orders["fault"])]
        assert parse_query(type="call:故障申告").type_value == "call:fault"


def test_the_limit_keeps_the_newest_across_both_kinds(world) -> None:  # type: ignore[no-untyped-def]
    sessions, w = world
    with sessions() as session:
        items = customer_history(session, agent(w.zhang), w.zhang, limit=3)
    assert kinds_and_ids(items) == [
        ("call", w.calls["late"]),
        ("call", w.calls["missed"]),
        ("work_order", w.orders["complaint"]),
    ]


@pytest.mark.parametrize(
    ("start", "end", "type_", "message"),
    [
        ("2026-03-06", "2026-03-02", None, "开始日期 2026-03-06 不能晚于结束日期 2026-03-02"),
        ("2026-02-30", None, None, "开始日期“2026-02-30”格式不正确"),
        (None, "3月5日", None, "结束日期“3月5日”格式不正确"),
        (None, None, "letters", "类型“letters”无法识别"),
        (None, None, "work_order:repair", "工单类型应为咨询类、投诉类、故障类、建议类之一"),
        (None, None, "call:天气", "未知的来电原因“天气”"),
    ],
)
def test_bad_filters_are_explained_in_chinese(
    start: str | None, end: str | None, type_: str | None, message: str
) -> None:
    with pytest.raises(Invalid) as problem:
        parse_query(start, end, type_)
    assert str(problem.value).startswith("筛选条件有误:") and message in str(problem.value)


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(Invalid) as problem:
        parse_query("yesterday", "2026-03-01", "nonsense")
    assert "开始日期" in str(problem.value) and "类型" in str(problem.value)


def test_masked_history_shows_no_personal_data(world) -> None:  # type: ignore[no-untyped-def]
    sessions, w = world
    with sessions() as session:
        masked = {(i.kind, i.id): i.title for i in customer_history(session, agent(w.zhang), w.zhang)}
        plain = {(i.kind, i.id): i.title for i in customer_history(session, agent(w.zhang, 1), w.zhang)}
    texts = " ".join(masked.values())
    for secret in ("张伟", "13812345678", "110101199003074518"):
        assert secret not in texts
        assert secret in " ".join(plain.values())
    assert masked[("work_order", w.orders["fault"])] == "故障申告 - 张*"
    assert "138********" in masked[("call", w.calls["fault"])] and "1*****************" in texts


def test_an_unknown_customer_is_not_found(world) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = world
    with sessions() as session, pytest.raises(NotFound):
        customer_history(session, agent(999_999), 999_999)


# ---------------------------------------------------------------- the API and the page


@pytest.fixture
def app(app_factory: AppFactory) -> tuple[FastAPI, World]:
    application = app_factory()
    return application, build(application.state.sessions)


def test_api_history_with_filters(app) -> None:  # type: ignore[no-untyped-def]
    application, w = app
    agent = client_for(application)
    answer = agent.get(f"/api/customers/{w.zhang}/history")
    assert answer.status_code == 200
    items = answer.json()
    assert [(i["kind"], i["id"]) for i in items][:3] == [
        ("call", w.calls["late"]),
        ("call", w.calls["missed"]),
        ("work_order", w.orders["complaint"]),
    ]
    first = items[0]
    assert set(first) >= {"kind", "id", "at", "title", "label", "status", "url"}
    assert first["at"] == "2026-03-06T00:05:00+08:00" and first["url"] == f"/calls/{w.calls['late']}"

    only_orders = agent.get(f"/api/customers/{w.zhang}/history", params={"type": "work_order"}).json()
    assert [i["kind"] for i in only_orders] == ["work_order", "work_order"]
    ranged = agent.get(
        f"/api/customers/{w.zhang}/history", params={"from": "2026-03-05", "to": "2026-03-05", "type": "call:查询"}
    ).json()
    assert [(i["id"], i["label"], i["status"]) for i in ranged] == [(w.calls["missed"], "查询", "未接通")]
    assert len(agent.get(f"/api/customers/{w.zhang}/history", params={"limit": 2}).json()) == 2
    with application.state.sessions() as session:
        views = [e for e in audit.entries(session, entity="customer") if e.detail == "联系历史"]
    assert len(views) == 4 and all(e.entity_id == str(w.zhang) for e in views)


def test_api_history_is_masked_until_the_identity_check(app) -> None:  # type: ignore[no-untyped-def]
    application, w = app
    agent = client_for(application)
    url = f"/api/customers/{w.zhang}/history"
    assert "张伟" not in agent.get(url).text and "13812345678" not in agent.get(url).text
    assert agent.post(f"/api/customers/{w.zhang}/verify", json={"phone_last4": "5678"}).status_code == 200
    assert "故障申告 - 张伟" in agent.get(url).text


def test_api_history_refuses_bad_filters_and_missing_permission(app) -> None:  # type: ignore[no-untyped-def]
    application, w = app
    agent = client_for(application)
    url = f"/api/customers/{w.zhang}/history"
    backwards = agent.get(url, params={"from": "2026-03-06", "to": "2026-03-01"})
    assert (
        backwards.status_code == 422 and "开始日期 2026-03-06 不能晚于结束日期 2026-03-01" in backwards.json()["detail"]
    )
    malformed = agent.get(url, params={"to": "2026/03/01"})
    assert malformed.status_code == 422 and "结束日期“2026/03/01”格式不正确" in malformed.json()["detail"]
    unknown = agent.get(url, params={"type": "fax"})
    assert unknown.status_code == 422 and "类型“fax”无法识别" in unknown.json()["detail"]
    assert agent.get(url, params={"limit": 0}).status_code == 422
    assert agent.get("/api/customers/999999/history").status_code == 404

    trainer = client_for(application, "40001")  # 培训师: no customer data
    denied = trainer.get(url)
    assert denied.status_code == 403 and "无权" in denied.json()["detail"]
    assert TestClient(application).get(url).status_code == 401
    with application.state.sessions() as session:  # only the successful reads were logged
        assert [e for e in audit.entries(session, entity="customer") if e.detail == "联系历史"] == []


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-kind="(\w+)">', html)


def test_customer_page_shows_and_filters_the_history(app) -> None:  # type: ignore[no-untyped-def]
    application, w = app
    agent = client_for(application)
    page = agent.get(f"/customers/{w.zhang}")
    assert page.status_code == 200 and 'id="history"' in page.text
    assert rows(page.text) == ["call", "call", "work_order", "work_order", "call"]
    assert "故障申告 - 张*" in page.text and "13812345678" not in page.text and "张伟" not in page.text
    assert f'href="/workorders/{w.orders["fault"]}"' in page.text and f'href="/calls/{w.calls["fault"]}"' in page.text

    orders = agent.get(f"/customers/{w.zhang}", params={"type": "work_order"})
    assert rows(orders.text) == ["work_order", "work_order"]
    assert '<option value="work_order" selected>' in orders.text and "清除条件" in orders.text
    empty = agent.get(f"/customers/{w.zhang}", params={"from": "2026-04-01"})
    assert rows(empty.text) == [] and "没有符合条件的通话或工单" in empty.text
    assert 'value="2026-04-01"' in empty.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-03-06", "to": "2026-03-01"}, "开始日期 2026-03-06 不能晚于结束日期 2026-03-01"),
        ({"from": "06/03/2026"}, "开始日期“06/03/2026”格式不正确,应为 2026-03-01 这样的日期"),
        ({"type": "work_order:维修"}, "工单类型应为咨询类、投诉类、故障类、建议类之一"),
    ],
)
def test_customer_page_explains_a_bad_filter(app, params: dict[str, str], message: str) -> None:  # type: ignore[no-untyped-def]
    application, w = app
    page = client_for(application).get(f"/customers/{w.zhang}", params=params)
    assert page.status_code == 422
    alert = re.search(r'<p class="error" role="alert">(.*?)</p>', page.text)
    assert alert is not None and message in alert.group(1)
    assert 'data-field="phone">138********<' in page.text  # the page itself still shows, masked
    assert "张伟" not in page.text


# ---------------------------------------------------------------- in a real browser (SQLite)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    folder = tmp_path_factory.mktemp("kefu-history")
    application = create_app(Settings(data_dir=folder, secret_key="browser-test"))
    seed_demo(application.state.sessions, activity=False, must_change_password=False)
    built = build(application.state.sessions)
    with live_server(application) as url:
        yield url, built
    application.state.engine.dispose()


@pytest.fixture
def page(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=server[0])
    yield context.new_page()
    context.close()


def test_agent_filters_the_customer_history_to_work_orders(page, server) -> None:  # type: ignore[no-untyped-def]
    url, w = server
    login(page, url, "10001")
    page.goto("/customers?q=13812345678")
    page.locator("table.list tbody tr").get_by_role("link").click()
    page.wait_for_url(f"**/customers/{w.zhang}")
    history = page.locator("#history table.history tbody tr")
    assert history.count() == 5
    assert "张伟" not in page.locator("#history").inner_text()  # masked before the identity check

    page.locator("#history").get_by_label("类型").select_option(label="全部工单")
    with page.expect_navigation():
        page.locator("#history").get_by_role("button", name="筛选").click()
    assert "type=work_order" in page.url
    kinds = history.evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds == ["work_order", "work_order"]
    assert history.first.get_by_role("link").get_attribute("href") == f"/workorders/{w.orders['complaint']}"
    assert page.locator("#history select[name=type]").input_value() == "work_order"  # the filter stays shown

    page.goto(f"/customers/{w.zhang}?from=2026-03-09&to=2026-03-01")  # a bookmarked, wrong range
    assert "开始日期 2026-03-09 不能晚于结束日期 2026-03-01" in page.locator("#history [role=alert]").inner_text()
