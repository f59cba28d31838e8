"""Workforce in the platform (SPEC §8): the forecast from the platform's own calls, the week's
requirement by Erlang, the roster (drafted by CP-SAT, adjusted by hand, checked, published a
week ahead, revised with notices), leave and shift swaps, and adherence. Every write is a
``do_*`` with its audit entry; who may read and decide is kefu.core.access (own / team / all)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.core import access
from kefu.core.access import Record, Scope
from kefu.core.audit import AuditAction, AuditEntity, record
from kefu.core.changes import check_version, save
from kefu.core.clock import centre_tz, on_centre_clock
from kefu.core.db import get_or_404, utcnow
from kefu.core.errors import Conflict, Forbidden, Invalid, NotFound
from kefu.core.security import Permission, Role, allowed
from kefu.core.settings import get_settings
from kefu.training.models import Stage, Trainee
from kefu.workforce import models as m
from kefu.workforce import queries
from kefu.workforce.erlang import Load, on_roster, required
from kefu.workforce.roster import DAYS, SHIFTS, SLOTS, Agent, Rules, coverage_of, problems, solve, uncovered

if TYPE_CHECKING:
    import pandas as pd

from kefu.workforce.schemas import (
    AdherenceDay,
    AdherenceRow,
    AdjustIn,
    AgreeIn,
    DecisionIn,
    ForecastOut,
    LeaveIn,
    LeaveOut,
    MyDay,
    MyScheduleOut,
    NoticeOut,
    Problem,
    PublishIn,
    RevisionOut,
    RosterOut,
    RosterRow,
    ShiftOut,
    SwapIn,
    SwapOut,
)

SHIFT_BY_CODE = {shift.code: shift for shift in SHIFTS}
HISTORY_WEEKS = 8  # the calls a forecast learns from
AHEAD_WEEKS = 8  # the furthest week a forecast is made for (beyond it, it says nothing useful)
DRAFT_SECONDS = 10.0  # the solver's limit in a web request; the best roster found by then is kept
YEARS = range(2000, 2100)

# ---------------------------------------------------------------- the centre's calendar


def today() -> date:
    return on_centre_clock(utcnow()).date()


def day_start(day: date) -> datetime:
    """Midnight of ``day`` on the centre's clock, in UTC."""
    return datetime.combine(day, time(), centre_tz()).astimezone(UTC)


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def checked_week(week_start: date) -> date:
    if week_start.year not in YEARS:
        raise Invalid(f"日期应在 {YEARS.start}–{YEARS.stop - 1} 年之间")
    if week_start.weekday() != 0:
        raise Invalid(f"排班周从周一开始:{week_start:%Y-%m-%d} 不是周一(该周周一是 {week_of(week_start):%Y-%m-%d})")
    return week_start


def week_days(week_start: date) -> list[date]:
    return [week_start + timedelta(days=d) for d in range(DAYS)]


def slot_label(slot: int) -> str:
    return f"{slot // 2:02d}:{slot % 2 * 30:02d}"


def shift_text(code: str | None) -> str | None:
    """「早班 08:00–16:00」; None for a rest day."""
    if code is None:
        return None
    shift = SHIFT_BY_CODE.get(code)
    if shift is None:
        return code
    end = slot_label(shift.end % SLOTS)
    return f"{shift.label} {slot_label(shift.start)}–{'次日 ' if shift.end > SLOTS else ''}{end}"


def shifts_out() -> list[ShiftOut]:
    return [
        ShiftOut(
            code=s.code, label=s.label, start=slot_label(s.start),
            end=("次日 " if s.end > SLOTS else "") + slot_label(s.end % SLOTS), hours=s.length / 2,
        )
        for s in SHIFTS
    ]  # fmt: skip


def _shift_window(day: date, code: str) -> tuple[datetime, datetime]:
    shift = SHIFT_BY_CODE[code]
    start = day_start(day) + timedelta(minutes=30 * shift.start)
    return start, start + timedelta(minutes=30 * shift.length)


# ---------------------------------------------------------------- who may do what


def _need(user: User, permission: Permission, what: str) -> None:
    if not allowed(user.role, permission):
        raise Forbidden(f"{user.role.label}无权{what}")


def may_plan(user: User) -> bool:
    return allowed(user.role, Permission.WORKFORCE_PLAN)


def visible_agents(session: Session, user: User) -> list[User]:
    """The agents on rosters whose schedule ``user`` may read (own / team / all)."""
    scope = access.scope_of(user, Record.SCHEDULE)
    if scope is None:
        raise Forbidden(f"{user.role.label}无权查看排班")
    query = select(User).where(User.role == Role.AGENT, User.active.is_(True)).order_by(User.team, User.agent_no)
    agents = list(session.scalars(query))
    return [a for a in agents if access.within(user, scope, [a])]


def may_decide(user: User, *people: User) -> bool:
    """Team lead for the team, supervisor for all — never on one's own request."""
    scope = access.scope_of(user, Record.SCHEDULE, write=True)
    return all(p.id != user.id and access.within(user, scope, [p]) for p in people) and scope is not None


# ---------------------------------------------------------------- forecast and requirement


@dataclass(frozen=True)
class WeekForecast:
    week_start: date
    minutes: int
    calls: list[list[float]]
    aht: list[list[float]]
    actual: list[list[int]] | None
    model_wape: float | None
    baseline_wape: float | None
    backtest_weeks: int


def _grid(series: pd.Series, week_start: date, minutes: int, fill: float) -> list[list[float]]:
    import pandas as pd

    per_day = 24 * 60 // minutes
    index = pd.date_range(pd.Timestamp(week_start), periods=DAYS * per_day, freq=f"{minutes}min")
    values = series.reindex(index).fillna(fill).to_numpy()
    return [[float(v) for v in values[d * per_day : (d + 1) * per_day]] for d in range(DAYS)]


def week_forecast(session: Session, week_start: date, minutes: int = 30) -> WeekForecast:
    """The week's calls per interval, forecast from the complete days of calls before it (up to
    ``HISTORY_WEEKS``), with the backtest; and the actual calls of the days already over."""
    # pandas and statsmodels (~200 MB a process) only in the process that forecasts
    import pandas as pd

    from kefu.workforce.forecast import forecast, history

    checked_week(week_start)
    if minutes not in (15, 30, 60):
        raise Invalid("时段长度应为 15、30 或 60 分钟")
    furthest = week_of(today()) + timedelta(weeks=AHEAD_WEEKS)
    if week_start > furthest:
        raise Invalid(f"只能预测 {AHEAD_WEEKS} 周以内(最远到 {furthest:%Y-%m-%d} 这一周)")
    cut = min(week_start, today())
    rings, handling = queries.inbound_calls(session, day_start(cut - timedelta(weeks=HISTORY_WEEKS)), day_start(cut))
    if len({on_centre_clock(r).date() for r in rings}) < 14:
        raise Invalid(f"{cut:%Y-%m-%d} 之前的来电记录不足两周,无法预测(可先导入历史话单)")
    past = history(rings, handling, minutes)
    after = (past.calls.index[-1] + pd.Timedelta(minutes=minutes)).date()
    ahead = forecast(past, days=(week_start - after).days + DAYS, weeks=2)
    mean_aht = float(past.aht.mean())
    actual = None
    if week_start < today():
        done = day_start(min(week_start + timedelta(days=DAYS), today()))
        rings, handling = queries.inbound_calls(session, day_start(week_start), done)
        if rings:
            got = history(rings, handling, minutes).calls
            actual = [[int(v) for v in day] for day in _grid(got, week_start, minutes, 0.0)]
        else:
            actual = [[0] * (24 * 60 // minutes) for _ in range(DAYS)]
    return WeekForecast(
        week_start=week_start,
        minutes=minutes,
        calls=_grid(ahead.calls, week_start, minutes, 0.0),
        aht=_grid(ahead.aht.fillna(mean_aht), week_start, minutes, mean_aht),
        actual=actual,
        model_wape=ahead.model_wape,
        baseline_wape=ahead.baseline_wape,
        backtest_weeks=ahead.backtest_weeks,
    )


def forecast_view(session: Session, user: User, week_start: date, minutes: int = 30) -> ForecastOut:
    _need(user, Permission.WORKFORCE_VIEW, "查看话务预测")
    made = week_forecast(session, week_start, minutes)
    wape = None
    if made.actual is not None:
        over = [d for d in range(DAYS) if week_start + timedelta(days=d) < today()]
        total = sum(sum(made.actual[d]) for d in over)
        if total:
            error = sum(abs(f - a) for d in over for f, a in zip(made.calls[d], made.actual[d], strict=True))
            wape = error / total
    return ForecastOut(
        week_start=week_start, minutes=minutes, days=week_days(week_start), forecast=made.calls,
        actual=made.actual, aht=made.aht, model_wape=made.model_wape, baseline_wape=made.baseline_wape,
        backtest_weeks=made.backtest_weeks, week_wape=wape,
    )  # fmt: skip


def requirement_of(made: WeekForecast) -> list[list[int]]:
    """Agents on the roster per day × half hour for the forecast: Erlang C (Erlang A with
    KEFU_PATIENCE_SECONDS) to the centre's service level, then the shrinkage."""
    if made.minutes != 30:
        raise Invalid("排班按半小时计算需求")
    settings = get_settings()
    out = []
    for calls, aht in zip(made.calls, made.aht, strict=True):
        day = []
        for n, handling in zip(calls, aht, strict=True):
            if n <= 0.05:
                day.append(0)
                continue
            load = Load(calls=n, interval=1800.0, aht=max(handling, 1.0), patience=settings.patience_seconds)
            target = min(settings.service_level_target, 0.999)
            phone = required(load, target, settings.service_level_seconds).agents
            day.append(on_roster(phone, settings.shrinkage))
        out.append(day)
    return out


# ---------------------------------------------------------------- rosters


def _roster(session: Session, week_start: date) -> m.Roster | None:
    return session.scalars(select(m.Roster).where(m.Roster.week_start == week_start)).first()


def roster_or_404(session: Session, week_start: date) -> m.Roster:
    found = _roster(session, checked_week(week_start))
    if found is None:
        raise NotFound(f"{week_start:%Y-%m-%d} 这一周还没有排班")
    return found


def _approved_leave(session: Session, agent_ids: Iterable[int], first: date, last: date) -> dict[int, set[date]]:
    rows = session.scalars(
        select(m.LeaveRequest).where(
            m.LeaveRequest.agent_id.in_(list(agent_ids)),
            m.LeaveRequest.status == m.RequestStatus.APPROVED,
            m.LeaveRequest.first_day <= last,
            m.LeaveRequest.last_day >= first,
        )
    )
    out: dict[int, set[date]] = {}
    for leave in rows:
        day = max(leave.first_day, first)
        while day <= min(leave.last_day, last):
            out.setdefault(leave.agent_id, set()).add(day)
            day += timedelta(days=1)
    return out


def _plan_of(roster: m.Roster) -> dict[int, list[str | None]]:
    """agent id → shift code per day."""
    plan: dict[int, list[str | None]] = {}
    for a in roster.assignments:
        plan.setdefault(a.agent_id, [None] * DAYS)[(a.day - roster.week_start).days] = a.shift
    return plan


def _before(session: Session, week_start: date) -> dict[int, str]:
    """The shift each agent works on the Sunday before the week (a night carries over)."""
    earlier = _roster(session, week_start - timedelta(days=DAYS))
    if earlier is None:
        return {}
    last = week_start - timedelta(days=1)
    return {a.agent_id: a.shift for a in earlier.assignments if a.day == last}


def _solver_agents(
    session: Session, agents: Sequence[User], week_start: date, leave: dict[int, set[date]] | None = None
) -> list[Agent]:
    """The agents as the solver and the checks see them: their leave days and the shift each
    worked on the Sunday before (``leave``: already read for the week)."""
    days = week_days(week_start)
    if leave is None:
        leave = _approved_leave(session, [a.id for a in agents], days[0], days[-1])
    before = _before(session, week_start)
    return [
        Agent(a.agent_no, a.name, frozenset((d - week_start).days for d in leave.get(a.id, ())), before.get(a.id))
        for a in agents
    ]


def _in_training(session: Session) -> dict[int, Stage]:
    """New hires not yet on duty (kefu.training): on the roster's grid with their stage, never rostered."""
    rows = session.execute(select(Trainee.agent_id, Trainee.stage).where(Trainee.stage != Stage.ON_DUTY))
    return {agent_id: stage for agent_id, stage in rows}


def _all_agents(session: Session) -> list[User]:
    """The agents the roster is for: active, and on duty (not still in training)."""
    query = select(User).where(User.role == Role.AGENT, User.active.is_(True)).order_by(User.team, User.agent_no)
    training = _in_training(session)
    return [a for a in session.scalars(query) if a.id not in training]


def do_draft_roster(
    session: Session, actor: User, week_start: date, version: int | None = None, *, seconds: float = DRAFT_SECONDS
) -> m.Roster:
    """Forecast the week, turn it into the requirement and let the solver roster every active
    agent around their approved leave. Drafting again replaces a draft (``version``: the one the
    planner saw, so that nobody's hand adjustments are thrown away unseen); a published week is
    changed by revisions only."""
    _need(actor, Permission.WORKFORCE_PLAN, "编排排班")
    checked_week(week_start)
    if week_start <= today():
        raise Invalid(f"{week_start:%Y-%m-%d} 这一周已经开始,只能为以后的周排班")
    existing = _roster(session, week_start)
    if existing is not None and existing.status is m.RosterStatus.PUBLISHED:
        raise Conflict(f"{week_start:%Y-%m-%d} 这一周的排班已发布,请在排班表上修订")
    if existing is not None:
        if version is None:
            raise Conflict("这一周已有排班草稿;重新生成会覆盖其中的手工调整,请在排班表页面确认后重新生成")
        check_version(existing, version, "排班草稿")
    agents = _all_agents(session)
    if not agents:
        raise Invalid("没有在岗的话务员,无法排班")
    made = week_forecast(session, week_start)
    need = requirement_of(made)
    solver_agents = _solver_agents(session, agents, week_start)
    try:
        solved = solve(need, solver_agents, rules=Rules(seconds=seconds))
    except ValueError as error:
        raise Invalid(str(error)) from None
    settings = get_settings()
    basis = {
        "预测来电(通)": round(sum(map(sum, made.calls))),
        "回测误差 模型": made.model_wape,
        "回测误差 上周同时段": made.baseline_wape,
        "服务水平": f"{settings.service_level_target:.0%} / {settings.service_level_seconds:g} 秒",
        "计算方法": "Erlang A" if settings.patience_seconds else "Erlang C",
        "缩减率": settings.shrinkage,
        "求解": ("最优" if solved.optimal else "可行(时限内最好)") + f" · {solved.status}",
    }
    if existing is None:
        roster = m.Roster(week_start=week_start, requirement=need, basis=basis, created_by=actor.id)
        session.add(roster)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:
            raise Conflict(f"{week_start:%Y-%m-%d} 这一周的排班刚由别人生成,请刷新后查看") from None
    else:
        roster = existing
        roster.requirement, roster.basis = need, basis
        roster.assignments.clear()
        session.flush()
    by_no = {a.agent_no: a for a in agents}
    for agent_no, days in solved.shifts.items():
        for d, code in enumerate(days):
            if code is not None:
                roster.assignments.append(
                    m.Assignment(agent_id=by_no[agent_no].id, day=week_start + timedelta(days=d), shift=code)
                )
    session.flush()
    short = sum(n for _, _, n in solved.shortfall)
    record(
        session, actor.id, AuditAction.UPDATE if existing else AuditAction.CREATE, AuditEntity.ROSTER, roster.id,
        detail=f"{week_start:%Y-%m-%d} 周排班草稿:{len(agents)} 人,缺口 {short} 人·半小时",
    )  # fmt: skip
    return roster


def _problems(
    session: Session, roster: m.Roster, agents: Sequence[User], solver_agents: Sequence[Agent] | None = None
) -> list[Problem]:
    if solver_agents is None:
        solver_agents = _solver_agents(session, agents, roster.week_start)
    plan = _plan_of(roster)
    by_no = {a.agent_no: plan.get(a.id, [None] * DAYS) for a in agents}
    return [
        Problem(
            agent_no=p.agent_no, day=None if p.day is None else roster.week_start + timedelta(days=p.day),
            kind=p.kind, text=p.text,
        )
        for p in problems(by_no, solver_agents)
    ]  # fmt: skip


Broken = set[tuple[str, str, str]]  # (工号, day, 说明) of the hard rules broken


def _broken(session: Session, roster: m.Roster, agents: Sequence[User]) -> Broken:
    """The hard rules (leave, minimum rest) broken in the roster's week and in the week after
    it, which its Sunday shifts carry into."""
    out: Broken = set()
    for week in (roster, _roster(session, roster.week_start + timedelta(days=DAYS))):
        if week is not None:
            found = _problems(session, week, agents)
            out |= {(p.agent_no, f"{p.day or ''}", p.text) for p in found if p.kind != "days"}
    return out


def _refuse_new(before: Broken, after: Broken, what: str) -> None:
    new = sorted(after - before)
    if new:
        raise Invalid(f"{what}违反排班规则,没有保存:" + ";".join(" ".join(p) for p in new[:5]))


def roster_view(session: Session, user: User, week_start: date, team: str | None = None) -> RosterOut:
    roster = roster_or_404(session, week_start)
    if roster.status is m.RosterStatus.DRAFT and not may_plan(user):
        raise Forbidden("这一周的排班还是草稿,发布后才能查看")
    visible = visible_agents(session, user)
    shown = [a for a in visible if team is None or a.team == team]
    training = _in_training(session)
    training_scope = access.scope_of(user, Record.TRAINING)

    def sees_training(agent: User) -> bool:  # a colleague's stage is their own business (own/team/all)
        return access.within(user, training_scope, [agent])

    everyone = _all_agents(session)
    plan = _plan_of(roster)
    days = week_days(week_start)
    leave = _approved_leave(session, [a.id for a in everyone], days[0], days[-1])
    rows = []
    for a in shown:
        shifts = plan.get(a.id, [None] * DAYS)
        rows.append(
            RosterRow(
                agent_id=a.id, agent_no=a.agent_no, name=a.name, team=a.team, shifts=shifts,
                stage=(training[a.id].label if sees_training(a) else "未上岗") if a.id in training else None,
                leave=[d in leave.get(a.id, set()) for d in days],
                nights=sum(1 for c in shifts if c and SHIFT_BY_CODE[c].end > SLOTS),
                weekends=sum(1 for c in shifts[5:] if c),
            )
        )  # fmt: skip
    solver_agents = _solver_agents(session, everyone, week_start, leave)
    scheduled = coverage_of({a.agent_no: plan.get(a.id, [None] * DAYS) for a in everyone}, solver_agents)
    shortfall = [
        (days[d], slot_label(s), need - scheduled[d][s])
        for d in range(DAYS)
        for s, need in enumerate(roster.requirement[d])
        if scheduled[d][s] < need
    ]
    visible_nos = {a.agent_no for a in shown}
    found = [p for p in _problems(session, roster, everyone, solver_agents) if p.agent_no in visible_nos]
    revisions = []
    seen = None if access.scope_of(user, Record.SCHEDULE) is Scope.ALL else {a.id for a in visible}
    for r in session.scalars(
        select(m.RosterRevision).where(m.RosterRevision.roster_id == roster.id).order_by(m.RosterRevision.revision)
    ):
        changes = [c for c in r.changes if seen is None or c["agent_id"] in seen]  # other teams' stay theirs
        if changes:
            revisions.append(
                RevisionOut(revision=r.revision, at=r.at, by=r.author.name, reason=r.reason, changes=changes)
            )
    return RosterOut(
        id=roster.id, week_start=week_start, days=days, status=roster.status, revision=roster.revision,
        version=roster.version, published_at=roster.published_at, late_reason=roster.late_reason,
        shifts=shifts_out(), rows=rows, requirement=roster.requirement, scheduled=scheduled, shortfall=shortfall,
        gaps=[slot_label(s) for s in uncovered()],
        problems=found, basis=roster.basis, revisions=revisions,
    )  # fmt: skip


def _notify(session: Session, agent_ids: Iterable[int], text: str) -> None:
    for agent_id in set(agent_ids):
        session.add(m.Notice(agent_id=agent_id, text=text[:500]))


def _apply(session: Session, roster: m.Roster, changes: dict[tuple[int, date], str | None]) -> list[dict[str, object]]:
    """Set each (agent, day) to a shift or rest; what actually changed, for the record."""
    current = {(a.agent_id, a.day): a for a in roster.assignments}
    people = {u.id: u for u in session.scalars(select(User).where(User.id.in_({k[0] for k in changes})))}
    done: list[dict[str, object]] = []
    for (agent_id, day), code in sorted(changes.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        held = current.get((agent_id, day))
        before = held.shift if held else None
        if before == code:
            continue
        if held is not None and code is None:
            roster.assignments.remove(held)
        elif held is not None:
            held.shift = code  # type: ignore[assignment]
        else:
            roster.assignments.append(m.Assignment(agent_id=agent_id, day=day, shift=code))
        who = people[agent_id]
        done.append(
            {"agent_id": agent_id, "agent": f"{who.name}({who.agent_no})", "day": day.isoformat(),
             "before": shift_text(before) or "休息", "after": shift_text(code) or "休息"}
        )  # fmt: skip
    session.flush()
    return done


def _revise(
    session: Session, actor: User, roster: m.Roster, changes: dict[tuple[int, date], str | None], reason: str
) -> list[dict[str, object]]:
    """A change to a published roster: the next revision, its record and the agents' notices."""
    done = _apply(session, roster, changes)
    if not done:
        return done
    roster.revision += 1
    session.add(
        m.RosterRevision(roster_id=roster.id, revision=roster.revision, by=actor.id, reason=reason, changes=done)
    )
    per_agent: dict[object, list[str]] = {}
    for change in done:
        per_agent.setdefault(change["agent_id"], []).append(f"{change['day']} {change['before']} → {change['after']}")
    for agent_id, lines in per_agent.items():
        _notify(session, [int(agent_id)], f"您的班次已调整({reason}):" + ";".join(lines))  # type: ignore[call-overload]
    record(
        session, actor.id, AuditAction.REVISE, AuditEntity.ROSTER, roster.id,
        changes={"revision": [roster.revision - 1, roster.revision]},
        detail=f"{roster.week_start:%Y-%m-%d} 周排班第 {roster.revision} 版:{reason}(改动 {len(done)} 处)",
    )  # fmt: skip
    save(session, "排班")
    return done


def do_adjust_roster(session: Session, actor: User, week_start: date, body: AdjustIn) -> list[dict[str, object]]:
    """Hand adjustments. On a draft they are kept as they are (the checks on the page say what
    they break); on a published roster they are a revision, with a reason, that may not break
    approved leave or the minimum rest."""
    _need(actor, Permission.WORKFORCE_PLAN, "调整排班")
    roster = roster_or_404(session, week_start)
    check_version(roster, body.version, "排班")
    agents = {a.id: a for a in _all_agents(session)}
    days = set(week_days(week_start))
    changes: dict[tuple[int, date], str | None] = {}
    for cell in body.cells:
        if cell.agent_id not in agents:
            raise Invalid(f"用户 {cell.agent_id} 不是在岗的话务员")
        if cell.day not in days:
            raise Invalid(f"{cell.day:%Y-%m-%d} 不在 {week_start:%Y-%m-%d} 这一周")
        if cell.shift and cell.shift not in SHIFT_BY_CODE:
            raise Invalid(f"没有「{cell.shift}」这个班次")
        changes[cell.agent_id, cell.day] = cell.shift or None
    if roster.status is m.RosterStatus.DRAFT:
        done = _apply(session, roster, changes)
        if done:
            roster.updated_at = utcnow()
            record(
                session, actor.id, AuditAction.UPDATE, AuditEntity.ROSTER, roster.id,
                changes={"cells": [None, len(done)]}, detail=f"{week_start:%Y-%m-%d} 周排班草稿手工调整 {len(done)} 处",
            )  # fmt: skip
            save(session, "排班")
        return done
    past = sorted({day for _, day in changes if day <= today()})
    if past:
        raise Invalid(f"{past[0]:%Y-%m-%d} 已经开始或过去,已发布排班中这一天的班次不能再修订")
    if not body.reason:
        raise Invalid("已发布的排班修订必须写明原因(会通知到相关话务员)")
    everyone = list(agents.values())
    before = _broken(session, roster, everyone)
    done = _revise(session, actor, roster, changes, body.reason)
    _refuse_new(before, _broken(session, roster, everyone), "修订")
    return done


def do_publish_roster(session: Session, actor: User, week_start: date, body: PublishIn) -> m.Roster:
    """Publish a draft (seed 004: 提前一周公布); it is frozen after, changed by revisions only."""
    _need(actor, Permission.WORKFORCE_PLAN, "发布排班")
    roster = roster_or_404(session, week_start)
    check_version(roster, body.version, "排班")
    if roster.status is m.RosterStatus.PUBLISHED:
        raise Conflict("这一周的排班已经发布")
    notice = get_settings().roster_notice_days
    ahead = (week_start - today()).days
    if ahead < 1:
        raise Invalid("这一周已经开始,不能再发布草稿")
    if ahead < notice and not body.late_reason:
        raise Invalid(
            f"排班须至少提前 {notice} 天发布(这一周最晚应在 {week_start - timedelta(days=notice):%Y-%m-%d} 发布),"
            f"现在只提前 {ahead} 天;确需发布请写明原因"
        )
    broken = sorted(_broken(session, roster, _all_agents(session)))
    if broken:
        raise Invalid("排班违反规则,不能发布:" + ";".join(" ".join(p) for p in broken[:5]))
    roster.status, roster.revision = m.RosterStatus.PUBLISHED, 1
    roster.published_at, roster.published_by = utcnow(), actor.id
    roster.late_reason = body.late_reason if ahead < notice else None
    _notify(session, {a.agent_id for a in roster.assignments}, f"{week_start:%Y-%m-%d} 起一周的排班已发布")
    record(
        session, actor.id, AuditAction.PUBLISH, AuditEntity.ROSTER, roster.id,
        detail=f"{week_start:%Y-%m-%d} 周排班发布(提前 {ahead} 天)"
        + (f";晚发布原因:{body.late_reason}" if roster.late_reason else ""),
    )  # fmt: skip
    save(session, "排班")
    return roster


def do_import_roster(
    session: Session, actor: User, week_start: date, plan: dict[int, list[str | None]], published_at: datetime
) -> m.Roster:
    """A week rostered elsewhere (another WFM tool, the demo's past weeks), stored as published
    then; its requirement is not known (zeros)."""
    checked_week(week_start)
    if _roster(session, week_start) is not None:
        raise Conflict(f"{week_start:%Y-%m-%d} 这一周已有排班")
    roster = m.Roster(
        week_start=week_start, status=m.RosterStatus.PUBLISHED, revision=1, requirement=[[0] * SLOTS] * DAYS,
        basis={"来源": "导入"}, created_by=actor.id, published_at=published_at, published_by=actor.id,
    )  # fmt: skip
    roster.assignments = [
        m.Assignment(agent_id=agent_id, day=week_start + timedelta(days=d), shift=code)
        for agent_id, days in plan.items()
        for d, code in enumerate(days)
        if code is not None
    ]
    session.add(roster)
    session.flush()
    record(
        session, actor.id, AuditAction.IMPORT, AuditEntity.ROSTER, roster.id,
        detail=f"{week_start:%Y-%m-%d} 周排班(已发布)导入:{len(plan)} 人",
    )  # fmt: skip
    return roster


# ---------------------------------------------------------------- my schedule, notices


def my_schedule(session: Session, user: User, weeks: int = 2) -> MyScheduleOut:
    """The published weeks from this one on (a draft is not shown to agents), and the notices."""
    first = week_of(today())
    out = []
    for w in range(weeks):
        week_start = first + timedelta(days=DAYS * w)
        roster = _roster(session, week_start)
        published = roster is not None and roster.status is m.RosterStatus.PUBLISHED
        plan = _plan_of(roster).get(user.id, [None] * DAYS) if roster is not None and published else [None] * DAYS
        days = week_days(week_start)
        leave = _approved_leave(session, [user.id], days[0], days[-1]).get(user.id, set())
        out.append(
            (
                week_start,
                published,
                [MyDay(day=d, shift=shift_text(c), leave=d in leave) for d, c in zip(days, plan, strict=True)],
            )
        )
    notices = session.scalars(
        select(m.Notice).where(m.Notice.agent_id == user.id).order_by(m.Notice.at.desc(), m.Notice.id.desc()).limit(20)
    )
    return MyScheduleOut(
        weeks=out, notices=[NoticeOut(id=n.id, at=n.at, text=n.text, read=n.read_at is not None) for n in notices]
    )


def do_read_notices(session: Session, user: User) -> int:
    """The user marks their schedule notices read (only their own)."""
    unread = list(session.scalars(select(m.Notice).where(m.Notice.agent_id == user.id, m.Notice.read_at.is_(None))))
    for n in unread:
        n.read_at = utcnow()
    if unread:
        record(session, user.id, AuditAction.READ, AuditEntity.NOTICE, user.id, detail=f"{len(unread)} 条排班通知已读")
    return len(unread)


# ---------------------------------------------------------------- leave


def leave_out(leave: m.LeaveRequest) -> LeaveOut:
    return LeaveOut(
        id=leave.id, version=leave.version, agent_id=leave.agent_id, agent_no=leave.agent.agent_no,
        agent_name=leave.agent.name, first_day=leave.first_day, last_day=leave.last_day, kind=leave.kind,
        reason=leave.reason, late=leave.late, status=leave.status,
        decided_by=leave.decider.name if leave.decider else None, decided_at=leave.decided_at,
        decision_note=leave.decision_note, created_at=leave.created_at,
    )  # fmt: skip


def do_request_leave(session: Session, actor: User, body: LeaveIn) -> m.LeaveRequest:
    """An agent asks for leave (a team lead or supervisor may file it for an agent of theirs).
    Asked less than KEFU_LEAVE_NOTICE_DAYS ahead, it is kept but only a supervisor may approve it."""
    agent = actor
    if body.agent_id is not None and body.agent_id != actor.id:
        agent = get_or_404(session, User, body.agent_id, "用户")
        if not may_decide(actor, agent):
            raise Forbidden("只能为本班组的话务员代为请假")
    if agent.role is not Role.AGENT:
        raise Invalid("请假申请针对排班的话务员")
    for day in (body.first_day, body.last_day):
        if day.year not in YEARS:
            raise Invalid(f"日期应在 {YEARS.start}–{YEARS.stop - 1} 年之间")
    if body.last_day < body.first_day:
        raise Invalid("结束日期早于开始日期")
    if (body.last_day - body.first_day).days >= 31:
        raise Invalid("一次请假最长 31 天,更长的请分次申请")
    if body.first_day < today():
        raise Invalid("不能为已经过去的日期请假")
    overlap = session.scalars(
        select(m.LeaveRequest).where(
            m.LeaveRequest.agent_id == agent.id,
            m.LeaveRequest.status.in_([*m.OPEN_REQUESTS, m.RequestStatus.APPROVED]),
            m.LeaveRequest.first_day <= body.last_day,
            m.LeaveRequest.last_day >= body.first_day,
        )
    ).first()
    if overlap is not None:
        raise Conflict(
            f"与已有的请假申请重叠({overlap.first_day:%Y-%m-%d}–{overlap.last_day:%Y-%m-%d},{overlap.status.label})"
        )
    notice = get_settings().leave_notice_days
    late = (body.first_day - today()).days < notice
    leave = m.LeaveRequest(
        agent_id=agent.id, first_day=body.first_day, last_day=body.last_day, kind=body.kind, reason=body.reason,
        late=late,
    )  # fmt: skip
    session.add(leave)
    session.flush()
    record(
        session, actor.id, AuditAction.CREATE, AuditEntity.LEAVE, leave.id,
        detail=f"{agent.name}({agent.agent_no}) {body.kind.label} {body.first_day:%Y-%m-%d}–{body.last_day:%Y-%m-%d}"
        + (f";不足 {notice} 天提前量,需主管特批" if late else ""),
    )  # fmt: skip
    return leave


def do_decide_leave(session: Session, actor: User, leave_id: int, body: DecisionIn) -> m.LeaveRequest:
    """Approve or refuse. A late request needs a supervisor's override with its reason. Approved
    leave takes the agent's shifts off those days: from a draft directly, from a published roster
    as a revision (the agent is told)."""
    leave = get_or_404(session, m.LeaveRequest, leave_id, "请假申请")
    if not may_decide(actor, leave.agent):
        raise Forbidden("只能审批本班组话务员的请假申请,且不能审批自己的申请")
    check_version(leave, body.version, "请假申请")
    if leave.status is not m.RequestStatus.PENDING:
        raise Conflict(f"这份申请{leave.status.label},不能再审批")
    notice = get_settings().leave_notice_days
    if body.approve and leave.late:
        if not may_plan(actor):
            raise Forbidden(f"这份申请距开始不足 {notice} 天,需主管特批")
        if not body.note:
            raise Invalid("特批不足提前量的请假须写明原因")
    if not body.approve and not body.note:
        raise Invalid("拒绝请假须写明原因")
    leave.status = m.RequestStatus.APPROVED if body.approve else m.RequestStatus.REFUSED
    leave.decided_by, leave.decided_at, leave.decision_note = actor.id, utcnow(), body.note
    span = f"{leave.first_day:%Y-%m-%d}–{leave.last_day:%Y-%m-%d}"
    if body.approve:
        _clear_leave_days(session, actor, leave)
    _notify(
        session,
        [leave.agent_id],
        f"您 {span} 的{leave.kind.label}申请{leave.status.label}" + (f":{body.note}" if body.note else ""),
    )
    record(
        session, actor.id, AuditAction.APPROVE if body.approve else AuditAction.REFUSE, AuditEntity.LEAVE, leave.id,
        changes={"status": [m.RequestStatus.PENDING.value, leave.status.value]},
        detail=f"{leave.agent.name} {span}"
        + (f";特批(不足 {notice} 天):{body.note}" if body.approve and leave.late else "")
        + (f";{body.note}" if not body.approve else ""),
    )  # fmt: skip
    save(session, "请假申请")
    return leave


def _clear_leave_days(session: Session, actor: User, leave: m.LeaveRequest) -> None:
    """Days already begun keep their plan (adherence and attendance are read against it)."""
    first, last = max(leave.first_day, today() + timedelta(days=1)), leave.last_day
    for roster in session.scalars(
        select(m.Roster).where(m.Roster.week_start <= last, m.Roster.week_start > first - timedelta(days=DAYS))
    ):
        changes = {
            (a.agent_id, a.day): None
            for a in roster.assignments
            if a.agent_id == leave.agent_id and first <= a.day <= last
        }
        if not changes:
            continue
        if roster.status is m.RosterStatus.PUBLISHED:
            _revise(session, actor, roster, changes, "请假获批")  # the kind of leave is the agent's own business
        else:
            _apply(session, roster, changes)
            roster.updated_at = utcnow()  # a planner's grid of the draft from before is now out of date


def do_cancel_leave(session: Session, actor: User, leave_id: int) -> m.LeaveRequest:
    leave = get_or_404(session, m.LeaveRequest, leave_id, "请假申请")
    if leave.agent_id != actor.id:
        raise Forbidden("只能撤回自己的请假申请")
    if leave.status not in m.OPEN_REQUESTS:
        raise Conflict(f"这份申请{leave.status.label},不能撤回")
    leave.status = m.RequestStatus.CANCELLED
    record(
        session,
        actor.id,
        AuditAction.CANCEL,
        AuditEntity.LEAVE,
        leave.id,
        detail=f"{leave.first_day:%Y-%m-%d} 起的请假",
    )
    save(session, "请假申请")
    return leave


# ---------------------------------------------------------------- shift swaps


def _shift_on(session: Session, agent_id: int, day: date) -> tuple[m.Roster | None, str | None]:
    roster = _roster(session, week_of(day))
    if roster is None or roster.status is not m.RosterStatus.PUBLISHED:
        return roster, None
    held = next((a.shift for a in roster.assignments if a.agent_id == agent_id and a.day == day), None)
    return roster, held


def swap_out(session: Session, swap: m.SwapRequest) -> SwapOut:
    return SwapOut(
        id=swap.id, version=swap.version, requester_id=swap.requester_id,
        requester=f"{swap.requester.name}({swap.requester.agent_no})", partner_id=swap.partner_id,
        partner=f"{swap.partner.name}({swap.partner.agent_no})", day=swap.day,
        requester_shift=shift_text(swap.requester_shift), partner_shift=shift_text(swap.partner_shift),
        note=swap.note, status=swap.status, decision_note=swap.decision_note, created_at=swap.created_at,
    )  # fmt: skip


def do_request_swap(session: Session, actor: User, body: SwapIn) -> m.SwapRequest:
    """Ask a colleague of the same team to exchange the shifts of one day of a published roster."""
    if actor.role is not Role.AGENT:
        raise Forbidden("换班由话务员本人申请")
    partner = get_or_404(session, User, body.partner_id, "用户")
    if partner.id == actor.id or partner.role is not Role.AGENT or not partner.active:
        raise Invalid("换班对象应为另一位在岗的话务员")
    if partner.team != actor.team:
        raise Invalid("只能与本班组的同事换班(由班组长审批)")
    if body.day <= today():
        raise Invalid("只能为明天及以后的班次申请换班")
    roster, mine = _shift_on(session, actor.id, body.day)
    if roster is None or roster.status is not m.RosterStatus.PUBLISHED:
        raise Invalid(f"{body.day:%Y-%m-%d} 所在周的排班还没有发布")
    theirs = _shift_on(session, partner.id, body.day)[1]
    if mine == theirs:
        raise Invalid("两人当天的班次相同,无需换班")
    if _approved_leave(session, [actor.id, partner.id], body.day, body.day):
        raise Invalid(f"{body.day:%Y-%m-%d} 你们中有人已获批请假,不能换班")
    busy = session.scalars(
        select(m.SwapRequest).where(
            m.SwapRequest.day == body.day,
            m.SwapRequest.status.in_(m.OPEN_REQUESTS),
            m.SwapRequest.requester_id.in_([actor.id, partner.id])
            | m.SwapRequest.partner_id.in_([actor.id, partner.id]),
        )
    ).first()
    if busy is not None:
        raise Conflict("当天已有涉及你们的换班申请在处理中")
    swap = m.SwapRequest(
        requester_id=actor.id, partner_id=partner.id, day=body.day, note=body.note, requester_shift=mine,
        partner_shift=theirs,
    )  # fmt: skip
    session.add(swap)
    session.flush()
    _notify(session, [partner.id], f"{actor.name} 请求与您交换 {body.day:%Y-%m-%d} 的班次:{body.note}")
    record(
        session, actor.id, AuditAction.CREATE, AuditEntity.SWAP, swap.id,
        detail=f"{actor.name} ↔ {partner.name} {body.day:%Y-%m-%d}:"
        f"{shift_text(mine) or '休息'} ↔ {shift_text(theirs) or '休息'}",
    )  # fmt: skip
    return swap


def do_answer_swap(session: Session, actor: User, swap_id: int, body: AgreeIn) -> m.SwapRequest:
    swap = get_or_404(session, m.SwapRequest, swap_id, "换班申请")
    if swap.partner_id != actor.id:
        raise Forbidden("只有被邀请换班的同事可以回应")
    check_version(swap, body.version, "换班申请")
    if swap.status is not m.RequestStatus.AWAITING_PARTNER:
        raise Conflict(f"这份申请{swap.status.label}")
    swap.status = m.RequestStatus.PENDING if body.agree else m.RequestStatus.REFUSED
    _notify(
        session,
        [swap.requester_id],
        f"{actor.name} {'同意' if body.agree else '不同意'}与您交换 {swap.day:%Y-%m-%d} 的班次",
    )
    record(
        session, actor.id, AuditAction.AGREE if body.agree else AuditAction.REFUSE, AuditEntity.SWAP, swap.id,
        changes={"status": [m.RequestStatus.AWAITING_PARTNER.value, swap.status.value]},
    )  # fmt: skip
    save(session, "换班申请")
    return swap


def do_decide_swap(session: Session, actor: User, swap_id: int, body: DecisionIn) -> m.SwapRequest:
    """The team lead approves (the roster gets a revision; both agents are told) or refuses."""
    swap = get_or_404(session, m.SwapRequest, swap_id, "换班申请")
    if not may_decide(actor, swap.requester, swap.partner):
        raise Forbidden("只能审批本班组的换班申请,且不能审批自己的申请")
    check_version(swap, body.version, "换班申请")
    if swap.status is not m.RequestStatus.PENDING:
        raise Conflict(f"这份申请{swap.status.label},不能审批")
    if not body.approve and not body.note:
        raise Invalid("拒绝换班须写明原因")
    if body.approve:
        if swap.day <= today():
            raise Invalid("当天或已经过去的班次不能再换")
        roster, mine = _shift_on(session, swap.requester_id, swap.day)
        theirs = _shift_on(session, swap.partner_id, swap.day)[1]
        if roster is None or roster.status is not m.RosterStatus.PUBLISHED:
            raise Invalid("这一周的排班不在发布状态")
        if (mine, theirs) != (swap.requester_shift, swap.partner_shift):
            raise Conflict("申请之后两人当天的班次已有变动,这份换班申请不再适用,请拒绝后让话务员重新申请")
        agents = _all_agents(session)
        before = _broken(session, roster, agents)
        _revise(
            session, actor, roster, {(swap.requester_id, swap.day): theirs, (swap.partner_id, swap.day): mine},
            f"{swap.requester.name} 与 {swap.partner.name} 换班",
        )  # fmt: skip
        _refuse_new(before, _broken(session, roster, agents), "换班")
    swap.status = m.RequestStatus.APPROVED if body.approve else m.RequestStatus.REFUSED
    swap.decided_by, swap.decided_at, swap.decision_note = actor.id, utcnow(), body.note
    if not body.approve:
        _notify(session, [swap.requester_id, swap.partner_id], f"{swap.day:%Y-%m-%d} 的换班申请未获批准:{body.note}")
    record(
        session, actor.id, AuditAction.APPROVE if body.approve else AuditAction.REFUSE, AuditEntity.SWAP, swap.id,
        changes={"status": [m.RequestStatus.PENDING.value, swap.status.value]}, detail=body.note,
    )  # fmt: skip
    save(session, "换班申请")
    return swap


# ---------------------------------------------------------------- the requests a user sees


def leave_requests(session: Session, user: User, *, open_only: bool = False) -> list[m.LeaveRequest]:
    """One's own, and those one may decide (team lead: the team; supervisor: all)."""
    query = select(m.LeaveRequest).order_by(m.LeaveRequest.first_day.desc(), m.LeaveRequest.id.desc()).limit(500)
    if open_only:
        query = query.where(m.LeaveRequest.status.in_(m.OPEN_REQUESTS))
    scope = access.scope_of(user, Record.SCHEDULE, write=True)
    if scope is not Scope.ALL:
        team_ids = [u.id for u in visible_agents(session, user)] if scope is Scope.TEAM else []
        query = query.where(m.LeaveRequest.agent_id.in_([user.id, *team_ids]))
    return list(session.scalars(query))


def swap_requests(session: Session, user: User, *, open_only: bool = False) -> list[m.SwapRequest]:
    query = select(m.SwapRequest).order_by(m.SwapRequest.day.desc(), m.SwapRequest.id.desc()).limit(500)
    if open_only:
        query = query.where(m.SwapRequest.status.in_(m.OPEN_REQUESTS))
    scope = access.scope_of(user, Record.SCHEDULE, write=True)
    if scope is not Scope.ALL:
        ids = [user.id, *([u.id for u in visible_agents(session, user)] if scope is Scope.TEAM else [])]
        query = query.where(m.SwapRequest.requester_id.in_(ids) | m.SwapRequest.partner_id.in_(ids))
    return list(session.scalars(query))


# ---------------------------------------------------------------- adherence


def adherence(session: Session, user: User, week_start: date) -> list[AdherenceRow]:
    """Per agent and day of a published week: the scheduled shift, and the minutes of it the
    agent was logged in or on a call (days not over yet are left out)."""
    roster = roster_or_404(session, week_start)
    if roster.status is not m.RosterStatus.PUBLISHED:
        raise Invalid("这一周的排班还没有发布,没有计划可对照")
    agents = visible_agents(session, user)
    if user.role is Role.AGENT:
        agents = [a for a in agents if a.id == user.id]
    plan = _plan_of(roster)
    over = [d for d in week_days(week_start) if d < today()]
    spans = queries.working_spans(
        session, [a.id for a in agents], day_start(week_start), day_start(week_start + timedelta(days=DAYS + 1))
    )
    rows = []
    for agent in agents:
        days = []
        for day in over:
            code = plan.get(agent.id, [None] * DAYS)[(day - week_start).days]
            if code is None:
                days.append(AdherenceDay(day=day, shift=None, scheduled_minutes=0, present_minutes=0))
                continue
            window = _shift_window(day, code)
            present = queries.overlap_minutes(window, spans.get(agent.id, []))
            days.append(
                AdherenceDay(day=day, shift=shift_text(code), scheduled_minutes=SHIFT_BY_CODE[code].length * 30,
                             present_minutes=round(present, 1))
            )  # fmt: skip
        rows.append(
            AdherenceRow(
                agent_id=agent.id, agent_no=agent.agent_no, name=agent.name, team=agent.team, days=days,
                scheduled_minutes=sum(d.scheduled_minutes for d in days),
                present_minutes=round(sum(d.present_minutes for d in days), 1),
            )
        )  # fmt: skip
    return rows
