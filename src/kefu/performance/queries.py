"""The platform's records of a period as ``Records`` (kefu.performance.records), read with plain
column selects: a month of a large centre is a hundred thousand calls, and building ORM objects
for them would cost more than every KPI together."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, String, and_, select, type_coerce
from sqlalchemy.orm import Session, aliased, joinedload

from kefu.accounts.models import User
from kefu.calls.models import CallRecord
from kefu.calls.reasons import UNANSWERED
from kefu.core.clock import utc_as_stored
from kefu.core.security import Role
from kefu.inspection.transcript import Direction
from kefu.performance import models as m
from kefu.performance.kpi import CallFact
from kefu.performance.records import Attendance, BusinessError, Person, QaScore, Records, Sale, SurveyAnswer
from kefu.quality.models import Finding, FindingReview, Inspection, InspectionStatus
from kefu.workorders.models import WorkOrder

BUSINESS_CATEGORY = "business"  # the rulebook's 业务处理 category


# Who is evaluated: the agents, and the team leads, who take calls too.
EVALUATED = (Role.AGENT, Role.TEAM_LEAD)


def people(session: Session, agent_ids: Collection[int] | None = None) -> dict[int, User]:
    """The evaluated people by id; ``agent_ids`` None: all of them."""
    query = select(User).where(User.role.in_(EVALUATED))
    if agent_ids is not None:
        query = query.where(User.id.in_(agent_ids))
    return {u.id: u for u in session.scalars(query.order_by(User.agent_no))}


def _stored_time(column: Any, text: bool) -> Any:
    """A time column read without ``UTCDateTime``'s processing, which costs more than the rest of
    a call's row: on SQLite (``text``) the stored text, parsed by ``_utc``; elsewhere the driver's
    time, given to ``_aware``."""
    return type_coerce(column, String if text else DateTime(timezone=True))


def _utc(value: str | None) -> datetime | None:
    """SQLite's stored text of a UTC time (``2026-10-01 08:30:00.000000``) as an aware UTC time,
    what ``UTCDateTime`` gives."""
    return None if value is None else datetime.fromisoformat(value + "+00:00")


def _aware(value: datetime | None) -> datetime | None:
    """A time from a database that keeps zones, as ``UTCDateTime`` gives it: one without a zone is UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _calls(session: Session, start: datetime, end: datetime) -> tuple[list[CallFact], list[int | None]]:
    """The inbound calls that rang in [start, end), in ring order, and their agents' user ids.

    The agent's 工号 and team come from one query of the users, not a join on every call (a fifth
    of the time for a month of calls); the rows are unpacked as plain tuples."""
    text = session.get_bind().dialect.name == "sqlite"
    query = (
        select(
            CallRecord.id,
            _stored_time(CallRecord.ring_at, text),
            _stored_time(CallRecord.answered_at, text),
            _stored_time(CallRecord.ended_at, text),
            CallRecord.agent_id,
            CallRecord.customer_id,
            CallRecord.caller_number,
            CallRecord.reason,
            CallRecord.hold_seconds,
            CallRecord.wrap_seconds,
        )
        .where(CallRecord.direction == Direction.INBOUND, CallRecord.ring_at >= start, CallRecord.ring_at < end)
        .order_by(CallRecord.ring_at, CallRecord.id)
    )
    who = {user_id: (no, team) for user_id, no, team in session.execute(select(User.id, User.agent_no, User.team))}
    nobody = (None, None)
    time = _utc if text else _aware
    facts: list[CallFact] = []
    agents: list[int | None] = []
    rows = session.execute(query)
    for call_id, ring_at, answered_at, ended_at, agent_id, customer_id, caller_number, reason, hold, wrap in rows:
        agent_no, team = who.get(agent_id, nobody)
        facts.append(
            CallFact(
                call_id=str(call_id),
                ring_at=time(ring_at),  # type: ignore[arg-type]
                answered_at=time(answered_at),
                ended_at=time(ended_at),
                agent=agent_no,
                team=team,
                # The number first: an abandoned repeat carries only the number, never the customer.
                customer=caller_number or (f"c{customer_id}" if customer_id is not None else None),
                reason=None if reason == UNANSWERED else reason,  # an abandoned call's topic is unknown
                hold_seconds=hold or 0.0,
                wrap_seconds=wrap,
            )
        )
        agents.append(agent_id)
    return facts, agents


def _period_and_later(
    session: Session, start: datetime, end: datetime, agent_ids: Collection[int] | None, fcr_days: int
) -> tuple[list[CallFact], list[CallFact]]:
    """The period's calls (of ``agent_ids`` when given) and the calls searched for repeats: the
    ``fcr_days`` after the period, and with ``agent_ids`` everyone's calls of the period too —
    a customer who calls again about the same thing was not helped, whichever agent takes the
    second call. With ``agent_ids`` the period is read once, with the days after it, and the
    agents' calls are picked out of it (the same calls, in the same order, as a query of their own)."""
    after = end + timedelta(days=fcr_days)
    if agent_ids is None:
        return _calls(session, start, end)[0], _calls(session, end, after)[0]
    everyone, agents = _calls(session, start, after)
    ids, until = set(agent_ids), utc_as_stored(end)
    period = [fact for fact, agent in zip(everyone, agents, strict=True) if agent in ids and fact.ring_at < until]
    return period, everyone


def _qa(session: Session, start: datetime, end: datetime, agent_ids: Collection[int] | None) -> list[QaScore]:
    query = (
        select(Inspection.id, Inspection.call_id, User.agent_no, CallRecord.ring_at, Inspection.final_score)
        .join(CallRecord, CallRecord.id == Inspection.call_id)
        .join(User, User.id == CallRecord.agent_id)
        .where(
            Inspection.current.is_(True),
            Inspection.status == InspectionStatus.DONE,
            Inspection.final_score.is_not(None),
            CallRecord.ring_at >= start,
            CallRecord.ring_at < end,
        )
    )
    if agent_ids is not None:
        query = query.where(CallRecord.agent_id.in_(agent_ids))
    return [
        QaScore(call_id=str(row.call_id), agent=row.agent_no, at=row.ring_at, score=row.final_score, inspection=row.id)
        for row in session.execute(query.order_by(CallRecord.ring_at))
    ]


def _surveys(session: Session, start: datetime, end: datetime, agent_ids: Collection[int] | None) -> list[SurveyAnswer]:
    """Post-call surveys, and the callbacks (回访) of work orders, which rate their owner (首问负责人).

    The surveys' agents are picked out here, not with ``agent_id IN (…)`` in the query (see
    ``_sales``): SQLite would walk every call the agents ever took."""
    survey = (
        select(m.Survey.call_id, m.Survey.answer, m.Survey.answered_at, User.agent_no, CallRecord.agent_id)
        .join(CallRecord, CallRecord.id == m.Survey.call_id)
        .join(User, User.id == CallRecord.agent_id)
        .where(m.Survey.answered_at >= start, m.Survey.answered_at < end)
        .order_by(m.Survey.answered_at, m.Survey.id)
    )
    callback = (
        select(WorkOrder.call_id, WorkOrder.satisfaction, WorkOrder.callback_at, User.agent_no)
        .join(User, User.id == WorkOrder.owner_id)
        .where(WorkOrder.satisfaction.is_not(None), WorkOrder.callback_at >= start, WorkOrder.callback_at < end)
    )
    ids = set(agent_ids) if agent_ids is not None else None
    if agent_ids is not None:
        callback = callback.where(WorkOrder.owner_id.in_(agent_ids))
    answers = [
        SurveyAnswer(agent=agent_no, at=answered_at, answer=answer, call_id=str(call_id))
        for call_id, answer, answered_at, agent_no, agent_id in session.execute(survey)
        if ids is None or agent_id in ids
    ]
    answers += [
        SurveyAnswer(
            agent=r.agent_no,
            at=r.callback_at,
            answer=r.satisfaction,
            call_id=str(r.call_id) if r.call_id is not None else None,
        )
        for r in session.execute(callback)
    ]
    return answers


def _sales(session: Session, start: datetime, end: datetime, agent_ids: Collection[int] | None) -> list[Sale]:
    # The agents are picked out here, not in the query: with ``agent_id IN (…)`` SQLite (it keeps
    # no statistics) walks every call the agents ever took to find the period's few with a sale —
    # ten times slower for one month of 100,000 calls, and slower with every month of history.
    query = (
        select(m.Sale.call_id, m.Sale.converted, m.Sale.amount, CallRecord.ring_at, User.agent_no, CallRecord.agent_id)
        .join(CallRecord, CallRecord.id == m.Sale.call_id)
        .join(User, User.id == CallRecord.agent_id)
        .where(CallRecord.ring_at >= start, CallRecord.ring_at < end)
        .order_by(m.Sale.id)
    )
    ids = set(agent_ids) if agent_ids is not None else None
    return [
        Sale(agent=agent_no, at=ring_at, converted=converted, amount=amount, call_id=str(call_id))
        for call_id, converted, amount, ring_at, agent_no, agent_id in session.execute(query)
        if ids is None or agent_id in ids
    ]


def _errors(session: Session, start: datetime, end: datetime, agent_ids: Collection[int] | None) -> list[BusinessError]:
    """Errors recorded by hand, and the 业务处理 findings an inspector confirmed on review that
    still count (no upheld appeal) on the calls' current scorecards."""
    agent = aliased(User)
    manual = (
        select(m.BusinessError.call_id, m.BusinessError.occurred_at, m.BusinessError.note, agent.agent_no)
        .join(agent, agent.id == m.BusinessError.agent_id)
        .where(m.BusinessError.occurred_at >= start, m.BusinessError.occurred_at < end)
    )
    confirmed = (
        select(Finding)
        .options(joinedload(Finding.inspection))  # and its call and agent, which load with it: no query per finding
        .join(Inspection, and_(Inspection.id == Finding.inspection_id, Inspection.current.is_(True)))
        .join(CallRecord, CallRecord.id == Inspection.call_id)
        .where(
            Finding.category == BUSINESS_CATEGORY,
            Finding.review == FindingReview.CONFIRMED,
            CallRecord.ring_at >= start,
            CallRecord.ring_at < end,
        )
    )
    if agent_ids is not None:
        manual = manual.where(m.BusinessError.agent_id.in_(agent_ids))
        confirmed = confirmed.where(CallRecord.agent_id.in_(agent_ids))
    errors = [
        BusinessError(agent=r.agent_no, at=r.occurred_at, call_id=str(r.call_id) if r.call_id else None, note=r.note)
        for r in session.execute(manual)
    ]
    for finding in session.scalars(confirmed):
        call = finding.inspection.call
        if finding.counts and call.agent is not None:
            errors.append(
                BusinessError(agent=call.agent.agent_no, at=call.ring_at, call_id=str(call.id), note=finding.message)
            )
    return errors


def _attendance(session: Session, first: date, last: date, agent_ids: Collection[int] | None) -> list[Attendance]:
    query = (
        select(User.agent_no, m.Attendance.day, m.Attendance.scheduled_minutes, m.Attendance.present_minutes)
        .join(User, User.id == m.Attendance.agent_id)
        .where(m.Attendance.day >= first, m.Attendance.day <= last)
    )
    if agent_ids is not None:
        query = query.where(m.Attendance.agent_id.in_(agent_ids))
    return [
        Attendance(agent=no, day=day, scheduled_minutes=scheduled, present_minutes=present)
        for no, day, scheduled, present in session.execute(query)
    ]


def load_records(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    agent_ids: Collection[int] | None = None,
    fcr_days: int = 7,
    first_day: date,
    last_day: date,
    only: Collection[str] | None = None,
) -> Records:
    """The records of [start, end) (UTC; the days ``first_day``…``last_day`` on the centre's
    calendar for attendance), of ``agent_ids`` only when given, with the calls of the
    ``fcr_days`` after the period for first-contact resolution (a call of the period that is also
    among ``later`` is not its own repeat: only a later ring time counts). ``only``: the kinds
    of records wanted (``Records`` field names), when not all are."""

    def wanted(kind: str) -> bool:
        return only is None or kind in only

    calls, later = _period_and_later(session, start, end, agent_ids, fcr_days) if wanted("calls") else ([], [])
    return Records(
        calls=calls,
        qa=_qa(session, start, end, agent_ids) if wanted("qa") else [],
        surveys=_surveys(session, start, end, agent_ids) if wanted("surveys") else [],
        sales=_sales(session, start, end, agent_ids) if wanted("sales") else [],
        errors=_errors(session, start, end, agent_ids) if wanted("errors") else [],
        attendance=_attendance(session, first_day, last_day, agent_ids) if wanted("attendance") else [],
        later=later,
        people={u.agent_no: Person(u.agent_no, u.name, u.team) for u in people(session, agent_ids).values()},
    )
