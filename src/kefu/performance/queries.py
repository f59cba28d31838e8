"""The platform's records of a period as ``Records`` (kefu.performance.records), read with plain
column selects: a month of a large centre is a hundred thousand calls, and building ORM objects
for them would cost more than every KPI together."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from kefu.accounts.models import User
from kefu.calls.models import CallRecord
from kefu.calls.reasons import UNANSWERED
from kefu.core.security import Role
from kefu.inspection.transcript import Direction
from kefu.performance import models as m
from kefu.performance.kpi import CallFact
from kefu.performance.records import Attendance, BusinessError, Person, QaScore, Records, Sale, SurveyAnswer
from kefu.quality.models import Finding, FindingReview, Inspection, InspectionStatus
from kefu.workorders.models import WorkOrder

BUSINESS_CATEGORY = "business"  # the rulebook's 业务处理 category


def people(session: Session, agent_ids: Collection[int] | None = None) -> dict[int, User]:
    """The agents (and team leads, who take calls too) by id; ``agent_ids`` None: all of them."""
    query = select(User).where(User.role.in_([Role.AGENT, Role.TEAM_LEAD]))
    if agent_ids is not None:
        query = query.where(User.id.in_(agent_ids))
    return {u.id: u for u in session.scalars(query.order_by(User.agent_no))}


def _calls(session: Session, start: datetime, end: datetime, agent_ids: Collection[int] | None) -> list[CallFact]:
    query = (
        select(
            CallRecord.id,
            CallRecord.ring_at,
            CallRecord.answered_at,
            CallRecord.ended_at,
            User.agent_no,
            User.team,
            CallRecord.customer_id,
            CallRecord.caller_number,
            CallRecord.reason,
            CallRecord.hold_seconds,
            CallRecord.wrap_seconds,
        )
        .outerjoin(User, User.id == CallRecord.agent_id)
        .where(CallRecord.direction == Direction.INBOUND, CallRecord.ring_at >= start, CallRecord.ring_at < end)
    )
    if agent_ids is not None:
        query = query.where(CallRecord.agent_id.in_(agent_ids))
    return [
        CallFact(
            call_id=str(row.id),
            ring_at=row.ring_at,
            answered_at=row.answered_at,
            ended_at=row.ended_at,
            agent=row.agent_no,
            team=row.team,
            customer=f"c{row.customer_id}" if row.customer_id is not None else row.caller_number,
            reason=None if row.reason == UNANSWERED else row.reason,  # an abandoned call's topic is unknown
            hold_seconds=row.hold_seconds or 0.0,
            wrap_seconds=row.wrap_seconds,
        )
        for row in session.execute(query.order_by(CallRecord.ring_at, CallRecord.id))
    ]


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
    """Post-call surveys, and the callbacks (回访) of work orders, which rate their owner (首问负责人)."""
    survey = (
        select(m.Survey.call_id, m.Survey.answer, m.Survey.answered_at, User.agent_no)
        .join(CallRecord, CallRecord.id == m.Survey.call_id)
        .join(User, User.id == CallRecord.agent_id)
        .where(m.Survey.answered_at >= start, m.Survey.answered_at < end)
    )
    callback = (
        select(WorkOrder.call_id, WorkOrder.satisfaction, WorkOrder.callback_at, User.agent_no)
        .join(User, User.id == WorkOrder.owner_id)
        .where(WorkOrder.satisfaction.is_not(None), WorkOrder.callback_at >= start, WorkOrder.callback_at < end)
    )
    if agent_ids is not None:
        survey = survey.where(CallRecord.agent_id.in_(agent_ids))
        callback = callback.where(WorkOrder.owner_id.in_(agent_ids))
    answers = [
        SurveyAnswer(agent=r.agent_no, at=r.answered_at, answer=r.answer, call_id=str(r.call_id))
        for r in session.execute(survey)
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
    query = (
        select(m.Sale.call_id, m.Sale.converted, m.Sale.amount, CallRecord.ring_at, User.agent_no)
        .join(CallRecord, CallRecord.id == m.Sale.call_id)
        .join(User, User.id == CallRecord.agent_id)
        .where(CallRecord.ring_at >= start, CallRecord.ring_at < end)
    )
    if agent_ids is not None:
        query = query.where(CallRecord.agent_id.in_(agent_ids))
    return [
        Sale(agent=r.agent_no, at=r.ring_at, converted=r.converted, amount=r.amount, call_id=str(r.call_id))
        for r in session.execute(query)
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
        select(m.Attendance, User.agent_no)
        .join(User, User.id == m.Attendance.agent_id)
        .where(m.Attendance.day >= first, m.Attendance.day <= last)
    )
    if agent_ids is not None:
        query = query.where(m.Attendance.agent_id.in_(agent_ids))
    return [
        Attendance(agent=no, day=a.day, scheduled_minutes=a.scheduled_minutes, present_minutes=a.present_minutes)
        for a, no in session.execute(query)
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

    calls = wanted("calls")
    return Records(
        calls=_calls(session, start, end, agent_ids) if calls else [],
        qa=_qa(session, start, end, agent_ids) if wanted("qa") else [],
        surveys=_surveys(session, start, end, agent_ids) if wanted("surveys") else [],
        sales=_sales(session, start, end, agent_ids) if wanted("sales") else [],
        errors=_errors(session, start, end, agent_ids) if wanted("errors") else [],
        attendance=_attendance(session, first_day, last_day, agent_ids) if wanted("attendance") else [],
        # Repeats are looked for among everyone's calls: a customer who calls again about the same
        # thing was not helped, whichever agent takes the second call.
        later=_calls(session, start if agent_ids is not None else end, end + timedelta(days=fcr_days), None)
        if calls
        else [],
        people={u.agent_no: Person(u.agent_no, u.name, u.team) for u in people(session, agent_ids).values()},
    )
