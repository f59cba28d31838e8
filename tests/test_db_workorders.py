"""Work orders: templates, the state machine, 首问负责, transfer, callback, optimistic locking,
audit, per-customer history and escalation of missed deadlines — on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from kefu.accounts import service as accounts
from kefu.core import audit
from kefu.core.clock import centre_tz, utc_as_stored
from kefu.core.db import transaction
from kefu.core.errors import Conflict, Forbidden, Invalid, NotFound
from kefu.core.security import Role
from kefu.customers import service as customers
from kefu.customers.schemas import CustomerCreate
from kefu.workorders import service as wo
from kefu.workorders import sla
from kefu.workorders.demo import seed_demo
from kefu.workorders.models import EventKind, OrderType, Priority, Status, WorkOrder
from kefu.workorders.schemas import Callback, HistoryFilter, Transfer, WorkOrderCreate, WorkOrderUpdate

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=centre_tz())  # a Monday morning on the centre's clock
POLICY = sla.SlaPolicy()


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


@dataclass
class World:
    sessions: sessionmaker[Session]
    agent: int  # 小李, who takes the calls
    colleague: int  # 小王
    lead: int  # 陈组长
    customer: int
    other_customer: int


@pytest.fixture
def world(sessions) -> World:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:

        def user(no: str, name: str, role: Role) -> int:
            return accounts.do_create_user(
                session, None, agent_no=no, name=name, role=role, password="kefu2026", team="一组"
            ).id

        agent = user("12345", "小李", Role.AGENT)
        colleague = user("12346", "小王", Role.AGENT)
        lead = user("20001", "陈组长", Role.TEAM_LEAD)
        zhang = customers.do_create_customer(session, agent, CustomerCreate(name="张伟", phone="13812345678"))
        lin = customers.do_create_customer(session, agent, CustomerCreate(name="林芳", phone="13987654321"))
    return World(sessions, agent, colleague, lead, zhang.id, lin.id)


TEMPLATE_FIELDS: dict[OrderType, dict[str, Any]] = {
    OrderType.CONSULTATION: {"description": "询问智能门锁的保修期"},
    OrderType.COMPLAINT: {
        "description": "宽带三天内断网五次,客户要求赔偿",
        "handling_suggestion": "安排技术人员上门检修,核实后按规定补偿",
        "departments": ["技术部"],
    },
    OrderType.FAULT: {"description": "智能音箱无法连接网络", "measures_taken": "已指导重启设备和路由器,无效"},
    OrderType.SUGGESTION: {"description": "建议 App 增加夜间模式"},
}


def new_order(
    world: World,
    session: Session,
    order_type: OrderType = OrderType.CONSULTATION,
    *,
    now: datetime = T0,
    actor: int | None = None,
    **fields: Any,
) -> WorkOrder:
    values = {
        "type": order_type,
        "title": f"{order_type.label}测试工单",
        "customer_id": world.customer,
        **TEMPLATE_FIELDS[order_type],
        **fields,
    }
    return wo.do_create(session, actor or world.agent, WorkOrderCreate(**values), now=now)


def reload(world: World, order_id: int) -> WorkOrder:
    with world.sessions() as session:
        return wo.get_order(session, order_id)


# ---------------------------------------------------------------- creating


def test_numbers_follow_the_centre_date_and_the_first_agent_owns_the_order(world: World) -> None:
    with transaction(world.sessions) as session:
        first = new_order(world, session)
        second = new_order(world, session, OrderType.FAULT, now=minutes(10))
        late = new_order(world, session, now=T0.replace(hour=23, minute=30))  # 15:30 UTC, still the 23rd
        after_midnight = new_order(world, session, now=T0.replace(hour=23, minute=30) + timedelta(hours=1))
    assert [first.number, second.number, late.number] == ["GD20261123-0001", "GD20261123-0002", "GD20261123-0003"]
    assert after_midnight.number == "GD20261124-0001"
    order = reload(world, first.id)
    assert order.owner_id == order.assignee_id == world.agent and order.status == Status.NEW
    assert [(e.kind, e.to_status) for e in order.events] == [(EventKind.CREATE, Status.NEW)]
    with world.sessions() as session:
        assert wo.get_by_number(session, "gd20261123-0002").id == second.id
        [entry] = [e for e in audit.entries(session, entity="work_order", entity_id=first.id)]
    assert entry.action == "create" and entry.actor_id == world.agent
    assert entry.changes["number"] == [None, "GD20261123-0001"]
    assert entry.changes["description"] == [None, "询问智能门锁的保修期"]


def test_concurrent_creates_all_succeed_with_distinct_numbers(world: World) -> None:
    """Eight agents save a new order at the same moment: every one is saved, numbers follow on."""
    start = threading.Barrier(8)

    def create(_: int) -> str:
        start.wait()
        with transaction(world.sessions) as session:
            return new_order(world, session).number

    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(create, range(8)))
    assert sorted(numbers) == [f"GD20261123-{n:04d}" for n in range(1, 9)]


def test_a_failed_create_gives_its_number_back(world: World) -> None:
    with pytest.raises(NotFound), transaction(world.sessions) as session:
        new_order(world, session)
        new_order(world, session, customer_id=999)  # the whole transaction is rolled back
    with transaction(world.sessions) as session:
        assert new_order(world, session).number == "GD20261123-0001"


def test_an_anonymous_order_and_a_call_link(world: World) -> None:
    with transaction(world.sessions) as session:
        order = new_order(world, session, customer_id=None, contact="13700001111", call_id=4711)
    order = reload(world, order.id)
    assert order.customer_id is None and order.contact == "13700001111" and order.call_id == 4711


def test_unknown_customer_or_user_is_refused(world: World) -> None:
    with pytest.raises(NotFound, match="客户 999 不存在"), transaction(world.sessions) as session:
        new_order(world, session, customer_id=999)
    with pytest.raises(NotFound, match="用户 999 不存在"), transaction(world.sessions) as session:
        new_order(world, session, assignee_id=999)
    with pytest.raises(NotFound, match="工单 999 不存在"), world.sessions() as session:
        wo.get_order(session, 999)


# ---------------------------------------------------------------- templates


@pytest.mark.parametrize(
    ("order_type", "given", "missing"),
    [
        (OrderType.COMPLAINT, {"description": "服务态度差"}, "处理建议、涉及部门"),
        (OrderType.COMPLAINT, {"handling_suggestion": "道歉并回访", "departments": "客服部"}, "问题描述"),
        (OrderType.FAULT, {"description": "无法开机"}, "已采取的处理措施"),
        (OrderType.CONSULTATION, {}, "问题描述"),
        (OrderType.SUGGESTION, {"description": "  "}, "问题描述"),
    ],
)
def test_each_type_needs_the_fields_of_its_template(
    world: World, order_type: OrderType, given: dict[str, Any], missing: str
) -> None:
    data = WorkOrderCreate(type=order_type, title="缺项测试", **given)
    with (
        pytest.raises(Invalid, match=f"^{order_type.label}工单缺少必填项:{missing}$"),
        transaction(world.sessions) as session,
    ):
        wo.do_create(session, world.agent, data, now=T0)
    with world.sessions() as session:
        assert wo.list_orders(session) == []


def test_resolving_needs_the_measures_taken(world: World) -> None:
    with transaction(world.sessions) as session:
        order = new_order(world, session)
        wo.do_start(session, world.agent, order.id, now=minutes(1))
    with (
        pytest.raises(Invalid, match="咨询类工单标记为已解决前须填写:已采取的处理措施"),
        transaction(world.sessions) as session,
    ):
        wo.do_resolve(session, world.agent, order.id, measures_taken="  ", now=minutes(2))
    with transaction(world.sessions) as session:
        wo.do_resolve(session, world.agent, order.id, measures_taken="已告知保修期为两年,凭发票保修", now=minutes(3))
    order = reload(world, order.id)
    assert order.status == Status.RESOLVED and order.measures_taken == "已告知保修期为两年,凭发票保修"
    assert utc_as_stored(order.resolved_at) == utc_as_stored(minutes(3))


def test_a_suggestion_is_recorded_without_a_promise(world: World) -> None:
    promise = T0 + timedelta(days=2)
    with pytest.raises(Invalid, match="建议类工单不能填写承诺时间"), transaction(world.sessions) as session:
        new_order(world, session, OrderType.SUGGESTION, promised_at=promise)
    with transaction(world.sessions) as session:
        suggestion = new_order(world, session, OrderType.SUGGESTION)
        consultation = new_order(world, session, promised_at=promise)  # other types may promise
    with pytest.raises(Invalid, match="不能做出承诺"), transaction(world.sessions) as session:
        wo.do_update(session, world.agent, suggestion.id, WorkOrderUpdate(version=1, promised_at=promise), now=T0)
    with pytest.raises(Invalid, match="不能做出承诺"), transaction(world.sessions) as session:  # nor by a type change
        wo.do_update(session, world.agent, consultation.id, WorkOrderUpdate(version=1, type="建议类"), now=minutes(1))
    with transaction(world.sessions) as session:  # dropping the promise makes the change possible
        wo.do_update(
            session,
            world.agent,
            consultation.id,
            WorkOrderUpdate(version=1, type="建议类", promised_at=None),
            now=minutes(1),
        )
    assert reload(world, consultation.id).type == OrderType.SUGGESTION


def test_a_promised_time_in_the_past_is_refused(world: World) -> None:
    with pytest.raises(Invalid, match="承诺时间应晚于现在"), transaction(world.sessions) as session:
        new_order(world, session, promised_at=T0 - timedelta(hours=1))


# ---------------------------------------------------------------- the state machine


def test_the_transition_table() -> None:
    allowed = wo.ALLOWED
    assert allowed == {
        (Status.NEW, Status.IN_PROGRESS),
        (Status.NEW, Status.WAITING),
        (Status.NEW, Status.RESOLVED),
        (Status.IN_PROGRESS, Status.WAITING),
        (Status.IN_PROGRESS, Status.RESOLVED),
        (Status.WAITING, Status.IN_PROGRESS),
        (Status.RESOLVED, Status.CLOSED),
        (Status.RESOLVED, Status.IN_PROGRESS),
    }


def test_every_legal_transition(world: World) -> None:
    with transaction(world.sessions) as session:
        order = new_order(world, session)
        wo.do_start(session, world.agent, order.id, now=minutes(1))
        wo.do_wait_for_customer(session, world.agent, order.id, "等待客户提供发票照片", now=minutes(2))
        wo.do_resume(session, world.agent, order.id, note="客户已发来照片", now=minutes(3))
        wo.do_resolve(session, world.agent, order.id, measures_taken="已登记保修", now=minutes(4))
        wo.do_reopen(session, world.agent, order.id, "客户表示维修点太远", now=minutes(5))
        wo.do_resolve(session, world.agent, order.id, now=minutes(6))
        wo.do_close(session, world.agent, order.id, now=minutes(7))
        direct = new_order(world, session)
        wo.do_resolve(session, world.agent, direct.id, measures_taken="电话中已解答", now=minutes(8))
        waiting_first = new_order(world, session)
        wo.do_wait_for_customer(session, world.agent, waiting_first.id, "请客户补充设备型号", now=minutes(9))
    order = reload(world, order.id)
    moves = [(e.kind, e.from_status, e.to_status) for e in wo.timeline(order)]
    assert moves == [
        (EventKind.CREATE, None, Status.NEW),
        (EventKind.START, Status.NEW, Status.IN_PROGRESS),
        (EventKind.WAIT, Status.IN_PROGRESS, Status.WAITING),
        (EventKind.RESUME, Status.WAITING, Status.IN_PROGRESS),
        (EventKind.RESOLVE, Status.IN_PROGRESS, Status.RESOLVED),
        (EventKind.REOPEN, Status.RESOLVED, Status.IN_PROGRESS),
        (EventKind.RESOLVE, Status.IN_PROGRESS, Status.RESOLVED),
        (EventKind.CLOSE, Status.RESOLVED, Status.CLOSED),
    ]
    assert order.status == Status.CLOSED and order.closed_at is not None and order.version == 8
    assert [e.note for e in order.events if e.kind == EventKind.REOPEN] == ["客户表示维修点太远"]
    assert reload(world, direct.id).status == Status.RESOLVED
    assert reload(world, waiting_first.id).status == Status.WAITING


def _to(world: World, session: Session, status: Status) -> WorkOrder:
    order = new_order(world, session)
    if status in (Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED, Status.CLOSED):
        wo.do_start(session, world.agent, order.id, now=minutes(1))
    if status == Status.WAITING:
        wo.do_wait_for_customer(session, world.agent, order.id, "等待客户回电", now=minutes(2))
    if status in (Status.RESOLVED, Status.CLOSED):
        wo.do_resolve(session, world.agent, order.id, measures_taken="已解答", now=minutes(2))
    if status == Status.CLOSED:
        wo.do_close(session, world.agent, order.id, now=minutes(3))
    return order


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        (Status.CLOSED, "start", "工单已关闭,不能转为处理中"),
        (Status.CLOSED, "reopen", "工单已关闭,不能重新打开(已关闭的工单不能再打开,客户仍有问题请新建工单)"),
        (Status.CLOSED, "resolve", "工单已关闭,不能标记为已解决"),
        (Status.NEW, "close", "工单尚未开始处理,不能关闭(请先处理并标记为已解决)"),
        (Status.IN_PROGRESS, "close", "工单正在处理中,不能关闭(请先标记为已解决)"),
        (Status.IN_PROGRESS, "reopen", "工单正在处理中,不能重新打开(只有已解决的工单可以重新打开)"),
        (Status.IN_PROGRESS, "start", "工单正在处理中,不能转为处理中"),
        (Status.WAITING, "resolve", "工单正在等待客户回复,不能标记为已解决(请先恢复处理)"),
        (Status.NEW, "resume", "工单尚未开始处理,不能恢复处理"),
        (Status.RESOLVED, "wait", "工单已解决,不能转为待客户回复"),
    ],
)
def test_illegal_transitions_are_refused_with_a_clear_message(
    world: World, status: Status, action: str, message: str
) -> None:
    with transaction(world.sessions) as session:
        order_id = _to(world, session, status).id
    calls = {
        "start": lambda s: wo.do_start(s, world.agent, order_id, now=minutes(10)),
        "reopen": lambda s: wo.do_reopen(s, world.agent, order_id, "客户不满意", now=minutes(10)),
        "resolve": lambda s: wo.do_resolve(s, world.agent, order_id, measures_taken="再次处理", now=minutes(10)),
        "close": lambda s: wo.do_close(s, world.agent, order_id, now=minutes(10)),
        "resume": lambda s: wo.do_resume(s, world.agent, order_id, now=minutes(10)),
        "wait": lambda s: wo.do_wait_for_customer(s, world.agent, order_id, "等待", now=minutes(10)),
    }
    before = reload(world, order_id)
    with pytest.raises(Conflict) as refused, transaction(world.sessions) as session:
        calls[action](session)
    assert str(refused.value) == message
    after = reload(world, order_id)
    assert after.status == status and len(after.events) == len(before.events) and after.version == before.version


def test_reasons_are_required(world: World) -> None:
    with transaction(world.sessions) as session:
        order_id = _to(world, session, Status.RESOLVED).id
        waiting_id = _to(world, session, Status.IN_PROGRESS).id
    with pytest.raises(Invalid, match="重新打开的原因"), transaction(world.sessions) as session:
        wo.do_reopen(session, world.agent, order_id, " ")
    with pytest.raises(Invalid, match="等待客户提供什么"), transaction(world.sessions) as session:
        wo.do_wait_for_customer(session, world.agent, waiting_id, "")
    with pytest.raises(Invalid, match="升级原因"), transaction(world.sessions) as session:
        wo.do_escalate(session, world.agent, waiting_id, "")
    with pytest.raises(Invalid, match="跟进内容不能为空"), transaction(world.sessions) as session:
        wo.do_add_note(session, world.agent, waiting_id, "")


# ---------------------------------------------------------------- 首问负责, assignment and transfer


def test_transfer_needs_background_notes_and_keeps_the_owner(world: World) -> None:
    with pytest.raises(ValidationError, match="转派说明至少 10 个字"):
        Transfer(to_user_id=world.colleague, notes="见上")
    with pytest.raises(ValidationError, match="转派给哪位同事或哪个部门"):
        Transfer(notes="客户宽带断网五次,已重启光猫无效,需上门检修")
    notes = "客户张先生宽带三天断网五次,已远程重启光猫无效,客户要求上门检修并补偿,下午两点后方便"
    with transaction(world.sessions) as session:
        order = new_order(world, session, OrderType.COMPLAINT)
        wo.do_start(session, world.agent, order.id, now=minutes(1))
        wo.do_transfer(
            session, world.agent, order.id, Transfer(to_user_id=world.colleague, to_department="网络部", notes=notes)
        )
    order = reload(world, order.id)
    assert order.owner_id == world.agent and order.assignee_id == world.colleague
    assert order.department == "网络部" and order.departments == ["技术部", "网络部"]
    [event] = [e for e in order.events if e.kind == EventKind.TRANSFER]
    assert event.note == notes and event.data["to"] == "小王(12346)、网络部"
    with world.sessions() as session:
        [entry] = [e for e in audit.entries(session, entity="work_order", entity_id=order.id) if e.action == "transfer"]
    assert entry.changes["assignee_id"] == [world.agent, world.colleague]
    assert entry.changes["departments"] == [["技术部"], ["技术部", "网络部"]]
    with pytest.raises(Invalid, match="无需转派"), transaction(world.sessions) as session:
        wo.do_transfer(session, world.agent, order.id, Transfer(to_user_id=world.colleague, notes=notes))


def test_closed_orders_cannot_be_transferred_assigned_or_changed(world: World) -> None:
    with transaction(world.sessions) as session:
        order_id = _to(world, session, Status.CLOSED).id
    notes = "客户仍有疑问,请协助再次说明保修政策"
    for call, verb in [
        (lambda s: wo.do_transfer(s, world.agent, order_id, Transfer(to_user_id=world.colleague, notes=notes)), "转派"),
        (lambda s: wo.do_assign(s, world.lead, order_id, world.colleague), "指派"),
        (lambda s: wo.do_update(s, world.agent, order_id, WorkOrderUpdate(version=4, title="新标题")), "修改"),
        (lambda s: wo.do_escalate(s, world.agent, order_id, "客户要求主管处理"), "升级"),
    ]:
        with pytest.raises(Conflict, match=f"工单已关闭,不能{verb}"), transaction(world.sessions) as session:
            call(session)


def test_assignment_changes_the_assignee_not_the_owner(world: World) -> None:
    with transaction(world.sessions) as session:
        order = new_order(world, session)
        wo.do_assign(session, world.lead, order.id, world.colleague, note="小王熟悉门锁产品", now=minutes(1))
    order = reload(world, order.id)
    assert (order.owner_id, order.assignee_id) == (world.agent, world.colleague)
    assert order.events[-1].note == "指派给 小王(12346):小王熟悉门锁产品"
    with pytest.raises(Invalid, match="无需重复指派"), transaction(world.sessions) as session:
        wo.do_assign(session, world.lead, order.id, world.colleague)


def test_only_the_owner_or_a_team_lead_closes(world: World) -> None:
    with transaction(world.sessions) as session:
        first = _to(world, session, Status.RESOLVED).id
        second = _to(world, session, Status.RESOLVED).id
        wo.do_assign(session, world.lead, first, world.colleague, now=minutes(1))  # 小王 handles it now
    with (
        pytest.raises(Forbidden, match=re.escape("首问负责制:工单由首问负责人 小李(12345)跟进到关闭")),
        transaction(world.sessions) as session,
    ):
        wo.do_close(session, world.colleague, first)
    with transaction(world.sessions) as session:
        wo.do_close(session, world.agent, first, now=minutes(5))
        wo.do_close(session, world.lead, second, now=minutes(5))
    assert reload(world, first).status == reload(world, second).status == Status.CLOSED


# ---------------------------------------------------------------- complaints and callbacks


def test_a_complaint_goes_through_its_stages_and_closes_only_after_a_callback(world: World) -> None:
    with transaction(world.sessions) as session:
        order = new_order(world, session, OrderType.COMPLAINT, priority="紧急")
    with (
        pytest.raises(Conflict, match=re.escape("不能分类定级(请在处理中进行)")),
        transaction(world.sessions) as session,
    ):
        wo.do_classify(session, world.agent, order.id, category="网络质量")
    with transaction(world.sessions) as session:
        wo.do_start(session, world.agent, order.id, now=minutes(5))
    with pytest.raises(Conflict, match="尚未完成分类与分级"), transaction(world.sessions) as session:
        wo.do_resolve(session, world.agent, order.id, measures_taken="已上门更换光猫", now=minutes(30))
    with transaction(world.sessions) as session:
        wo.do_classify(
            session, world.agent, order.id, category="网络质量", priority="高", note="需技术部上门", now=minutes(20)
        )
        wo.do_resolve(session, world.agent, order.id, measures_taken="已上门更换光猫,补偿一个月月租", now=minutes(200))
    with (
        pytest.raises(Conflict, match="投诉类工单须先回访客户、确认满意度后才能关闭"),
        transaction(world.sessions) as session,
    ):
        wo.do_close(session, world.agent, order.id, now=minutes(210))
    with transaction(world.sessions) as session:
        wo.do_callback(session, world.agent, order.id, Callback(satisfaction=4, comment="网速正常了"), now=minutes(300))
        wo.do_close(session, world.agent, order.id, now=minutes(301))
    order = reload(world, order.id)
    assert order.status == Status.CLOSED and order.priority == Priority.HIGH and order.complaint_category == "网络质量"
    assert order.satisfaction == 4 and order.callback_comment == "网速正常了"
    assert [d.met for d in sla.deadlines(order, minutes(400), POLICY) if d.name != sla.PROMISE] == [True] * 4
    with pytest.raises(Invalid, match="只有投诉类工单需要分类与分级"), transaction(world.sessions) as session:
        wo.do_classify(session, world.agent, new_order(world, session).id, category="其他")


def test_a_dissatisfied_callback_reopens_the_order(world: World) -> None:
    with transaction(world.sessions) as session:
        order_id = _to(world, session, Status.RESOLVED).id
    with pytest.raises(Invalid, match="不满意的原因"), transaction(world.sessions) as session:
        wo.do_callback(session, world.agent, order_id, Callback(satisfaction=2))
    with transaction(world.sessions) as session:
        wo.do_callback(session, world.agent, order_id, Callback(satisfaction=2, comment="问题没解决"), now=minutes(60))
    order = reload(world, order_id)
    assert order.status == Status.IN_PROGRESS and order.satisfaction == 2 and order.resolved_at is None
    assert [(e.kind, e.to_status) for e in order.events[-2:]] == [
        (EventKind.CALLBACK, None),
        (EventKind.REOPEN, Status.IN_PROGRESS),
    ]
    assert order.events[-1].note == "回访不满意(2 分):问题没解决"
    with pytest.raises(Conflict, match="只有已解决的工单可以回访"), transaction(world.sessions) as session:
        wo.do_callback(session, world.agent, order_id, Callback(satisfaction=5))
    with world.sessions() as session:
        actions = [e.action for e in audit.entries(session, entity="work_order", entity_id=order_id)]
    assert actions[:2] == ["reopen", "callback"]


def test_a_satisfied_callback_keeps_the_order_resolved(world: World) -> None:
    with transaction(world.sessions) as session:
        order_id = _to(world, session, Status.RESOLVED).id
        wo.do_callback(session, world.agent, order_id, Callback(satisfaction="5"), now=minutes(60))
    order = reload(world, order_id)
    assert order.status == Status.RESOLVED and order.satisfaction == 5


@pytest.mark.parametrize("value", [0, 6, "很好", 3.5, True, None])
def test_satisfaction_is_one_to_five(value: Any) -> None:
    with pytest.raises(ValidationError, match="满意度应为 1–5 的整数"):
        Callback(satisfaction=value)


# ---------------------------------------------------------------- optimistic locking and audit


def test_a_stale_save_is_refused_and_loses_nothing(world: World) -> None:
    with transaction(world.sessions) as session:
        order_id = new_order(world, session).id
        wo.do_update(session, world.agent, order_id, WorkOrderUpdate(version=1, follow_up_plan="明天上午回电"))
    with (
        pytest.raises(Conflict, match=re.escape("已被他人修改(您看到的是第 1 版,现在是第 2 版)")),
        transaction(world.sessions) as session,
    ):
        wo.do_update(session, world.lead, order_id, WorkOrderUpdate(version=1, follow_up_plan="下周回电"))
    with pytest.raises(Conflict, match="已被他人修改"), transaction(world.sessions) as session:
        wo.do_start(session, world.lead, order_id, version=1)
    order = reload(world, order_id)
    assert order.follow_up_plan == "明天上午回电" and order.status == Status.NEW and order.version == 2


def test_two_saves_racing_on_the_same_version(world: World) -> None:
    """Both read version 1; the first commit wins, the second is refused, not merged."""
    with transaction(world.sessions) as session:
        order_id = new_order(world, session).id
    first, second = world.sessions(), world.sessions()
    with first.begin(), second.begin():
        seen_first, seen_second = wo.get_order(first, order_id), wo.get_order(second, order_id)  # both keep version 1
        assert seen_first.version == seen_second.version == 1
        wo.do_update(first, world.agent, order_id, WorkOrderUpdate(version=1, contact="甲 13700000001"))
        first.commit()
        with pytest.raises(Conflict, match="刚被他人修改"):
            wo.do_update(second, world.lead, order_id, WorkOrderUpdate(version=1, contact="乙 13700000002"))
    first.close()
    second.close()
    assert reload(world, order_id).contact == "甲 13700000001"


def test_changes_are_audited_with_old_and_new_values(world: World) -> None:
    with transaction(world.sessions) as session:
        order_id = new_order(world, session).id
        wo.do_update(
            session,
            world.agent,
            order_id,
            WorkOrderUpdate(version=1, description="询问智能门锁和摄像头的保修期", priority="高", departments="售后部"),
            now=minutes(1),
        )
        wo.do_start(session, world.agent, order_id, now=minutes(2))
    with world.sessions() as session:
        update, start = [e for e in audit.entries(session, entity="work_order", entity_id=order_id)][1::-1]
    assert update.action == "update" and update.changes == {
        "description": ["询问智能门锁的保修期", "询问智能门锁和摄像头的保修期"],
        "priority": ["medium", "high"],
        "departments": [[], ["售后部"]],
    }
    assert start.action == "start" and start.changes == {"status": ["new", "in_progress"]}
    order = reload(world, order_id)
    assert order.events[1].note == "修改了优先级、问题描述、涉及部门"
    with pytest.raises(Invalid, match="没有需要保存的修改"), transaction(world.sessions) as session:
        wo.do_update(session, world.agent, order_id, WorkOrderUpdate(version=order.version, priority="高"))
    with pytest.raises(Invalid, match="缺少必填项:问题描述"), transaction(world.sessions) as session:
        wo.do_update(session, world.agent, order_id, WorkOrderUpdate(version=order.version, description=""))


def test_follow_up_notes_join_the_timeline(world: World) -> None:
    with transaction(world.sessions) as session:
        order = new_order(world, session)
        wo.do_add_note(session, world.lead, order.id, "已联系售后确认库存", now=minutes(30))
        wo.do_start(session, world.agent, order.id, now=minutes(10))
    kinds = [(e.kind, e.actor_id) for e in wo.timeline(reload(world, order.id))]
    assert kinds == [
        (EventKind.CREATE, world.agent),
        (EventKind.START, world.agent),
        (EventKind.NOTE, world.lead),
    ]


# ---------------------------------------------------------------- history and lists


def test_a_customers_history_filters_by_time_and_type(world: World) -> None:
    with transaction(world.sessions) as session:
        old_fault = new_order(world, session, OrderType.FAULT, now=T0 - timedelta(days=40))
        complaint = new_order(world, session, OrderType.COMPLAINT, now=T0 - timedelta(days=3))
        consultation = new_order(world, session, now=T0)
        new_order(world, session, customer_id=world.other_customer, now=T0)
    with world.sessions() as session:

        def history(**filters: Any) -> list[int]:
            return [o.id for o in wo.customer_history(session, world.customer, HistoryFilter(**filters))]

        assert history() == [consultation.id, complaint.id, old_fault.id]  # newest first, only this customer
        assert history(since="2026-11-01") == [consultation.id, complaint.id]
        assert history(until=T0 - timedelta(days=1)) == [complaint.id, old_fault.id]
        assert history(types=["投诉类", "fault"]) == [complaint.id, old_fault.id]
        assert history(since="2026-11-01", types=["故障类"]) == []
        assert history(statuses=["待处理"]) == [consultation.id, complaint.id, old_fault.id]
    with pytest.raises(ValidationError, match="开始时间不能晚于结束时间"):
        HistoryFilter(since="2026-11-23", until="2026-11-01")


def test_my_open_orders_come_soonest_deadline_first(world: World) -> None:
    with transaction(world.sessions) as session:
        low = new_order(world, session, priority="低")
        urgent = new_order(world, session, priority="紧急")
        paused = new_order(world, session, priority="紧急")
        wo.do_wait_for_customer(session, world.agent, paused.id, "等待客户提供订单号", now=minutes(1))
        mine_elsewhere = new_order(world, session, actor=world.colleague)
        done = _to(world, session, Status.CLOSED)
    with world.sessions() as session:
        ranked = wo.open_orders_by_deadline(session, world.agent, minutes(2), policy=POLICY)
        listed = wo.list_orders(session, text="GD20261123", open_only=True)
    assert [order.id for order, _ in ranked] == [urgent.id, low.id, paused.id]
    assert ranked[-1][1] is None  # paused: no running deadline
    assert mine_elsewhere.id in [o.id for o in listed] and done.id not in [o.id for o in listed]


# ---------------------------------------------------------------- SLA on stored orders


def test_waiting_on_the_customer_pauses_the_stored_orders_clock(world: World) -> None:
    with transaction(world.sessions) as session:
        order = new_order(world, session, OrderType.FAULT, priority="高")  # 16 business hours to resolve
        wo.do_start(session, world.agent, order.id, now=minutes(10))
        wo.do_wait_for_customer(session, world.agent, order.id, "等待客户提供设备序列号", now=minutes(60))
        wo.do_resume(session, world.agent, order.id, now=minutes(60 + 24 * 60))  # Tuesday 10:00
    order = reload(world, order.id)
    [resolution] = [d for d in sla.deadlines(order, minutes(26 * 60), POLICY) if d.name == sla.RESOLUTION]
    assert resolution.due == utc_as_stored(datetime(2026, 11, 25, 9, 0, tzinfo=centre_tz()))
    assert sla.overdue(order, datetime(2026, 11, 25, 8, 59, tzinfo=centre_tz()), POLICY) == []


def test_an_overdue_complaint_stage_is_escalated_once(world: World) -> None:
    with transaction(world.sessions) as session:
        order = new_order(world, session, OrderType.COMPLAINT, priority="紧急")
        wo.do_start(session, world.agent, order.id, now=minutes(5))  # 接收与记录 met; 1 h to classify
        closed = _to(world, session, Status.CLOSED)
    with transaction(world.sessions) as session:
        assert wo.do_escalate_overdue(session, minutes(64), policy=POLICY) == []
    with transaction(world.sessions) as session:
        touched = wo.do_escalate_overdue(session, minutes(70), policy=POLICY)
        assert [o.id for o in touched] == [order.id]
    with transaction(world.sessions) as session:
        assert wo.do_escalate_overdue(session, minutes(90), policy=POLICY) == []  # already escalated
    order = reload(world, order.id)
    [event] = order.escalations
    assert order.escalated and order.escalation_level == 1 and event.actor_id is None
    assert event.note == "「分类与分级」超时:时限 1 小时(工作时间),已于 11月23日 10:05 到期,已自动升级"
    assert event.data["deadline"] == "分类与分级" and order.version == 2  # the agent's open edit is not broken
    with world.sessions() as session:
        [entry] = [e for e in audit.entries(session, entity="work_order", entity_id=order.id) if e.action == "escalate"]
        assert entry.actor_id is None and "分类与分级" in entry.detail
        assert [o.id for o in wo.list_orders(session, escalated=True)] == [order.id]
        assert closed.id in [o.id for o in wo.list_orders(session, escalated=False)]
    # The complaint goes on; the next stage missed is a new escalation.
    with transaction(world.sessions) as session:
        wo.do_classify(session, world.agent, order.id, category="网络质量", now=minutes(100))
        assert wo.do_escalate_overdue(session, minutes(100 + 4 * 60 + 1), policy=POLICY) != []
    assert reload(world, order.id).escalation_level == 2


def test_manual_escalation_hands_the_order_to_a_lead(world: World) -> None:
    with transaction(world.sessions) as session:
        order = new_order(world, session, OrderType.COMPLAINT)
        wo.do_escalate(session, world.agent, order.id, "客户要求主管处理", to_user_id=world.lead, now=minutes(3))
    order = reload(world, order.id)
    assert order.escalated and order.assignee_id == world.lead and order.owner_id == world.agent
    assert order.escalations[0].data == {"manual": True, "level": 1, "to_user": world.lead}


# ---------------------------------------------------------------- input


def test_bad_input_says_what_is_wrong() -> None:
    with pytest.raises(ValidationError, match="工单类型应为咨询类、投诉类、故障类、建议类之一"):
        WorkOrderCreate(type="售后类", title="x")
    with pytest.raises(ValidationError, match="优先级应为紧急、高、中、低之一"):
        WorkOrderCreate(type="咨询类", title="x", priority="特急")
    with pytest.raises(ValidationError, match="请填写工单标题"):
        WorkOrderCreate(type="咨询类", title="  ")
    with pytest.raises(ValidationError, match="请选择工单类型"):
        WorkOrderCreate(title="没有类型")
    with pytest.raises(ValidationError, match="时间格式不正确"):
        WorkOrderCreate(type="故障类", title="x", promised_at="明天下午")
    with pytest.raises(ValidationError, match="Extra inputs"):
        WorkOrderCreate(type="故障类", title="x", owner_id=3)
    data = WorkOrderCreate(
        type="投诉类",
        title=" 断网 ",
        priority="紧急",
        departments="技术部、网络部, 技术部",
        promised_at="2026-11-24 18:00",
    )
    assert (data.type, data.priority, data.title) == (OrderType.COMPLAINT, Priority.URGENT, "断网")
    assert data.departments == ["技术部", "网络部"]
    assert data.promised_at == datetime(2026, 11, 24, 18, 0, tzinfo=centre_tz())  # the centre's clock
    assert OrderType.choices()[0] == ("consultation", "咨询类") and Status.WAITING.label == "待客户回复"


# ---------------------------------------------------------------- demo data


def test_demo_orders_cover_every_type_and_status(world: World) -> None:
    with transaction(world.sessions) as session:
        users = [accounts.get_user(session, i) for i in (world.agent, world.colleague, world.lead)]
        people = [customers.get_customer(session, i) for i in (world.customer, world.other_customer)]
        orders = seed_demo(session, users, people)
    assert 10 <= len(orders) <= 15
    with world.sessions() as session:
        stored = wo.list_orders(session)
        assert {o.type for o in stored} == set(OrderType) and {o.status for o in stored} == set(Status)
        assert any(sla.overdue(o, utc_as_stored(datetime.now(centre_tz())), POLICY) for o in stored)
        assert any(o.escalated for o in stored)


@pytest.mark.empty_database
def test_upgrading_a_database_carries_on_from_the_numbers_already_given(database_url: str) -> None:
    """A centre upgrading kefu keeps its numbering: the counters start from the stored orders."""
    from sqlalchemy import text

    from kefu.core.db import make_engine, migrate, session_factory

    migrate(database_url, "0004")
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with engine.begin() as connection:  # written with the schema of that time, not today's models
        agent_id = connection.execute(
            text(
                "INSERT INTO users (agent_no, name, role, password_hash, password_changed_at, active, failed_logins,"
                " created_at, updated_at) VALUES ('12345', '小李', 'agent', 'x', :t, :yes, 0, :t, :t) RETURNING id"
            ),
            {"t": T0, "yes": True},
        ).scalar_one()
        for number in ("GD20261123-0041", "GD20261123-0007", "GD20261122-0003"):
            connection.execute(
                text(
                    "INSERT INTO work_orders (number, type, priority, status, title, departments, owner_id,"
                    " version, created_at, updated_at) VALUES (:n, 'consultation', 'medium', 'new', '旧工单', '[]',"
                    " :owner, 1, :t, :t)"
                ),
                {"n": number, "owner": agent_id, "t": T0},
            )
    migrate(database_url)
    with transaction(sessions) as session:
        order = wo.do_create(
            session, agent_id, WorkOrderCreate(type=OrderType.CONSULTATION, title="新工单", description="咨询"), now=T0
        )
        assert order.number == "GD20261123-0042"
    engine.dispose()
