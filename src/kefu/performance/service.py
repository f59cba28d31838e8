"""Performance in the platform: who sees whose figures, the month's evaluation (live until
published, frozen after), and every write — each ``do_*`` with its audit entry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
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
from kefu.performance.evaluation import current_policy
from kefu.performance.kpi import AbandonMode, AbandonPolicy, is_satisfied
from kefu.performance.queries import EVALUATED, load_records, people
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
    PolicyOut,
    SaleIn,
    SurveyIn,
)
from kefu.performance.summary import NO_TEAM, AgentMonth, By, Settings, evaluate_month, summarise
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
        first = first_day(month)
        return cls(first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1))

    @classmethod
    def between(cls, first: date, last: date, *, longest: int = 366) -> Period:
        for day in (first, last):
            checked_day(day)
        if last < first:
            raise Invalid("结束日期早于开始日期")
        if (last - first).days > longest:
            raise Invalid(f"时间范围最长 {longest} 天")
        return cls(first, last)


# The years a centre's records can fall in: beyond them a date is a typing error (and 9999-12
# has no next month to end on).
YEARS = range(2000, 2100)


def checked_day(day: date) -> date:
    if day.year not in YEARS:
        raise Invalid(f"日期应在 {YEARS.start}–{YEARS.stop - 1} 年之间,而不是 {day:%Y-%m-%d}")
    return day


def first_day(month: str) -> date:
    """「2026-11」→ 2026-11-01; a clear refusal for anything else (ASCII digits only)."""
    if not MONTH.match(month or ""):
        raise Invalid(f"月份应为 年-月,如 2026-11,而不是「{month}」")
    return checked_day(date(int(month[:4]), int(month[5:7]), 1))


def today() -> date:
    return on_centre_clock(utcnow()).date()


def previous_month(month: str) -> str:
    return (first_day(month) - timedelta(days=1)).strftime("%Y-%m")


def next_month(month: str) -> str:
    return (first_day(month) + timedelta(days=32)).strftime("%Y-%m")


def publishable_on(month: str, settings: Settings | None = None) -> date:
    """The first day a month may be published: after its last day and the ``fcr_days`` after
    it, whose calls tell whether its last contacts were repeated."""
    return Period.month(month).last + timedelta(days=(settings or kpi_settings()).fcr_days + 1)


def latest_publishable(day: date, settings: Settings | None = None) -> str:
    """The latest month that may be published on ``day``."""
    month = day.strftime("%Y-%m")
    while publishable_on(month, settings) > day:
        month = previous_month(month)
    return month


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
    """Whose performance records ``actor`` may write: an evaluated person (agent or team lead) in
    the actor's scope — never the actor's own (a team lead is evaluated too)."""
    agent = get_or_404(session, User, agent_id, "话务员")
    if agent.role not in EVALUATED:
        raise Invalid(f"{agent.name}({agent.agent_no})是{agent.role.label},不参加绩效考核")
    access.check(actor, Record.PERFORMANCE, [agent], write=True, what=f"{agent.name}({agent.agent_no})的绩效")
    if agent.id == actor.id:
        raise Forbidden("不能为自己录入或修改绩效记录(评语、满意度、销售、差错、出勤、辅导计划)")
    return agent


def may_write(actor: User, agent: User) -> bool:
    """``_writable_agent``'s answer without the refusal: whether the pages offer the forms."""
    scope = access.scope_of(actor, Record.PERFORMANCE, write=True)
    return agent.role in EVALUATED and agent.id != actor.id and access.within(actor, scope, [agent])


# ---------------------------------------------------------------- KPIs


# Narrower scopes read everyone's calls of the period for first-contact resolution: a shorter
# range keeps an agent's request from reading a year of the centre.
LONGEST = {Scope.ALL: 366, Scope.TEAM: 93, Scope.OWN: 93}


def kpis(
    session: Session, user: User, first: date, last: date, by: By, settings: Settings | None = None
) -> list[KpiOut]:
    """The KPIs of the agents ``user`` may see, per agent, team or the centre. Service level and
    abandonment are the queue's: given for the centre to those who see everyone, not per agent or
    team (an unanswered call has no agent); the calls nobody answered are a row of their own."""
    settings = settings or kpi_settings()
    scope = access.scope_of(user, Record.PERFORMANCE)
    if scope is None:
        raise Forbidden(f"{user.role.label}无权查看绩效")
    period = Period.between(first, last, longest=LONGEST[scope])
    agents = visible_agents(session, user)
    everyone = scope is Scope.ALL
    records = load_records(
        session,
        period.start,
        period.end,
        agent_ids=None if everyone else list(agents),
        fcr_days=settings.fcr_days,
        first_day=period.first,
        last_day=period.last,
    )
    out = []
    for k in summarise(records, by, settings):
        row = KpiOut.of(k, queue=by is By.CENTRE and everyone)
        if by is By.CENTRE and not everyone:
            row.key = user.team or user.name  # the team's (or the agent's own), not the centre's
        elif by is By.TEAM and k.key == NO_TEAM:
            row.key = "队列未接听(无坐席)"
        out.append(row)
    return out


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


def _stored_row(ev: m.AgentEvaluation) -> EvaluationRow:
    return EvaluationRow(
        agent_id=ev.agent_id,
        agent_no=ev.agent_no,
        name=ev.name,
        team=ev.team,
        calls=ev.calls,
        total=ev.total,
        grade=ev.grade,
        grade_label=ev.figures.get("grade_label"),
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


def basis_of(settings: Settings) -> dict[str, str]:
    """The settings a month was computed with, worded for people (the page and the HR export)."""
    return {
        "服务水平口径": f"{settings.within:g} 秒内接听;{settings.policy.describe()}",
        "一次解决率": f"{settings.fcr_days} 天内同一客户同一原因未再来电",
        "月度之星门槛": f"接听至少 {awards.MIN_CALLS} 通;总分按接听量向班组平均收缩(先验 {awards.PRIOR_CALLS} 通)",
    }


def entries(rows: Sequence[EvaluationRow]) -> list[awards.Entry]:
    return [awards.Entry(r.agent_no, r.name, r.team, r.total, r.calls, r.grade) for r in rows if r.total is not None]


def _sees(user: User, scope: Scope, agent_id: int, team: str | None) -> bool:
    """Whether ``user`` may read a published row, by whom and which team it was published for
    (a later move to another team or role does not take the row along)."""
    if scope is Scope.ALL or agent_id == user.id:
        return True
    return scope is Scope.TEAM and user.team is not None and team == user.team


def _month_rows(
    session: Session, user: User, month: str, settings: Settings, current: m.PublishedMonth | None
) -> list[EvaluationRow]:
    scope = access.scope_of(user, Record.PERFORMANCE)
    if scope is None:
        raise Forbidden(f"{user.role.label}无权查看绩效")
    if current is not None:
        return [_stored_row(ev) for ev in current.evaluations if _sees(user, scope, ev.agent_id, ev.team)]
    comments = _comments(session, month)
    agents = visible_agents(session, user)
    return [_live_row(r, a, comments.get(a.id)) for r, a in _rows(session, month, agents, settings)]


def month_rows(session: Session, user: User, month: str, settings: Settings | None = None) -> list[EvaluationRow]:
    """Each visible agent's month: as published, or live from today's records."""
    return _month_rows(session, user, month, settings or kpi_settings(), published(session, month))


def month_view(session: Session, user: User, month: str, settings: Settings | None = None) -> MonthOut:
    settings = settings or kpi_settings()
    current = published(session, month)
    rows = _month_rows(session, user, month, settings, current)
    policy = PolicyOut.model_validate(current.basis["policy"]) if current else PolicyOut.of(current_policy())
    # "Results that stay poor" look back at the previous month as published (a draft would
    # double the work of the page, and may still change).
    before = published(session, previous_month(month))
    previous = {e.agent: e for e in entries([_stored_row(ev) for ev in before.evaluations])} if before else {}
    grades = [g.grade for g in policy.grades]
    for row, entry in zip([r for r in rows if r.total is not None], entries(rows), strict=True):
        row.coaching = awards.coaching_reason(entry, previous.get(entry.agent), grades)
    # 月度之星 among everyone for those who see everyone, among the team for a team lead; an agent
    # sees no ranking (it would rank the agent among the agent alone).
    scope = access.scope_of(user, Record.PERFORMANCE)
    among = {Scope.ALL: "全中心", Scope.TEAM: "本班组"}.get(scope) if scope else None
    stars = awards.star_candidates(entries(rows)) if among else []
    return MonthOut(
        month=month,
        published=current is not None,
        revision=current.revision if current else None,
        published_at=current.published_at if current else None,
        published_by=current.publisher.name if current else None,
        reason=current.reason if current else None,
        basis=current.basis["settings"] if current else basis_of(settings),
        policy=policy,
        rows=rows,
        stars=[CandidateOut(**vars(c) | {"agent_no": c.agent}) for c in stars[:5]],
        stars_among=among,
        min_calls=awards.MIN_CALLS,
    )


def quarter_stars(session: Session, user: User, year: int, quarter: int) -> list[CandidateOut]:
    """季度优秀员工 candidates from the quarter's three months (published or live)."""
    if not 1 <= quarter <= 4:
        raise Invalid("季度应为 1–4")
    if year not in YEARS:
        raise Invalid(f"年份应在 {YEARS.start}–{YEARS.stop - 1} 之间")
    months = [f"{year}-{3 * (quarter - 1) + i:02d}" for i in (1, 2, 3)]
    ranked = awards.quarter_candidates([entries(month_rows(session, user, mo)) for mo in months])
    return [CandidateOut(**vars(c) | {"agent_no": c.agent}) for c in ranked[:5]]


def agent_month(session: Session, user: User, month: str, agent_id: int) -> EvaluationRow:
    agent = readable_agent(session, user, agent_id)
    current = published(session, month)
    if current is not None:
        stored = next((ev for ev in current.evaluations if ev.agent_id == agent.id), None)
        if stored is not None:
            return _stored_row(stored)
    else:
        comments = _comments(session, month)
        for result, person in _rows(session, month, {agent.id: agent}, kpi_settings()):
            return _live_row(result, person, comments.get(agent.id))
    raise Invalid(f"{agent.name}({agent.agent_no})在 {month} 没有可考核的记录")


def qa_behind(
    session: Session, user: User, month: str, agent_id: int, shown: int
) -> tuple[list[tuple[Inspection, float]], int]:
    """The scorecards behind the 通话质量 figure, each with the score it counted with — as
    published, or of the live month — the lowest ``shown`` first, and how many there are."""
    agent = readable_agent(session, user, agent_id)
    current = published(session, month)
    if current is not None:
        stored = next((ev for ev in current.evaluations if ev.agent_id == agent.id), None)
        scores = {int(i): float(score) for i, score in (stored.inspections if stored else [])}
    else:
        qa = load_month_records(session, month, [agent.id]).qa
        scores = {q.inspection: q.score for q in qa if q.inspection is not None}
    lowest = sorted(scores, key=lambda i: (scores[i], i))[:shown]
    found = {i.id: i for i in session.scalars(select(Inspection).where(Inspection.id.in_(lowest)))} if lowest else {}
    return [(found[i], scores[i]) for i in lowest if i in found], len(scores)


def errors_behind(session: Session, user: User, month: str, agent_id: int) -> list[BusinessErrorRecord]:
    """The business errors of the agent's month (the 业务准确率 figure), as the records are now."""
    agent = readable_agent(session, user, agent_id)
    period = Period.month(month)
    only = {"errors"}
    return load_records(
        session, period.start, period.end, agent_ids=[agent.id], first_day=period.first, last_day=period.last, only=only
    ).errors


def do_comment(session: Session, actor: User, month: str, agent_id: int, text: str) -> m.EvaluationComment:
    """The team lead's comment on an agent's month; on a published month it goes into the next
    revision (the published one keeps the comment it was published with)."""
    Period.month(month)
    agent = _writable_agent(session, actor, agent_id)
    comment = session.scalars(
        select(m.EvaluationComment).where(m.EvaluationComment.month == month, m.EvaluationComment.agent_id == agent.id)
    ).first()
    old = comment.text if comment else None
    if comment is None:
        comment = m.EvaluationComment(month=month, agent_id=agent.id, text=text, author_id=actor.id)
        session.add(comment)
    else:
        comment.text, comment.author_id = text, actor.id
    _flush(session, "评语刚被他人保存,请刷新后再改")
    record(
        session, actor.id, AuditAction.UPDATE if old else AuditAction.CREATE, AuditEntity.EVALUATION, comment.id,
        changes={"comment": [old, text]}, detail=f"{month} {agent.name}({agent.agent_no})的评语",
    )  # fmt: skip
    return comment


def _flush(session: Session, conflict: str) -> None:
    """Write now; a unique key taken by someone else meanwhile (a double click) is a 409."""
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(conflict) from None


def do_publish_month(
    session: Session, actor: User, month: str, reason: str | None = None, settings: Settings | None = None
) -> m.PublishedMonth:
    """Freeze the month: every agent's figures, scores, grade, comment, and the weights, scales
    and grades they were computed with. A month already published takes a reason and becomes the
    next revision; the earlier stays. Not before the days after the month that first-contact
    resolution looks at have passed."""
    if not allowed(actor.role, Permission.PERFORMANCE_PUBLISH):
        raise Forbidden(f"{actor.role.label}无权发布月度考核")
    settings = settings or kpi_settings()
    ready = publishable_on(month, settings)
    if ready > today():
        raise Conflict(
            f"{month} 还不能发布:一次解决率要看月后 {settings.fcr_days} 天的来电,{ready:%Y-%m-%d} 起才能发布"
        )
    before = published(session, month)
    if before is not None and not (reason or "").strip():
        raise Invalid(f"{month} 已发布第 {before.revision} 版;更正须填写修订原因")
    comments = _comments(session, month)
    rows = [
        _live_row(r, a, comments.get(a.id))
        for r, a in _rows(session, month, people(session), settings)
        if r.evaluation.total is not None
    ]
    if not rows:
        raise Invalid(f"{month} 没有可考核的记录,不能发布")
    policy = current_policy()
    inspections = _inspections_by_agent(session, month)
    month_row = m.PublishedMonth(
        month=month,
        revision=(before.revision + 1) if before else 1,
        published_by=actor.id,
        reason=(reason or "").strip() or None,
        basis={"settings": basis_of(settings), "policy": PolicyOut.of(policy).model_dump(mode="json")},
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
            figures={"kpis": r.kpis.model_dump(mode="json"), "missing": r.missing, "grade_label": r.grade_label},
            parts=[p.model_dump(mode="json") for p in r.parts],
            comment=r.comment,
            inspections=inspections.get(r.agent_id, []),
        )
        for r in rows
    ]
    session.add(month_row)
    _flush(session, f"{month} 刚被他人发布,请刷新后查看")
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


def _inspections_by_agent(session: Session, month: str) -> dict[int, list[list[float]]]:
    """[inspection id, score counted] of each agent's month."""
    records = load_month_records(session, month)
    ids = {u.agent_no: u.id for u in people(session).values()}
    out: dict[int, list[list[float]]] = {}
    for score in records.qa:
        if score.inspection is not None and score.agent in ids:
            out.setdefault(ids[score.agent], []).append([score.inspection, score.score])
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


# ---------------------------------------------------------------- many records at once


@dataclass
class RecordRows:
    """Rows of the records beside the calls, as their tables' columns (an import, the demo)."""

    surveys: list[dict[str, object]]
    sales: list[dict[str, object]]
    errors: list[dict[str, object]]
    attendance: list[dict[str, object]]


def do_insert_checked_records(session: Session, actor_id: int | None, rows: RecordRows, source: str) -> None:
    """Rows checked already (the demo's generator): each kind in one statement, with one audit
    entry saying how many."""
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
