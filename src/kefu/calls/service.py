"""Calls: record, correct, list and count calls (SPEC §5). The ``do_*`` functions are the only
writers of call records, and each writes its audit entry in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.calls import policy
from kefu.calls.models import CallRecord, Channel, Direction, HangupBy, is_night_service
from kefu.calls.reasons import current_reasons
from kefu.calls.schemas import CallCreate, CallFilter, CallOut, CallUpdate, TurnOut, WorkOrderDraft, check_times
from kefu.core import audit
from kefu.core.bulk import insert_rows
from kefu.core.changes import check_version, save
from kefu.core.clock import on_centre_clock, utc_as_stored, utc_for_storing
from kefu.core.db import get_or_404
from kefu.core.errors import Conflict, Invalid
from kefu.core.privacy import Reader
from kefu.customers.models import Customer

FIELD_LABELS = {
    "external_id": "通话编号",
    "direction": "呼叫方向",
    "channel": "渠道",
    "customer_id": "客户",
    "agent_id": "客服",
    "caller_number": "来电号码",
    "ring_at": "振铃时间",
    "answered_at": "接听时间",
    "ended_at": "结束时间",
    "hangup_by": "挂机方",
    "reason": "来电原因",
    "summary": "小结",
    "transcript": "转写",
}
_TIME_FIELDS = ("ring_at", "answered_at", "ended_at")
REFRESH = "请刷新后再保存"


class ScoreCopy(Protocol):
    """What a call keeps of its scorecard (kefu.quality's ``Scorecard``)."""

    @property
    def final_score(self) -> float | None: ...

    @property
    def passed(self) -> bool | None: ...


# ---------------------------------------------------------------------------- reading


def get_call(session: Session, call_id: int) -> CallRecord:
    call = get_or_404(session, CallRecord, call_id, "通话")
    return call


def _local(moment: datetime | None) -> datetime | None:
    return None if moment is None else on_centre_clock(moment)


def read_call(session: Session, user: User, call_id: int) -> CallRecord:
    """The call if ``user`` may read it (kefu.calls.policy), else 403."""
    call = get_call(session, call_id)
    policy.check_read(user, call)
    return call


def present(call: CallRecord, reader: Reader) -> CallOut:
    """The call as ``reader`` may see it: the number, the summary and the numbers said in the
    transcript masked until the caller's identity is checked (kefu.core.privacy)."""
    reasons = current_reasons()
    cid = call.customer_id
    return CallOut(
        id=call.id,
        version=call.version,
        external_id=call.external_id,
        direction=call.direction,
        direction_label=call.direction.label,
        channel=call.channel,
        channel_label=call.channel.label,
        customer_id=call.customer_id,
        agent_id=call.agent_id,
        agent_no=call.agent.agent_no if call.agent else None,
        agent_name=call.agent.name if call.agent else None,
        caller_number=reader.phone(cid, call.caller_number),
        ring_at=_local(call.ring_at),  # type: ignore[arg-type]
        answered_at=_local(call.answered_at),
        ended_at=_local(call.ended_at),
        hangup_by=call.hangup_by,
        hangup_by_label=call.hangup_by.label if call.hangup_by else None,
        reason=call.reason,
        reason_label=reasons.label(call.reason),
        summary=reader.text(cid, call.summary),
        transcript=[TurnOut(**turn) for turn in reader.turns(cid, call.transcript) or []] if call.transcript else None,
        night_service=call.night_service,
        ring_seconds=call.ring_seconds,
        talk_seconds=call.talk_seconds,
        hold_seconds=call.hold_seconds,
        wrap_seconds=call.wrap_seconds,
        qa_score=call.qa_score,
        qa_passed=call.qa_passed,
    )


def _filtered(query: Select[Any], filters: CallFilter | None) -> Select[Any]:
    if filters is None:
        return query
    if filters.start is not None:
        query = query.where(CallRecord.ring_at >= filters.start)
    if filters.end is not None:
        query = query.where(CallRecord.ring_at < filters.end)
    for field in ("agent_id", "customer_id", "reason", "direction", "channel", "night_service"):
        value = getattr(filters, field)
        if value is not None:
            query = query.where(getattr(CallRecord, field) == value)
    if filters.answered is not None:
        answered = CallRecord.answered_at.is_not(None)
        query = query.where(answered if filters.answered else ~answered)
    return query


def list_calls(
    session: Session,
    filters: CallFilter | None = None,
    *,
    limit: int = 200,
    offset: int = 0,
    viewer: User | None = None,
) -> list[CallRecord]:
    """Newest first, by time range (ring time), agent, customer, reason, direction, …;
    with ``viewer``, only the calls that user may read."""
    query = _filtered(select(CallRecord), filters)
    if viewer is not None:
        query = policy.visible(query, viewer)
    query = query.order_by(CallRecord.ring_at.desc(), CallRecord.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(query).unique())


def count_calls(session: Session, filters: CallFilter | None = None, *, viewer: User | None = None) -> int:
    query = _filtered(select(func.count(CallRecord.id)), filters)
    return session.scalar(policy.visible(query, viewer) if viewer is not None else query) or 0


def contact_history(
    session: Session,
    customer_id: int,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    reason: str | None = None,
    limit: int = 100,
) -> list[CallRecord]:
    """The customer's calls, newest first, for the customer page (work orders are joined there)."""
    filters = CallFilter(customer_id=customer_id, start=start, end=end, reason=reason)
    return list_calls(session, filters, limit=limit)


@dataclass(frozen=True)
class ReasonCount:
    code: str
    label: str
    group: str
    count: int


def reason_statistics(session: Session, filters: CallFilter | None = None) -> list[ReasonCount]:
    """Calls per 来电原因 (seed 002: the reason is clicked 「以便系统进行咨询量的统计」): every active
    reason in the centre's order, zeros included, then any retired code still found on calls."""
    query = _filtered(select(CallRecord.reason, func.count(CallRecord.id)), filters).group_by(CallRecord.reason)
    counts: dict[str, int] = {code: n for code, n in session.execute(query)}
    reasons = current_reasons()
    out = [
        ReasonCount(r.code, r.label, r.group, counts.pop(r.code, 0)) for r in reasons if r.active or r.code in counts
    ]
    out += [ReasonCount(code, code, "", n) for code, n in sorted(counts.items())]
    return out


@dataclass(frozen=True)
class AgentDay:
    """An agent's numbers for today (the workbench)."""

    calls: int
    answered: int
    inbound: int
    outbound: int
    night_service: int
    talk_seconds: float
    average_handling_seconds: float | None  # talk time (answer → end) per finished call
    average_ring_seconds: float | None  # ring → answer per answered call


def day_range(moment: datetime) -> tuple[datetime, datetime]:
    """The calendar day of ``moment`` on the centre's clock, as a UTC range."""
    day = on_centre_clock(utc_for_storing(moment)).replace(hour=0, minute=0, second=0, microsecond=0)
    return utc_for_storing(day), utc_for_storing(day + timedelta(days=1))


def agent_today(session: Session, agent_id: int, now: datetime | None = None) -> AgentDay:
    start, end = day_range(now or datetime.now().astimezone())
    calls = list_calls(session, CallFilter(agent_id=agent_id, start=start, end=end), limit=100_000)
    talks = [c.talk_seconds for c in calls if c.talk_seconds is not None]
    rings = [c.ring_seconds for c in calls if c.ring_seconds is not None]
    return AgentDay(
        calls=len(calls),
        answered=sum(c.answered for c in calls),
        inbound=sum(c.direction == Direction.INBOUND for c in calls),
        outbound=sum(c.direction == Direction.OUTBOUND for c in calls),
        night_service=sum(c.night_service for c in calls),
        talk_seconds=sum(talks),
        average_handling_seconds=sum(talks) / len(talks) if talks else None,
        average_ring_seconds=sum(rings) / len(rings) if rings else None,
    )


def work_order_draft(call: CallRecord, reader: Reader) -> WorkOrderDraft:
    """What a work order created from this call starts with, so nothing is typed twice:
    the customer, the number to call back, the summary as description, and the call itself.
    Personal data as ``reader`` may see it; a masked contact is left out (the work order takes
    the call's number itself, see kefu.workorders.service.do_create)."""
    cid = call.customer_id
    contact = call.callback_number
    shown_contact = reader.phone(cid, contact)
    reason = current_reasons().get(call.reason)
    when = _local(call.ring_at)
    draft_reason = reason.label if reason else call.reason
    return WorkOrderDraft(
        call_id=call.id,
        customer_id=call.customer_id,
        contact_name=reader.name(cid, call.customer.name) if call.customer else None,
        contact=shown_contact if shown_contact == contact else None,
        contact_hint=shown_contact,
        description=reader.text(cid, call.summary) or "",
        reason=call.reason,
        reason_label=draft_reason,
        type_hint=reason.work_order_hint if reason else None,  # consultation/complaint/fault/suggestion
        note=f"来自 {when:%Y-%m-%d %H:%M} 的{call.direction.label}通话(来电原因:{draft_reason})",
    )


# ---------------------------------------------------------------------------- checks


def check_references(
    session: Session, items: Sequence[CallCreate | CallUpdate], *, exclude_id: int | None = None
) -> list[tuple[int, str, str]]:
    """(index, field, problem) for every customer or agent that does not exist and every 通话编号
    used twice (in ``items`` or already in the database). Looked up in one query per kind."""
    problems: list[tuple[int, str, str]] = []
    customer_ids = {i.customer_id for i in items if i.customer_id is not None}
    agent_ids = {i.agent_id for i in items if i.agent_id is not None}
    numbers = {i.external_id for i in items if i.external_id}
    known_customers = (
        set(session.scalars(select(Customer.id).where(Customer.id.in_(customer_ids)))) if customer_ids else set()
    )
    known_agents = set(session.scalars(select(User.id).where(User.id.in_(agent_ids)))) if agent_ids else set()
    taken: dict[str, int] = {}
    if numbers:
        query = select(CallRecord.external_id, CallRecord.id).where(CallRecord.external_id.in_(numbers))
        taken = {number: call_id for number, call_id in session.execute(query) if call_id != exclude_id}
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.customer_id is not None and item.customer_id not in known_customers:
            problems.append((index, "customer_id", f"客户 {item.customer_id} 不存在"))
        if item.agent_id is not None and item.agent_id not in known_agents:
            problems.append((index, "agent_id", f"客服(用户 {item.agent_id})不存在"))
        number = item.external_id
        if number:
            if number in taken:
                problems.append((index, "external_id", f"通话编号 {number} 已存在(通话 {taken[number]})"))
            elif number in seen:
                problems.append((index, "external_id", f"通话编号 {number} 重复(与第 {seen[number] + 1} 条相同)"))
            else:
                seen[number] = index
    return problems


def _raise_first(problems: list[tuple[int, str, str]]) -> None:
    if problems:
        _, field, message = problems[0]
        error = Conflict if field == "external_id" else Invalid
        raise error(f"{FIELD_LABELS[field]}:{message}")


def _audit_value(field: str, value: Any) -> Any:
    if field == "transcript":
        return None if value is None else f"{len(value)} 句"
    if isinstance(value, datetime):
        return on_centre_clock(value).isoformat()
    return value


# ---------------------------------------------------------------------------- writing


def new_call(data: CallCreate) -> CallRecord:
    """The record of a call not stored yet (the inspection engine may read it before it is)."""
    values = data.model_dump(exclude_none=True)
    return CallRecord(**values, night_service=is_night_service(data.ring_at))


def _check_agents(session: Session, actor_id: int | None, agent_ids: set[int | None]) -> None:
    actor = session.get(User, actor_id) if actor_id is not None else None
    if actor is None:  # the system (demo data, scripts): no user to limit
        return
    for agent_id in sorted(agent_ids, key=lambda a: a or 0):
        policy.check_agent(session, actor, agent_id)


def do_create_call(session: Session, actor_id: int | None, data: CallCreate) -> CallRecord:
    """Record a call. ``CallCreate`` has already checked the reason, the order of the times and
    the transcript; here the customer, the agent and the 通话编号 are checked against the database,
    and the agent against what the actor may record (kefu.calls.policy)."""
    if data.agent_id is None and actor_id is not None:  # a call without an agent is the recorder's own
        data = data.model_copy(update={"agent_id": actor_id})
    _raise_first(check_references(session, [data]))
    _check_agents(session, actor_id, {data.agent_id})
    call = new_call(data)
    session.add(call)
    session.flush()
    values = data.model_dump(exclude_none=True)
    audit.record(
        session, actor_id, "create", "call", call.id, {k: [None, _audit_value(k, v)] for k, v in values.items()}
    )
    return call


def do_import_call_rows(
    session: Session,
    actor_id: int | None,
    items: Sequence[CallCreate],
    source: str,
    scores: Sequence[ScoreCopy | None],
    now: datetime,
) -> list[int]:
    """An import's calls, each with its copy of its QA score (computed beforehand, None without
    a transcript), in a few statements, one audit entry; the new ids in order. The references are
    checked again as the database will see them. Kept short on purpose: on SQLite this holds the
    write lock."""
    _raise_first(check_references(session, items))
    _check_agents(session, actor_id, {item.agent_id for item in items})
    rows = [
        {
            **item.model_dump(),
            "night_service": is_night_service(item.ring_at),
            "qa_score": card.final_score if card else None,
            "qa_passed": card.passed if card else None,
            "inspected_at": now if card else None,
        }
        for item, card in zip(items, scores, strict=True)
    ]
    try:
        ids = insert_rows(session, CallRecord.__table__, rows)
    except IntegrityError:  # a 通话编号 saved by someone else since the check
        raise Conflict("导入时有通话被他人同时保存(通话编号重复),没有导入任何数据,请重新导入") from None
    audit.record(
        session,
        actor_id,
        "import",
        "call",
        None,
        {"created": [None, len(ids)], "ids": [None, ids]},
        detail=f"导入通话 {source}:新增 {len(ids)} 条",
    )
    return ids


def do_update_call(session: Session, actor_id: int | None, call_id: int, data: CallUpdate) -> CallRecord:
    call = get_call(session, call_id)
    actor = session.get(User, actor_id) if actor_id is not None else None
    if actor is not None:
        policy.check_write(actor, call)
    check_version(call, data.version, "通话记录", refresh=REFRESH)
    updates = data.changes()
    changes: dict[str, list[Any]] = {}
    for field, new in updates.items():
        old = getattr(call, field)
        if field in _TIME_FIELDS and old is not None:
            old = utc_as_stored(old)
        if old != new:
            changes[field] = [old, new]
    if not changes:
        raise Invalid("没有需要保存的修改")
    times = {f: changes[f][1] if f in changes else getattr(call, f) for f in _TIME_FIELDS}
    try:
        check_times(times["ring_at"], times["answered_at"], times["ended_at"])
    except ValueError as err:
        raise Invalid(str(err)) from None
    _raise_first(check_references(session, [data], exclude_id=call.id))
    if "agent_id" in changes:
        _check_agents(session, actor_id, {changes["agent_id"][1]})
    for field, (_, new) in changes.items():
        setattr(call, field, new)
    if "ring_at" in changes:
        call.night_service = is_night_service(times["ring_at"])
    save(session, "通话记录", refresh=REFRESH)
    audit.record(
        session,
        actor_id,
        "update",
        "call",
        call.id,
        {f: [_audit_value(f, old), _audit_value(f, new)] for f, (old, new) in changes.items()},
    )
    return call


def copy_qa_result(
    session: Session, call_id: int, score: float | None, passed: bool | None, inspected_at: datetime | None = None
) -> None:
    """The call's copy of its QA score (lists, exports), written by the quality domain. Written
    without bumping the call's version: an inspection or a review must not turn an agent's open
    edit of the call into a conflict."""
    values: dict[str, object] = {"qa_score": score, "qa_passed": passed}
    if inspected_at is not None:
        values["inspected_at"] = inspected_at
    session.execute(
        update(CallRecord).where(CallRecord.id == call_id).values(**values),
        execution_options={"synchronize_session": "fetch"},
    )


# What the inspection engine reads of a call (``CallRecord.to_transcript``): a change to any of
# them means the call is inspected again.
INSPECTED_FIELDS = ("transcript", "ring_at", "answered_at", "ended_at", "hangup_by", "direction", "channel", "agent_id")


def inspected_values(call: CallRecord) -> tuple[Any, ...]:
    return tuple(getattr(call, name) for name in INSPECTED_FIELDS)


def latest_ring(session: Session, before: datetime) -> datetime | None:
    """When the last call before ``before`` rang."""
    return session.scalar(select(func.max(CallRecord.ring_at)).where(CallRecord.ring_at < before))


__all__ = [
    "FIELD_LABELS",
    "AgentDay",
    "Channel",
    "Direction",
    "HangupBy",
    "ReasonCount",
    "agent_today",
    "check_references",
    "contact_history",
    "count_calls",
    "day_range",
    "do_create_call",
    "do_update_call",
    "get_call",
    "latest_ring",
    "list_calls",
    "present",
    "read_call",
    "reason_statistics",
    "work_order_draft",
]
