"""Work orders: the only writers of ``work_orders`` and ``work_order_events``.

Every action is a ``do_*`` function: it checks the state machine and the type's template,
changes the order, writes one event for the order's timeline and one audit entry (old and new
values) in the same transaction. Actions take ``now`` (default: the present) so that imports,
demo data and tests can replay a history; and an optional ``version`` (the version the user
saw): a stale one is refused instead of overwriting someone's change.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.calls.models import CallRecord
from kefu.core import access, audit
from kefu.core.access import Record
from kefu.core.changes import apply_change, check_version, created, diff
from kefu.core.clock import centre_tz, utc_as_stored
from kefu.core.db import get_or_404, utcnow
from kefu.core.errors import Conflict, Forbidden, Invalid, NotFound
from kefu.core.security import Permission, Role, allowed
from kefu.customers.models import Customer
from kefu.workorders import sla
from kefu.workorders.models import (
    OPEN_STATUSES,
    EventKind,
    OrderType,
    Priority,
    Status,
    WorkOrder,
    WorkOrderCounter,
    WorkOrderEvent,
)
from kefu.workorders.schemas import (
    Assign,
    Callback,
    CallbackAction,
    Classify,
    Close,
    HistoryFilter,
    Note,
    Reopen,
    Resolve,
    Resume,
    Start,
    Transfer,
    TransferAction,
    Wait,
    WorkOrderAction,
    WorkOrderCreate,
    WorkOrderFilter,
    WorkOrderUpdate,
)

ENTITY = audit.AuditEntity.WORK_ORDER
REFRESH = "请刷新后重新核对再操作"

FIELD_LABELS = {
    "type": "工单类型",
    "priority": "优先级",
    "status": "状态",
    "title": "标题",
    "customer_id": "客户",
    "contact": "联系方式",
    "description": "问题描述",
    "handling_suggestion": "处理建议",
    "measures_taken": "已采取的处理措施",
    "promised_at": "承诺时间",
    "follow_up_plan": "跟进计划",
    "departments": "涉及部门",
    "complaint_category": "投诉分类",
    "assignee_id": "处理人",
    "department": "处理部门",
    "call_id": "来电记录",
}

# ---------------------------------------------------------------- templates


@dataclass(frozen=True)
class Template:
    """What each type of order must carry (seed 004: 根据客户问题类型选择相应工单模板,填写问题描述、
    紧急程度和处理建议; 明确记录已采取的处理措施、承诺的解决时间和后续跟进计划; 如需其他部门协助,
    应在工单中注明)."""

    create: tuple[str, ...]  # to create the order
    resolve: tuple[str, ...]  # to mark it resolved
    forbidden: tuple[str, ...] = ()  # must stay empty
    close_needs_callback: bool = False  # closed only after a callback (回访) on the latest resolution


TEMPLATES: dict[OrderType, Template] = {
    OrderType.CONSULTATION: Template(create=("description",), resolve=("description", "measures_taken")),
    # seed 004 投诉处理流程: 详细记录投诉要点和客户诉求 … 协调相关部门共同解决问题 … 回访与跟进.
    OrderType.COMPLAINT: Template(
        create=("description", "handling_suggestion", "departments"),
        resolve=("description", "handling_suggestion", "departments", "measures_taken"),
        close_needs_callback=True,
    ),
    # seed 004: 是否曾尝试重启设备? — what was already tried is part of a fault report.
    OrderType.FAULT: Template(create=("description", "measures_taken"), resolve=("description", "measures_taken")),
    # seed 002 5.2: 应给予客户恰当的解释,但不能对客户的建议做出承诺 … 如实、详细地记录 … 生成建议工单.
    OrderType.SUGGESTION: Template(
        create=("description",), resolve=("description", "measures_taken"), forbidden=("promised_at",)
    ),
}

FORBIDDEN_MESSAGES = {
    (OrderType.SUGGESTION, "promised_at"): "建议类工单不能填写承诺时间:对客户的建议应如实记录并反馈,不能做出承诺",
}

DISSATISFIED_AT_MOST = 2  # a callback of 1 or 2 (不满意) reopens the order


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def check_template(order_type: OrderType, values: dict[str, Any], step: str = "create") -> None:
    """Refuse (``Invalid``) when a required field is missing or a forbidden one is filled."""
    template = TEMPLATES[order_type]
    for name in template.forbidden:
        if not _empty(values.get(name)):
            raise Invalid(
                FORBIDDEN_MESSAGES.get((order_type, name), f"{order_type.label}工单不能填写{FIELD_LABELS[name]}")
            )
    required = template.create if step == "create" else template.resolve
    missing = [FIELD_LABELS[name] for name in required if _empty(values.get(name))]
    if missing:
        what = "缺少必填项" if step == "create" else "标记为已解决前须填写"
        raise Invalid(f"{order_type.label}工单{what}:{'、'.join(missing)}", details={"missing": missing})


# ---------------------------------------------------------------- state machine


@dataclass(frozen=True)
class Transition:
    sources: frozenset[Status]
    target: Status
    event: EventKind
    verb: str  # 「不能…」


TRANSITIONS: dict[str, Transition] = {
    "start": Transition(frozenset({Status.NEW}), Status.IN_PROGRESS, EventKind.START, "转为处理中"),
    "wait": Transition(frozenset({Status.NEW, Status.IN_PROGRESS}), Status.WAITING, EventKind.WAIT, "转为待客户回复"),
    "resume": Transition(frozenset({Status.WAITING}), Status.IN_PROGRESS, EventKind.RESUME, "恢复处理"),
    "resolve": Transition(
        frozenset({Status.NEW, Status.IN_PROGRESS}), Status.RESOLVED, EventKind.RESOLVE, "标记为已解决"
    ),
    "close": Transition(frozenset({Status.RESOLVED}), Status.CLOSED, EventKind.CLOSE, "关闭"),
    "reopen": Transition(frozenset({Status.RESOLVED}), Status.IN_PROGRESS, EventKind.REOPEN, "重新打开"),
}
# Every allowed (from, to) pair: the pages draw the buttons from it.
ALLOWED = frozenset((source, t.target) for t in TRANSITIONS.values() for source in t.sources)

STATE_PHRASES = {
    Status.NEW: "尚未开始处理",
    Status.IN_PROGRESS: "正在处理中",
    Status.WAITING: "正在等待客户回复",
    Status.RESOLVED: "已解决",
    Status.CLOSED: "已关闭",
}
HINTS = {
    ("close", Status.NEW): "请先处理并标记为已解决",
    ("close", Status.IN_PROGRESS): "请先标记为已解决",
    ("close", Status.WAITING): "请先恢复处理并标记为已解决",
    ("resolve", Status.WAITING): "请先恢复处理",
    ("reopen", Status.CLOSED): "已关闭的工单不能再打开,客户仍有问题请新建工单",
    ("reopen", Status.NEW): "只有已解决的工单可以重新打开",
    ("reopen", Status.IN_PROGRESS): "只有已解决的工单可以重新打开",
    ("reopen", Status.WAITING): "只有已解决的工单可以重新打开",
}


def refusal(status: Status, action: str) -> str:
    """「工单已关闭,不能转为处理中」."""
    hint = HINTS.get((action, status))
    return f"工单{STATE_PHRASES[status]},不能{TRANSITIONS[action].verb}" + (f"({hint})" if hint else "")


def allowed_actions(order: WorkOrder) -> list[str]:
    return [name for name, t in TRANSITIONS.items() if order.status in t.sources]


# ---------------------------------------------------------------- helpers


def _now(now: datetime | None) -> datetime:
    return utc_as_stored(now) if now is not None else utcnow()


def get_order(session: Session, order_id: int) -> WorkOrder:
    order = get_or_404(session, WorkOrder, order_id, "工单")
    return order


def get_by_number(session: Session, number: str) -> WorkOrder:
    order = session.scalar(select(WorkOrder).where(WorkOrder.number == number.strip().upper()))
    if order is None:
        raise NotFound(f"工单 {number} 不存在")
    return order


def check_write(session: Session, actor_id: int | None, order: WorkOrder) -> None:
    """Only whoever the order belongs to (its owner and assignee), their team lead, supervisors
    and admins change it (kefu.core.access); ``None`` is the system (SLA escalation)."""
    if actor_id is None:
        return
    actor = get_or_404(session, User, actor_id, "用户")
    access.check(actor, Record.WORK_ORDER, [order.owner, order.assignee], write=True, what=f"工单 {order.number}")


def may_write(user: User, order: WorkOrder) -> bool:
    scope = access.scope_of(user, Record.WORK_ORDER, write=True)
    return access.within(user, scope, [order.owner, order.assignee])


def _load(session: Session, order_id: int, version: int | None, actor_id: int | None) -> WorkOrder:
    order = get_order(session, order_id)
    check_write(session, actor_id, order)
    check_version(order, version, f"工单 {order.number}", refresh=REFRESH)
    return order


def _user(session: Session, user_id: int, role: str) -> User:
    user = get_or_404(session, User, user_id, "用户")
    if not user.active:
        raise Invalid(f"{user.name}({user.agent_no})的账号已停用,不能作为{role}")
    return user


def _not_closed(order: WorkOrder, verb: str) -> None:
    if order.status == Status.CLOSED:
        raise Conflict(f"工单已关闭,不能{verb}")


def _text(value: str | None, message: str, limit: int = 2000) -> str:
    text = (value or "").strip()
    if not text:
        raise Invalid(message)
    if len(text) > limit:
        raise Invalid(f"内容过长(最多 {limit} 字)")
    return text


def _event(
    order: WorkOrder,
    actor_id: int | None,
    kind: EventKind,
    now: datetime,
    note: str | None = None,
    *,
    from_status: Status | None = None,
    to_status: Status | None = None,
    data: dict[str, Any] | None = None,
) -> WorkOrderEvent:
    event = WorkOrderEvent(
        at=now,
        actor_id=actor_id,
        kind=kind,
        note=note[:2000] if note else None,
        from_status=from_status,
        to_status=to_status,
        data=data,
    )
    order.events.append(event)
    return event


def _apply(
    session: Session,
    actor_id: int | None,
    order: WorkOrder,
    action: str,
    kind: EventKind,
    now: datetime,
    note: str | None = None,
    *,
    updates: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    from_status: Status | None = None,
    to_status: Status | None = None,
) -> dict[str, list[Any]]:
    """The one way an action changes an order: the timeline event, then the change itself
    (kefu.core.changes: set, save — refused if someone saved in between — and audit)."""
    _event(order, actor_id, kind, now, note, from_status=from_status, to_status=to_status, data=data)
    changes = apply_change(
        session,
        actor_id,
        order,
        updates or {},
        action=action,
        entity=ENTITY,
        what=f"工单 {order.number}",
        detail=note,
        touched={"updated_at": now},
        refresh=REFRESH,
    )
    people = [name.removesuffix("_id") for name in ("assignee_id", "owner_id", "customer_id") if name in changes]
    if people:  # the people loaded with the order follow their changed ids
        session.expire(order, people)
    return changes


def _transition(
    session: Session,
    actor_id: int | None,
    order: WorkOrder,
    action: str,
    now: datetime,
    note: str | None = None,
    *,
    changes: dict[str, Any] | None = None,
) -> WorkOrder:
    transition = TRANSITIONS[action]
    if order.status not in transition.sources:
        raise Conflict(refusal(order.status, action))
    _apply(
        session,
        actor_id,
        order,
        action,
        transition.event,
        now,
        note,
        updates={"status": transition.target, **(changes or {})},
        from_status=order.status,
        to_status=transition.target,
    )
    return order


def _next_number(session: Session, now: datetime) -> str:
    """GD + the centre's date + a daily sequence: GD20261123-0001. One atomic upsert of the day's
    counter row: concurrent creates wait for each other's transaction instead of taking the same number."""
    day = now.astimezone(centre_tz()).strftime("%Y%m%d")
    upsert = (sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert)(WorkOrderCounter)
    sequence = session.scalar(
        upsert.values(day=day, last=1)
        .on_conflict_do_update(index_elements=["day"], set_={"last": WorkOrderCounter.last + 1})
        .returning(WorkOrderCounter.last)
    )
    return f"GD{day}-{sequence:04d}"


# ---------------------------------------------------------------- actions


def do_create(session: Session, actor_id: int, data: WorkOrderCreate, *, now: datetime | None = None) -> WorkOrder:
    """The agent who takes the call creates the order and owns it (首问负责制) until it is closed."""
    now = _now(now)
    owner = _user(session, actor_id, "首问负责人")
    values = data.model_dump(exclude={"assignee_id"})
    values["departments"] = values.get("departments") or []
    check_template(data.type, values, "create")
    if data.promised_at is not None and utc_as_stored(data.promised_at) <= now:
        raise Invalid("承诺时间应晚于现在")
    if data.customer_id is not None and session.get(Customer, data.customer_id) is None:
        raise NotFound(f"客户 {data.customer_id} 不存在")
    if data.call_id is not None and not values.get("contact"):
        # From a call: the number to call back is the call's, which the agent may not see yet.
        call = session.get(CallRecord, data.call_id)
        if call is not None:
            values["contact"] = call.callback_number
    assignee = _user(session, data.assignee_id, "处理人") if data.assignee_id is not None else owner
    order = WorkOrder(
        **values,
        number=_next_number(session, now),
        status=Status.NEW,
        owner_id=owner.id,
        assignee_id=assignee.id,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    _event(order, actor_id, EventKind.CREATE, now, data.title, to_status=Status.NEW)
    session.flush()
    shown = {"number": order.number, "status": Status.NEW, "owner_id": owner.id, "assignee_id": assignee.id, **values}
    audit.record(
        session,
        actor_id,
        "create",
        ENTITY,
        order.id,
        created(shown),
    )
    return order


def do_update(
    session: Session, actor_id: int, order_id: int, data: WorkOrderUpdate, *, now: datetime | None = None
) -> WorkOrder:
    """Change fields; the version the user saw is required (optimistic locking)."""
    now = _now(now)
    order = _load(session, order_id, data.version, actor_id)
    _not_closed(order, "修改")
    updates = data.model_dump(exclude_unset=True, exclude={"version"})
    for required in ("type", "title", "priority"):  # cannot be cleared; null means unchanged
        if updates.get(required, ...) is None:
            del updates[required]
    if "departments" in updates and updates["departments"] is None:
        updates["departments"] = []
    changes = diff(order, updates)
    if not changes:
        raise Invalid("没有需要保存的修改")
    merged = {name: getattr(order, name) for name in FIELD_LABELS if hasattr(order, name)} | updates
    order_type = merged["type"]
    check_template(order_type, merged, "create")
    if order.status in (Status.RESOLVED, Status.CLOSED):
        check_template(order_type, merged, "resolve")
    if "promised_at" in changes and updates["promised_at"] is not None and utc_as_stored(updates["promised_at"]) <= now:
        raise Invalid("承诺时间应晚于现在")
    customer_id = updates.get("customer_id") if "customer_id" in changes else None
    if customer_id is not None and session.get(Customer, customer_id) is None:
        raise NotFound(f"客户 {customer_id} 不存在")
    note = "修改了" + "、".join(FIELD_LABELS.get(name, name) for name in changes)
    _apply(
        session,
        actor_id,
        order,
        "update",
        EventKind.UPDATE,
        now,
        note,
        updates={name: updates[name] for name in changes},
        data={"fields": sorted(changes)},
    )
    return order


def do_start(
    session: Session,
    actor_id: int,
    order_id: int,
    *,
    note: str | None = None,
    version: int | None = None,
    now: datetime | None = None,
) -> WorkOrder:
    """受理: 待处理 → 处理中. Whoever starts an unassigned order becomes its assignee."""
    order = _load(session, order_id, version, actor_id)
    changes = {"assignee_id": actor_id} if order.assignee_id is None else {}
    return _transition(session, actor_id, order, "start", _now(now), note, changes=changes)


def do_wait_for_customer(
    session: Session,
    actor_id: int,
    order_id: int,
    note: str,
    *,
    version: int | None = None,
    now: datetime | None = None,
) -> WorkOrder:
    """待客户回复: the SLA clocks stand still until ``do_resume``. Say what is awaited."""
    note = _text(note, "请说明在等待客户提供什么(例如:产品序列号、购买凭证)")
    order = _load(session, order_id, version, actor_id)
    return _transition(session, actor_id, order, "wait", _now(now), note)


def do_resume(
    session: Session,
    actor_id: int,
    order_id: int,
    *,
    note: str | None = None,
    version: int | None = None,
    now: datetime | None = None,
) -> WorkOrder:
    order = _load(session, order_id, version, actor_id)
    return _transition(session, actor_id, order, "resume", _now(now), note)


def do_classify(
    session: Session,
    actor_id: int,
    order_id: int,
    *,
    category: str,
    priority: Priority | str | None = None,
    note: str | None = None,
    version: int | None = None,
    now: datetime | None = None,
) -> WorkOrder:
    """分类与分级 (complaint stage 2): the complaint's category, its grade (priority), and the
    decision whether to escalate or bring in a specialist team (in ``note``)."""
    now = _now(now)
    order = _load(session, order_id, version, actor_id)
    if order.type != OrderType.COMPLAINT:
        raise Invalid("只有投诉类工单需要分类与分级")
    _not_closed(order, "分类定级")
    if order.status != Status.IN_PROGRESS:
        raise Conflict(f"工单{STATE_PHRASES[order.status]},不能分类定级(请在处理中进行)")
    category = _text(category, "请填写投诉分类(例如:服务态度、产品质量、计费争议)", 32)
    try:
        grade = Priority.parse(priority) if priority is not None else order.priority
    except ValueError as error:
        raise Invalid(str(error)) from None
    text = f"分类:{category};级别:{grade.label}" + (f";{note.strip()}" if note and note.strip() else "")
    _apply(
        session,
        actor_id,
        order,
        "classify",
        EventKind.CLASSIFY,
        now,
        text,
        updates={"complaint_category": category, "priority": grade},
        data={"category": category, "priority": grade.value},
    )
    return order


def do_resolve(
    session: Session,
    actor_id: int,
    order_id: int,
    *,
    measures_taken: str | None = None,
    note: str | None = None,
    version: int | None = None,
    now: datetime | None = None,
) -> WorkOrder:
    """已解决: needs the measures taken (given here or already on the order) and whatever else
    the type's template asks for; a complaint must have been classified first."""
    now = _now(now)
    order = _load(session, order_id, version, actor_id)
    measures = (measures_taken or "").strip() or order.measures_taken
    if order.status in TRANSITIONS["resolve"].sources:
        values = {name: getattr(order, name) for name in FIELD_LABELS if hasattr(order, name)}
        check_template(order.type, values | {"measures_taken": measures}, "resolve")
        if order.type == OrderType.COMPLAINT and not any(e.kind == EventKind.CLASSIFY for e in order.events):
            raise Conflict("投诉工单尚未完成分类与分级(投诉处理流程第二步),不能标记为已解决")
    return _transition(
        session,
        actor_id,
        order,
        "resolve",
        now,
        note or measures,
        changes={"measures_taken": measures, "resolved_at": now},
    )


def _last_resolution(order: WorkOrder) -> datetime | None:
    times = [utc_as_stored(e.at) for e in order.events if e.to_status == Status.RESOLVED]
    return max(times) if times else None


def do_close(
    session: Session,
    actor_id: int,
    order_id: int,
    *,
    note: str | None = None,
    version: int | None = None,
    now: datetime | None = None,
) -> WorkOrder:
    """已关闭 (final). 首问负责制: the owner closes, or a team lead / supervisor / admin."""
    now = _now(now)
    order = _load(session, order_id, version, actor_id)
    if order.status in TRANSITIONS["close"].sources:
        actor = _user(session, actor_id, "关闭人")
        if actor.id != order.owner_id and actor.role not in (Role.TEAM_LEAD, Role.SUPERVISOR, Role.ADMIN):
            owner = order.owner
            raise Forbidden(
                f"首问负责制:工单由首问负责人 {owner.name}({owner.agent_no})跟进到关闭,请由其本人或班组长关闭"
            )
        resolved = _last_resolution(order)
        called_back = any(
            e.kind == EventKind.CALLBACK and resolved is not None and utc_as_stored(e.at) >= resolved
            for e in order.events
        )
        if TEMPLATES[order.type].close_needs_callback and not called_back:
            raise Conflict(f"{order.type.label}工单须先回访客户、确认满意度后才能关闭")
    return _transition(session, actor_id, order, "close", now, note, changes={"closed_at": now})


def do_reopen(
    session: Session,
    actor_id: int,
    order_id: int,
    reason: str,
    *,
    version: int | None = None,
    now: datetime | None = None,
) -> WorkOrder:
    """已解决 → 处理中 when the customer is not satisfied; the reason is required."""
    order = _load(session, order_id, version, actor_id)
    if order.status in TRANSITIONS["reopen"].sources:
        reason = _text(reason, "请填写重新打开的原因(客户对哪里不满意)")
    return _transition(session, actor_id, order, "reopen", _now(now), reason, changes={"resolved_at": None})


def do_assign(
    session: Session,
    actor_id: int,
    order_id: int,
    assignee_id: int,
    *,
    note: str | None = None,
    version: int | None = None,
    now: datetime | None = None,
) -> WorkOrder:
    """指派 the person who works on the order; the owner stays (首问负责). Team leads, supervisors
    and admins assign; everyone else transfers (``do_transfer``)."""
    now = _now(now)
    actor = session.get(User, actor_id)
    if actor is not None and not allowed(actor.role, Permission.WORKORDER_ASSIGN):
        raise Forbidden(f"{actor.role.label}无权指派工单,请使用转派")
    order = _load(session, order_id, version, actor_id)
    _not_closed(order, "指派")
    assignee = _user(session, assignee_id, "处理人")
    if order.assignee_id == assignee.id:
        raise Invalid(f"工单已由 {assignee.name} 处理,无需重复指派")
    text = f"指派给 {assignee.name}({assignee.agent_no})" + (f":{note.strip()}" if note and note.strip() else "")
    _apply(
        session,
        actor_id,
        order,
        "assign",
        EventKind.ASSIGN,
        now,
        text,
        updates={"assignee_id": assignee.id},
        data={"from_user": order.assignee_id, "to_user": assignee.id},
    )
    return order


def do_transfer(
    session: Session,
    actor_id: int,
    order_id: int,
    transfer: Transfer,
    *,
    version: int | None = None,
    now: datetime | None = None,
) -> WorkOrder:
    """转派 to a colleague and/or a department, with background notes (required, see ``Transfer``).
    Ownership stays with the first agent (首问负责制)."""
    now = _now(now)
    order = _load(session, order_id, version, actor_id)
    _not_closed(order, "转派")
    updates: dict[str, Any] = {}
    target = []
    if transfer.to_user_id is not None:
        user = _user(session, transfer.to_user_id, "转派对象")
        updates["assignee_id"] = user.id
        target.append(f"{user.name}({user.agent_no})")
    if transfer.to_department:
        updates["department"] = transfer.to_department
        if transfer.to_department not in order.departments:
            updates["departments"] = [*order.departments, transfer.to_department]
        target.append(transfer.to_department)
    if not diff(order, updates):
        raise Invalid("工单已在该处理人/部门,无需转派")
    _apply(
        session,
        actor_id,
        order,
        "transfer",
        EventKind.TRANSFER,
        now,
        transfer.notes,
        updates=updates,
        data={
            "from_user": order.assignee_id,
            "to_user": transfer.to_user_id,
            "to_department": transfer.to_department,
            "to": "、".join(target),
        },
    )
    return order


def do_add_note(
    session: Session, actor_id: int, order_id: int, note: str, *, now: datetime | None = None
) -> WorkOrderEvent:
    """跟进: a follow-up note on the timeline (also after closing: 总结经验教训)."""
    now = _now(now)
    note = _text(note, "跟进内容不能为空")
    order = _load(session, order_id, None, actor_id)
    _apply(session, actor_id, order, "note", EventKind.NOTE, now, note)
    return order.events[-1]


def do_callback(
    session: Session,
    actor_id: int,
    order_id: int,
    callback: Callback,
    *,
    version: int | None = None,
    now: datetime | None = None,
) -> WorkOrder:
    """回访 after the resolution: satisfaction 1–5. A dissatisfied customer (≤ 2) reopens the order
    with their words as the reason (seed 004: 确认客户对处理结果的满意度)."""
    now = _now(now)
    order = _load(session, order_id, version, actor_id)
    if order.status != Status.RESOLVED:
        raise Conflict(f"工单{STATE_PHRASES[order.status]},不能回访(只有已解决的工单可以回访)")
    dissatisfied = callback.satisfaction <= DISSATISFIED_AT_MOST
    if dissatisfied and not callback.comment:
        raise Invalid("客户不满意时请记录不满意的原因,工单将重新打开处理")
    text = f"满意度 {callback.satisfaction} 分" + (f":{callback.comment}" if callback.comment else "")
    _apply(
        session,
        actor_id,
        order,
        "callback",
        EventKind.CALLBACK,
        now,
        text,
        updates={"satisfaction": callback.satisfaction, "callback_comment": callback.comment, "callback_at": now},
        data={"satisfaction": callback.satisfaction},
    )
    if dissatisfied:
        _transition(
            session,
            actor_id,
            order,
            "reopen",
            now,
            f"回访不满意({callback.satisfaction} 分):{callback.comment}",
            changes={"resolved_at": None},
        )
    return order


def do_action(
    session: Session, actor_id: int, order_id: int, action: WorkOrderAction, *, now: datetime | None = None
) -> WorkOrder:
    """One of an order's actions by its body (kefu.workorders.schemas.ACTIONS): what the API's
    action routes and the order page's forms both call."""
    match action:
        case Start() | Resume() | Close():
            act = {Start: do_start, Resume: do_resume, Close: do_close}[type(action)]
            return act(session, actor_id, order_id, note=action.note, version=action.version, now=now)
        case Note():
            do_add_note(session, actor_id, order_id, action.note, now=now)
            return get_order(session, order_id)
        case Wait():
            return do_wait_for_customer(session, actor_id, order_id, action.note, version=action.version, now=now)
        case Classify():
            return do_classify(
                session,
                actor_id,
                order_id,
                category=action.category,
                priority=action.priority,
                note=action.note,
                version=action.version,
                now=now,
            )
        case TransferAction():
            move = Transfer(**action.model_dump(exclude={"version"}))
            return do_transfer(session, actor_id, order_id, move, version=action.version, now=now)
        case Assign():
            return do_assign(
                session, actor_id, order_id, action.assignee_id, note=action.note, version=action.version, now=now
            )
        case Resolve():
            return do_resolve(
                session,
                actor_id,
                order_id,
                measures_taken=action.measures_taken,
                note=action.note,
                version=action.version,
                now=now,
            )
        case CallbackAction():
            answer = Callback(satisfaction=action.satisfaction, comment=action.comment)
            return do_callback(session, actor_id, order_id, answer, version=action.version, now=now)
        case Reopen():
            return do_reopen(session, actor_id, order_id, action.reason, version=action.version, now=now)
    raise Invalid(f"未知的工单操作:{type(action).__name__}")


def do_escalate(
    session: Session,
    actor_id: int,
    order_id: int,
    reason: str,
    *,
    to_user_id: int | None = None,
    version: int | None = None,
    now: datetime | None = None,
) -> WorkOrder:
    """升级 by hand (the customer asks for a supervisor, beyond authority, …), optionally handing
    the order to the person it is escalated to."""
    now = _now(now)
    reason = _text(reason, "请填写升级原因")
    order = _load(session, order_id, version, actor_id)
    _not_closed(order, "升级")
    updates: dict[str, Any] = {}
    data: dict[str, Any] = {"manual": True, "level": len(order.escalations) + 1}
    if to_user_id is not None:
        updates["assignee_id"] = data["to_user"] = _user(session, to_user_id, "升级对象").id
    _apply(session, actor_id, order, "escalate", EventKind.ESCALATE, now, reason, updates=updates, data=data)
    return order


def do_escalate_overdue(
    session: Session, now: datetime | None = None, *, policy: sla.SlaPolicy | None = None
) -> list[WorkOrder]:
    """Escalate every missed deadline of every order not yet closed (an event and an audit entry
    by the system); the orders it touched. A deadline already escalated is not escalated again,
    so this can run every few minutes."""
    now = _now(now)
    policy = policy or sla.default_policy()
    touched: list[WorkOrder] = []
    orders = session.scalars(select(WorkOrder).where(WorkOrder.status != Status.CLOSED).order_by(WorkOrder.id)).all()
    for order in orders:
        done = {(e.data or {}).get("sla_key") for e in order.escalations}
        missed = [d for d in sla.overdue(order, now, policy) if d.key not in done]
        for deadline in missed:
            text = sla.describe_overdue(deadline, policy.calendar) + ",已自动升级"
            _event(
                order,
                None,
                EventKind.ESCALATE,
                now,
                text,
                data={
                    "sla_key": deadline.key,
                    "deadline": deadline.name,
                    "due": deadline.due.isoformat() if deadline.due else None,
                    "level": len(order.escalations) + 1,
                },
            )
            session.flush()
            audit.record(session, None, "escalate", ENTITY, order.id, detail=f"{order.number} {text}")
        if missed:
            touched.append(order)
    return touched


# ---------------------------------------------------------------- queries


def timeline(order: WorkOrder) -> list[WorkOrderEvent]:
    """The order's history, oldest first."""
    return sorted(order.events, key=lambda e: (utc_as_stored(e.at), e.id or 0))


def customer_history(
    session: Session, customer_id: int, filters: HistoryFilter | None = None, *, limit: int = 200
) -> list[WorkOrder]:
    """A customer's orders, newest first, filterable by time range and type (and status)."""
    filters = filters or HistoryFilter()
    query = select(WorkOrder).where(WorkOrder.customer_id == customer_id)
    if filters.since is not None:
        query = query.where(WorkOrder.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(WorkOrder.created_at <= filters.until)
    if filters.types:
        query = query.where(WorkOrder.type.in_(filters.types))
    if filters.statuses:
        query = query.where(WorkOrder.status.in_(filters.statuses))
    return list(session.scalars(query.order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc()).limit(limit)))


def list_orders(
    session: Session,
    *,
    status: Sequence[Status] | Status | None = None,
    order_type: OrderType | None = None,
    priority: Priority | None = None,
    assignee_id: int | None = None,
    owner_id: int | None = None,
    involving: int | None = None,
    open_only: bool = False,
    escalated: bool | None = None,
    text: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[WorkOrder]:
    """Search: by status, type, priority, people (``involving``: owner or assignee), escalation,
    and text in the number, title or description."""
    query = select(WorkOrder)
    if status is not None:
        statuses = [status] if isinstance(status, Status) else list(status)
        query = query.where(WorkOrder.status.in_(statuses))
    if open_only:
        query = query.where(WorkOrder.status.in_(OPEN_STATUSES))
    if order_type is not None:
        query = query.where(WorkOrder.type == order_type)
    if priority is not None:
        query = query.where(WorkOrder.priority == priority)
    if assignee_id is not None:
        query = query.where(WorkOrder.assignee_id == assignee_id)
    if owner_id is not None:
        query = query.where(WorkOrder.owner_id == owner_id)
    if involving is not None:
        query = query.where(or_(WorkOrder.owner_id == involving, WorkOrder.assignee_id == involving))
    if escalated is not None:
        has = select(WorkOrderEvent.id).where(
            WorkOrderEvent.order_id == WorkOrder.id, WorkOrderEvent.kind == EventKind.ESCALATE
        )
        query = query.where(has.exists() if escalated else ~has.exists())
    if text and text.strip():
        needle = text.strip()
        query = query.where(
            or_(
                # autoescape: % and _ typed by someone are text, not LIKE wildcards
                WorkOrder.number.contains(needle.upper(), autoescape=True),
                WorkOrder.title.contains(needle, autoescape=True),
                WorkOrder.description.contains(needle, autoescape=True),
            )
        )
    query = query.order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc()).offset(offset).limit(limit)
    return list(session.scalars(query))


def colleagues(session: Session) -> list[User]:
    """Who may work on orders (to transfer or assign to): active users with the permission."""
    users = session.scalars(select(User).where(User.active).order_by(User.agent_no))
    return [user for user in users if allowed(user.role, Permission.WORKORDER_EDIT)]


def find_orders(
    session: Session, user: User, filters: WorkOrderFilter, now: datetime | None = None, *, limit: int | None = None
) -> list[WorkOrder]:
    """The list behind the API, the page and the export: the filters, then (for ``overdue``) the
    SLA check; ``sort="deadline"``: the user's open orders, soonest deadline first."""
    now = _now(now)
    limit = limit or filters.limit
    if filters.sort == "deadline":
        pairs = open_orders_by_deadline(session, user.id, now)
        return [
            order
            for order, _ in pairs
            if filters.status in (None, order.status)
            and filters.type in (None, order.type)
            and filters.priority in (None, order.priority)
        ][:limit]
    orders = list_orders(
        session,
        status=filters.status,
        order_type=filters.type,
        priority=filters.priority,
        involving=user.id if filters.mine else None,
        text=filters.q,
        limit=1000 if filters.overdue else limit,
    )
    if filters.overdue:
        orders = [o for o in orders if o.status != Status.CLOSED and sla.overdue(o, now)][:limit]
    return orders


def open_orders_by_deadline(
    session: Session, user_id: int, now: datetime | None = None, *, policy: sla.SlaPolicy | None = None
) -> list[tuple[WorkOrder, datetime | None]]:
    """工作台: the user's open orders (as owner or assignee) with their next deadline, soonest first
    (paused orders, with no running deadline, last)."""
    now = _now(now)
    orders = list_orders(session, involving=user_id, open_only=True, limit=1000)
    dated = [(order, sla.next_due(order, now, policy)) for order in orders]
    return sorted(dated, key=lambda pair: (pair[1] is None, pair[1] or now, pair[0].id))


def awaiting_callback(session: Session, owner_ids: Collection[int]) -> int:
    """Resolved orders of these owners (首问负责人) not yet closed: the callbacks (回访) waiting."""
    query = select(func.count(WorkOrder.id)).where(
        WorkOrder.status == Status.RESOLVED, WorkOrder.owner_id.in_(owner_ids)
    )
    return session.scalar(query) or 0
