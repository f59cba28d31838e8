"""Performance in the platform: who sees whose figures, the month's evaluation (live until
published, frozen after), and every write — each ``do_*`` with its audit entry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.calls.models import CallRecord
from kefu.core import access
from kefu.core.access import Record, Scope
from kefu.core.audit import AuditAction, AuditEntity, record
from kefu.core.bulk import insert_rows
from kefu.core.changes import check_version, save
from kefu.core.clock import centre_tz, on_centre_clock
from kefu.core.db import get_or_404, utcnow
from kefu.core.errors import Conflict, Forbidden, Invalid
from kefu.core.security import Permission, allowed
from kefu.core.settings import get_settings
from kefu.performance import awards
from kefu.performance import models as m
from kefu.performance.evaluation import EvaluationPolicy, current_policy
from kefu.performance.kpi import AbandonMode, AbandonPolicy, is_satisfied
from kefu.performance.queries import load_records, people
from kefu.performance.records import BusinessError as BusinessErrorRecord
from kefu.performance.records import Records
from kefu.performance.schemas import (
    MONTH,
    AttendanceIn,
    CandidateOut,
    CoachingCloseIn,
    CoachingIn,
    CoachingOut,
    ErrorIn,
    EvaluationRow,
    KpiOut,
    MonthOut,
    SaleIn,
    SurveyIn,
)
from kefu.performance.summary import AgentMonth, By, Settings, evaluate_month, summarise
from kefu.quality.models import Inspection

# ---------------------------------------------------------------- periods on the centre's calendar


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), centre_tz()).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), centre_tz()).astimezone(UTC)

    @classmethod
    def month(cls, month: str) -> Period:
        if not MONTH.match(month or ""):
            raise Invalid(f"月份应为 年-月,如 2026-11,而不是「{month}」")
        first = date.fromisoformat(f"{month}-01")
        return cls(first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1))

    @classmethod
    def between(cls, first: date, last: date) -> Period:
        if last < first:
            raise Invalid("结束日期早于开始日期")
        if (last - first).days > 366:
            raise Invalid("时间范围最长一年")
        return cls(first, last)


def today() -> date:
    return on_centre_clock(utcnow()).date()


def previous_month(month: str) -> str:
    first = date.fromisoformat(f"{month}-01")
    return (first - timedelta(days=1)).strftime("%Y-%m")


def kpi_settings() -> Settings:
    """How the centre counts (KEFU_SERVICE_LEVEL_SECONDS, KEFU_ABANDON_POLICY,
    KEFU_SHORT_ABANDON_SECONDS, KEFU_FCR_DAYS)."""
    core = get_settings()
    policy = AbandonPolicy(AbandonMode(core.abandon_policy), core.short_abandon_seconds)
    return Settings(within=core.service_level_seconds, policy=policy, fcr_days=core.fcr_days)


# ---------------------------------------------------------------- who sees whom


def visible_agents(session: Session, user: User) -> dict[int, User]:
    """The agents whose figures ``user`` may read (own / team / all)."""
    scope = access.scope_of(user, Record.PERFORMANCE)
    if scope is None:
        raise Forbidden(f"{user.role.label}无权查看绩效")
    everyone = people(session)
    if scope is Scope.ALL:
        return everyone
    return {i: u for i, u in everyone.items() if access.within(user, scope, [u])}


def readable_agent(session: Session, user: User, agent_id: int) -> User:
    agent = get_or_404(session, User, agent_id, "话务员")
    access.check(user, Record.PERFORMANCE, [agent], what=f"{agent.name}({agent.agent_no})的绩效")
    return agent


def _writable_agent(session: Session, actor: User, agent_id: int) -> User:
    agent = get_or_404(session, User, agent_id, "话务员")
    access.check(actor, Record.PERFORMANCE, [agent], write=True, what=f"{agent.name}({agent.agent_no})的绩效")
    return agent


# ---------------------------------------------------------------- KPIs


def kpis(session: Session, user: User, period: Period, by: By, settings: Settings | None = None) -> list[KpiOut]:
    """The KPIs of the agents ``user`` may see, per agent, team or the centre (of those agents)."""
    settings = settings or kpi_settings()
    agents = visible_agents(session, user)
    # Everyone's: the queue's unanswered calls too (they belong to no agent).
    everyone = access.scope_of(user, Record.PERFORMANCE) is Scope.ALL
    records = load_records(
        session,
        period.start,
        period.end,
        agent_ids=None if everyone else list(agents),
        fcr_days=settings.fcr_days,
        first_day=period.first,
        last_day=period.last,
    )
    return [KpiOut.of(k) for k in summarise(records, by, settings)]


# ---------------------------------------------------------------- the month


def load_month_records(
    session: Session, month: str, agent_ids: list[int] | None = None, settings: Settings | None = None
) -> Records:
    """Everything a month's evaluation is computed from (``agent_ids`` None: everyone's)."""
    settings = settings or kpi_settings()
    period = Period.month(month)
    return load_records(
        session,
        period.start,
        period.end,
        agent_ids=agent_ids,
        fcr_days=settings.fcr_days,
        first_day=period.first,
        last_day=period.last,
    )


def _rows(session: Session, month: str, agents: dict[int, User], settings: Settings) -> list[tuple[AgentMonth, User]]:
    records = load_month_records(session, month, list(agents), settings)
    by_no = {u.agent_no: u for u in agents.values()}
    return [(r, by_no[r.agent]) for r in evaluate_month(records, settings) if r.agent in by_no]


def _live_row(result: AgentMonth, agent: User, comment: str | None) -> EvaluationRow:
    return EvaluationRow.of(result, agent_id=agent.id, name=agent.name, team=agent.team, comment=comment)


def _stored_row(ev: m.AgentEvaluation, policy: EvaluationPolicy) -> EvaluationRow:
    return EvaluationRow(
        agent_id=ev.agent_id,
        agent_no=ev.agent_no,
        name=ev.name,
        team=ev.team,
        calls=ev.calls,
        total=ev.total,
        grade=ev.grade,
        grade_label=policy.grade(ev.total)[1] if ev.total is not None else None,
        parts=ev.parts,  # type: ignore[arg-type]
        missing=ev.figures.get("missing", []),
        kpis=KpiOut.model_validate(ev.figures["kpis"]),
        comment=ev.comment,
    )


def published(session: Session, month: str) -> m.PublishedMonth | None:
    """The revision in force (the highest), or None while the month is a draft."""
    return session.scalars(
        select(m.PublishedMonth).where(m.PublishedMonth.month == month).order_by(m.PublishedMonth.revision.desc())
    ).first()


def _comments(session: Session, month: str) -> dict[int, str]:
    query = select(m.EvaluationComment.agent_id, m.EvaluationComment.text).where(m.EvaluationComment.month == month)
    return {agent_id: text for agent_id, text in session.execute(query)}


def _basis(settings: Settings) -> dict[str, object]:
    """The settings a month was computed with, worded for people (the page and the HR export)."""
    return {
        "服务水平口径": f"{settings.within:g} 秒内接听;{settings.policy.describe()}",
        "一次解决率": f"{settings.fcr_days} 天内同一客户同一原因未再来电",
        "月度之星门槛": f"接听至少 {awards.MIN_CALLS} 通;总分按接听量向班组平均收缩(先验 {awards.PRIOR_CALLS} 通)",
    }


def _entries(rows: Sequence[EvaluationRow]) -> list[awards.Entry]:
    return [awards.Entry(r.agent_no, r.name, r.team, r.total, r.calls, r.grade) for r in rows if r.total is not None]


def month_rows(session: Session, user: User, month: str, settings: Settings | None = None) -> list[EvaluationRow]:
    """Each visible agent's month: as published, or live from today's records."""
    settings = settings or kpi_settings()
    policy = current_policy()
    agents = visible_agents(session, user)
    current = published(session, month)
    if current is not None:
        return [_stored_row(ev, policy) for ev in current.evaluations if ev.agent_id in agents]
    comments = _comments(session, month)
    return [_live_row(r, a, comments.get(a.id)) for r, a in _rows(session, month, agents, settings)]


def month_view(session: Session, user: User, month: str, settings: Settings | None = None) -> MonthOut:
    settings = settings or kpi_settings()
    rows = month_rows(session, user, month, settings)
    # "Results that stay poor" look back at the previous month as published (a draft would
    # double the work of the page, and may still change).
    before = published(session, previous_month(month))
    agents = visible_agents(session, user)
    previous = (
        [_stored_row(ev, current_policy()) for ev in before.evaluations if ev.agent_id in agents] if before else []
    )
    entries = {e.agent: e for e in _entries(previous)}
    for row in rows:
        if row.total is not None:
            here = awards.Entry(row.agent_no, row.name, row.team, row.total, row.calls, row.grade)
            row.coaching = awards.coaching_reason(here, entries.get(row.agent_no))
    current = published(session, month)
    stars = awards.star_candidates(_entries(rows))
    return MonthOut(
        month=month,
        published=current is not None,
        revision=current.revision if current else None,
        published_at=current.published_at if current else None,
        published_by=current.publisher.name if current else None,
        reason=current.reason if current else None,
        revisions=current.revision if current else 0,
        basis=current.basis if current else _basis(settings),
        rows=rows,
        stars=[CandidateOut(**vars(c) | {"agent_no": c.agent}) for c in stars[:5]],
        min_calls=awards.MIN_CALLS,
    )


def quarter_stars(session: Session, user: User, year: int, quarter: int) -> list[CandidateOut]:
    """季度优秀员工 candidates from the quarter's three months (published or live)."""
    if not 1 <= quarter <= 4:
        raise Invalid("季度应为 1–4")
    months = [f"{year}-{3 * (quarter - 1) + i:02d}" for i in (1, 2, 3)]
    ranked = awards.quarter_candidates([_entries(month_rows(session, user, mo)) for mo in months])
    return [CandidateOut(**vars(c) | {"agent_no": c.agent}) for c in ranked[:5]]


def agent_month(session: Session, user: User, month: str, agent_id: int) -> EvaluationRow:
    agent = readable_agent(session, user, agent_id)
    for row in month_rows(session, user, month):
        if row.agent_id == agent.id:
            return row
    raise Invalid(f"{agent.name}({agent.agent_no})在 {month} 没有可考核的记录")


def qa_behind(session: Session, user: User, month: str, agent_id: int, shown: int) -> tuple[list[Inspection], int]:
    """The scorecards behind the 通话质量 figure — as published, or of the live month — the
    lowest ``shown`` of them first, and how many there are."""
    agent = readable_agent(session, user, agent_id)
    current = published(session, month)
    if current is not None:
        stored = next((ev for ev in current.evaluations if ev.agent_id == agent.id), None)
        ids = stored.inspections if stored else []
    else:
        ids = [q.inspection for q in load_month_records(session, month, [agent.id]).qa if q.inspection is not None]
    query = select(Inspection).where(Inspection.id.in_(ids)).order_by(Inspection.final_score, Inspection.id)
    return (list(session.scalars(query.limit(shown))) if ids else []), len(ids)


def errors_behind(session: Session, user: User, month: str, agent_id: int) -> list[BusinessErrorRecord]:
    """The business errors of the agent's month (the 业务准确率 figure), as the records are now."""
    agent = readable_agent(session, user, agent_id)
    period = Period.month(month)
    only = {"errors"}
    return load_records(
        session, period.start, period.end, agent_ids=[agent.id], first_day=period.first, last_day=period.last, only=only
    ).errors


def _require_month_over(month: str) -> Period:
    period = Period.month(month)
    if period.last >= today():
        raise Conflict(f"{month} 还没有结束,月底之后才能发布")
    return period


def do_comment(session: Session, actor: User, month: str, agent_id: int, text: str) -> m.EvaluationComment:
    Period.month(month)
    agent = _writable_agent(session, actor, agent_id)
    if published(session, month) is not None:
        raise Conflict(f"{month} 的考核已发布并冻结,评语不能再改;如需更正请主管发布修订版")
    comment = session.scalars(
        select(m.EvaluationComment).where(m.EvaluationComment.month == month, m.EvaluationComment.agent_id == agent.id)
    ).first()
    old = comment.text if comment else None
    if comment is None:
        comment = m.EvaluationComment(month=month, agent_id=agent.id, text=text, author_id=actor.id)
        session.add(comment)
    else:
        comment.text, comment.author_id = text, actor.id
    session.flush()
    record(
        session, actor.id, AuditAction.UPDATE if old else AuditAction.CREATE, AuditEntity.EVALUATION, comment.id,
        changes={"comment": [old, text]}, detail=f"{month} {agent.name}({agent.agent_no})的评语",
    )  # fmt: skip
    return comment


def do_publish_month(
    session: Session, actor: User, month: str, reason: str | None = None, settings: Settings | None = None
) -> m.PublishedMonth:
    """Freeze the month: every agent's figures, scores, grade and comment as of now. A month
    already published takes a reason and becomes the next revision; the earlier stays."""
    if not allowed(actor.role, Permission.PERFORMANCE_PUBLISH):
        raise Forbidden(f"{actor.role.label}无权发布月度考核")
    _require_month_over(month)
    settings = settings or kpi_settings()
    before = published(session, month)
    if before is not None and not (reason or "").strip():
        raise Invalid(f"{month} 已发布第 {before.revision} 版;更正须填写修订原因")
    comments = _comments(session, month) if before is None else {e.agent_id: e.comment for e in before.evaluations}
    rows = [
        _live_row(r, a, comments.get(a.id))
        for r, a in _rows(session, month, people(session), settings)
        if r.evaluation.total is not None
    ]
    inspections = _inspections_by_agent(session, month)
    month_row = m.PublishedMonth(
        month=month,
        revision=(before.revision + 1) if before else 1,
        published_by=actor.id,
        reason=(reason or "").strip() or None,
        basis=_basis(settings),
    )
    month_row.evaluations = [
        m.AgentEvaluation(
            agent_id=r.agent_id,
            agent_no=r.agent_no,
            name=r.name,
            team=r.team,
            calls=r.calls,
            total=r.total,
            grade=r.grade,
            figures={"kpis": r.kpis.model_dump(mode="json"), "missing": r.missing},
            parts=[p.model_dump(mode="json") for p in r.parts],
            comment=r.comment,
            inspections=inspections.get(r.agent_id, []),
        )
        for r in rows
    ]
    session.add(month_row)
    session.flush()
    changes: dict[str, list[object]] = {}
    if before is not None:
        old = {e.agent_no: f"{e.total:g} {e.grade}" for e in before.evaluations}
        new = {r.agent_no: f"{r.total:g} {r.grade}" for r in rows}
        changes = {no: [old.get(no), new.get(no)] for no in sorted(old | new) if old.get(no) != new.get(no)}
    record(
        session, actor.id, AuditAction.REVISE if before else AuditAction.PUBLISH, AuditEntity.EVALUATION,
        month_row.id, changes=changes or None,
        detail=f"{month} 月度考核第 {month_row.revision} 版,{len(rows)} 人" + (f";原因:{reason}" if before else ""),
    )  # fmt: skip
    return month_row


def _inspections_by_agent(session: Session, month: str) -> dict[int, list[int]]:
    records = load_month_records(session, month)
    ids = {u.agent_no: u.id for u in people(session).values()}
    out: dict[int, list[int]] = {}
    for score in records.qa:
        if score.inspection is not None and score.agent in ids:
            out.setdefault(ids[score.agent], []).append(score.inspection)
    return out


# ---------------------------------------------------------------- the records beside the calls


def _call(session: Session, actor: User, call_id: int) -> CallRecord:
    call = get_or_404(session, CallRecord, call_id, "通话")
    if call.agent is None:
        raise Invalid("这通电话没有接听的话务员,不能计入绩效")
    _writable_agent(session, actor, call.agent.id)
    return call


def do_record_survey(session: Session, actor: User, data: SurveyIn) -> m.Survey:
    call = _call(session, actor, data.call_id)
    satisfied = is_satisfied(data.answer)
    if satisfied is None:
        raise Invalid(f"满意度「{data.answer}」无法识别:应为 1–5 或 满意/一般/不满意")
    if session.scalar(select(m.Survey.id).where(m.Survey.call_id == call.id)) is not None:
        raise Conflict("这通电话已有满意度调查结果")
    survey = m.Survey(
        call_id=call.id,
        answer=data.answer,
        satisfied=satisfied,
        answered_at=data.answered_at or call.ended_at or call.ring_at,
        recorded_by=actor.id,
    )
    session.add(survey)
    session.flush()
    record(session, actor.id, AuditAction.CREATE, AuditEntity.SURVEY, survey.id, detail=f"通话 {call.id}:{data.answer}")
    return survey


def do_record_sale(session: Session, actor: User, data: SaleIn) -> m.Sale:
    call = _call(session, actor, data.call_id)
    sale = m.Sale(
        call_id=call.id, product=data.product, converted=data.converted, amount=data.amount, recorded_by=actor.id
    )
    session.add(sale)
    session.flush()
    outcome = f"成交 {data.amount:g} 元" if data.converted else "未成交"
    record(
        session,
        actor.id,
        AuditAction.CREATE,
        AuditEntity.SALE,
        sale.id,
        detail=f"通话 {call.id}:{data.product} {outcome}",
    )
    return sale


def do_record_error(session: Session, actor: User, data: ErrorIn) -> m.BusinessError:
    agent = _writable_agent(session, actor, data.agent_id)
    if data.call_id is not None:
        call = get_or_404(session, CallRecord, data.call_id, "通话")
        if call.agent_id != agent.id:
            raise Invalid(f"通话 {call.id} 不是 {agent.name} 接听的")
    error = m.BusinessError(
        agent_id=agent.id, call_id=data.call_id, occurred_at=data.occurred_at, note=data.note, recorded_by=actor.id
    )
    session.add(error)
    session.flush()
    record(
        session, actor.id, AuditAction.CREATE, AuditEntity.BUSINESS_ERROR, error.id,
        detail=f"{agent.name}({agent.agent_no}):{data.note}",
    )  # fmt: skip
    return error


def do_record_attendance(session: Session, actor: User, data: AttendanceIn) -> m.Attendance:
    """One agent's day; entering the same day again corrects it."""
    agent = _writable_agent(session, actor, data.agent_id)
    if data.present_minutes > data.scheduled_minutes + 720:
        raise Invalid("出勤分钟数远超排班,请检查")
    day = session.scalars(
        select(m.Attendance).where(m.Attendance.agent_id == agent.id, m.Attendance.day == data.day)
    ).first()
    old = [day.scheduled_minutes, day.present_minutes] if day else None
    if day is None:
        day = m.Attendance(agent_id=agent.id, day=data.day, scheduled_minutes=0, present_minutes=0)
        session.add(day)
    day.scheduled_minutes, day.present_minutes, day.recorded_by = (
        data.scheduled_minutes,
        data.present_minutes,
        actor.id,
    )
    session.flush()
    record(
        session, actor.id, AuditAction.UPDATE if old else AuditAction.CREATE, AuditEntity.ATTENDANCE, day.id,
        changes={"scheduled/present": [old, [data.scheduled_minutes, data.present_minutes]]},
        detail=f"{agent.name}({agent.agent_no}) {data.day:%Y-%m-%d}",
    )  # fmt: skip
    return day


# ---------------------------------------------------------------- coaching plans


def coaching_out(plan: m.CoachingPlan) -> CoachingOut:
    return CoachingOut(
        id=plan.id,
        agent_id=plan.agent_id,
        agent_no=plan.agent.agent_no,
        agent_name=plan.agent.name,
        month=plan.month,
        reason=plan.reason,
        goals=plan.goals,
        actions=plan.actions,
        review_on=plan.review_on,
        status=plan.status.value,
        status_label=plan.status.label,
        outcome=plan.outcome,
        created_by=plan.author.name,
        created_at=plan.created_at,
        version=plan.version,
    )


def coaching_plans(session: Session, user: User, agent_id: int | None = None) -> list[m.CoachingPlan]:
    agents = visible_agents(session, user)
    query = select(m.CoachingPlan).where(m.CoachingPlan.agent_id.in_(list(agents)))
    if agent_id is not None:
        query = query.where(m.CoachingPlan.agent_id == agent_id)
    return list(session.scalars(query.order_by(m.CoachingPlan.status, m.CoachingPlan.review_on)))


def do_create_coaching(session: Session, actor: User, data: CoachingIn) -> m.CoachingPlan:
    agent = _writable_agent(session, actor, data.agent_id)
    if data.review_on <= today():
        raise Invalid("复查日期应在今天之后")
    plan = m.CoachingPlan(
        agent_id=agent.id,
        month=data.month,
        reason=data.reason,
        goals=data.goals,
        actions=data.actions,
        review_on=data.review_on,
        created_by=actor.id,
    )
    session.add(plan)
    session.flush()
    record(
        session, actor.id, AuditAction.CREATE, AuditEntity.COACHING, plan.id,
        detail=f"{agent.name}({agent.agent_no})的辅导计划,{data.review_on:%Y-%m-%d} 复查",
    )  # fmt: skip
    return plan


def do_close_coaching(session: Session, actor: User, plan_id: int, data: CoachingCloseIn) -> m.CoachingPlan:
    plan = get_or_404(session, m.CoachingPlan, plan_id, "辅导计划")
    _writable_agent(session, actor, plan.agent_id)
    check_version(plan, data.version, "辅导计划")
    if plan.status is m.CoachingStatus.CLOSED:
        raise Conflict("辅导计划已经结束")
    plan.status, plan.outcome = m.CoachingStatus.CLOSED, data.outcome
    save(session, "辅导计划")
    record(
        session, actor.id, AuditAction.CLOSE, AuditEntity.COACHING, plan.id, changes={"outcome": [None, data.outcome]}
    )
    return plan


def open_coaching_count(session: Session, agent_ids: Sequence[int]) -> int:
    return (
        session.scalar(
            select(func.count(m.CoachingPlan.id)).where(
                m.CoachingPlan.agent_id.in_(agent_ids), m.CoachingPlan.status == m.CoachingStatus.OPEN
            )
        )
        or 0
    )


# ---------------------------------------------------------------- many records at once


@dataclass
class RecordRows:
    """Rows of the records beside the calls, as their tables' columns (an import, the demo)."""

    surveys: list[dict[str, object]]
    sales: list[dict[str, object]]
    errors: list[dict[str, object]]
    attendance: list[dict[str, object]]


def do_import_records(session: Session, actor_id: int | None, rows: RecordRows, source: str) -> None:
    """Each kind in one statement, with one audit entry saying how many."""
    kinds = (
        (m.Survey, rows.surveys, AuditEntity.SURVEY),
        (m.Sale, rows.sales, AuditEntity.SALE),
        (m.BusinessError, rows.errors, AuditEntity.BUSINESS_ERROR),
        (m.Attendance, rows.attendance, AuditEntity.ATTENDANCE),
    )
    for model, values, entity in kinds:
        if values:
            insert_rows(session, model.__table__, values)  # type: ignore[arg-type]
            record(session, actor_id, AuditAction.IMPORT, entity, None, detail=f"{source}:{len(values)} 条")
