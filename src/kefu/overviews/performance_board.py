"""The team lead's and the supervisor's morning page (SPEC §7): the day's service level by half
hour, the month so far against the targets, the agents whose figures dropped (control charts,
not raw percentage changes), and what waits — callbacks, QA reviews, appeals.

Service level, abandonment and ASA are figures of the queue: calls nobody answered belong to no
agent and no team, so they are the centre's, shown to a team lead as well. Everything per agent
is limited to the agents the reader may see (kefu.performance.service.visible_agents)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.calls.service import latest_ring
from kefu.core.clock import on_centre_clock
from kefu.core.security import Permission, allowed
from kefu.core.settings import get_settings
from kefu.performance import service
from kefu.performance.alerts import Alert, ChartResult, ewma_chart, p_chart
from kefu.performance.kpi import CallFact, service_level
from kefu.performance.queries import load_records, people
from kefu.performance.records import Records
from kefu.performance.schemas import KpiOut
from kefu.performance.summary import By, Settings, summarise
from kefu.quality import appeals, review
from kefu.quality.models import ReviewStatus
from kefu.workorders.service import awaiting_callback

TREND_DAYS = 35  # four weeks of baseline and the last week
RECENT_DAYS = 7
# QA scores are skewed (most calls near full marks, a few far below): a small λ keeps the EWMA
# chart's false alarms near nominal on such data (Borror, Montgomery & Runger 1999), and with
# L = 2.814 its in-control average run length is still about 500 (Montgomery, Table 9.11).
EWMA_LAMBDA = 0.1
EWMA_WIDTH = 2.814


@dataclass(frozen=True)
class Target:
    label: str
    value: float | None
    target: float
    higher_is_better: bool = True
    percent: bool = True

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target


@dataclass(frozen=True)
class AgentAlerts:
    agent: User
    alerts: list[Alert]


@dataclass
class Board:
    day: date
    scope: str  # 全中心, 一组
    intervals: list[tuple[str, float | None, str]]  # for charts.interval_columns
    day_figures: KpiOut | None  # the centre's queue today
    month: str
    teams: list[KpiOut]  # the month so far per team (of the visible agents)
    targets: list[Target]
    basis: str  # how the service level counts, shown beside it
    target: float
    alerts: list[AgentAlerts] = field(default_factory=list)
    callbacks_waiting: int = 0
    reviews_waiting: int | None = None  # None: not the reader's to see
    appeals_waiting: int | None = None


def _intervals(records: Records, day: date, settings: Settings) -> list[tuple[str, float | None, str]]:
    halves: dict[int, list[CallFact]] = defaultdict(list)
    for call in records.calls:
        local = on_centre_clock(call.ring_at)
        if local.date() == day:
            halves[local.hour * 2 + local.minute // 30].append(call)
    out = []
    for half in range(48):
        start = f"{half // 2:02d}:{30 * (half % 2):02d}"
        end = f"{(half + 1) // 2 % 24:02d}:{30 * ((half + 1) % 2):02d}"
        calls = halves.get(half, [])
        level = service_level(calls, settings.within, settings.policy)
        if level.value is None:
            out.append((start, None, f"{start}–{end}:无来电"))
            continue
        gave_up = len(calls) - sum(1 for c in calls if c.answered)
        fast = f"{level.numerator}/{level.denominator} 在 {settings.within:g} 秒内接听"
        text = f"{start}–{end}:{fast},服务水平 {level.value:.1%};放弃 {gave_up} 通"
        out.append((start, level.value, text))
    return out


def _targets(centre: KpiOut | None, teams: list[KpiOut], settings: Settings, target: float) -> list[Target]:
    overall = centre
    return [
        Target(f"服务水平({settings.within:g} 秒)", overall.service_level.value if overall else None, target),
        Target("放弃率", overall.abandonment.value if overall else None, 0.05, higher_is_better=False),
        Target("平均应答(秒)", overall.asa.value if overall else None, 20, higher_is_better=False, percent=False),
        Target("一次解决率", _pooled(teams, "fcr"), 0.80),
        Target("满意度", _pooled(teams, "csat"), 0.85),
        Target("质检平均分", _qa_mean(teams), 85, percent=False),
    ]


def _pooled(rows: list[KpiOut], name: str) -> float | None:
    num = sum(getattr(r, name).numerator for r in rows)
    den = sum(getattr(r, name).denominator for r in rows)
    return num / den if den else None


def _qa_mean(rows: list[KpiOut]) -> float | None:
    count = sum(r.quality.count for r in rows)
    return sum(r.quality.total for r in rows) / count if count else None


def daily_series(
    records: Records, agent: str, first: date, days: int
) -> tuple[list[str], list[list[float]], list[tuple[int, int]]]:
    """Per day: the labels, the agent's QA scores, the agent's (satisfied, answers)."""
    labels = [(first + timedelta(days=d)).strftime("%m-%d") for d in range(days)]
    scores: list[list[float]] = [[] for _ in range(days)]
    answers = [[0, 0] for _ in range(days)]
    for q in records.qa:
        index = (on_centre_clock(q.at).date() - first).days
        if q.agent == agent and 0 <= index < days:
            scores[index].append(q.score)
    for s in records.surveys:
        index = (on_centre_clock(s.at).date() - first).days
        satisfied = s.satisfied
        if s.agent == agent and 0 <= index < days and satisfied is not None:
            answers[index][0] += satisfied
            answers[index][1] += 1
    return labels, scores, [(a, b) for a, b in answers]


def charts_of(
    labels: list[str], scores: list[list[float]], answers: list[tuple[int, int]]
) -> tuple[ChartResult, ChartResult]:
    quality = ewma_chart(
        "质检得分", list(zip(labels, scores, strict=True)), recent=RECENT_DAYS, lam=EWMA_LAMBDA, width=EWMA_WIDTH
    )
    csat = p_chart("满意度", [(label, a, n) for label, (a, n) in zip(labels, answers, strict=True)], recent=RECENT_DAYS)
    return quality, csat


def board(session: Session, user: User, day: date, settings: Settings | None = None) -> Board:
    settings = settings or service.kpi_settings()
    target = get_settings().service_level_target
    agents = service.visible_agents(session, user)
    teams_seen = {a.team for a in agents.values()}
    scope = "全中心" if len(teams_seen) > 1 else (user.team or "本人")
    today = service.Period(day, day)
    queue = load_records(session, today.start, today.end, first_day=day, last_day=day, only={"calls"})
    centre = summarise(queue, By.CENTRE, settings)
    month = service.Period(day.replace(day=1), day)
    records = load_records(session, month.start, month.end, first_day=month.first, last_day=month.last)
    centre_month = summarise(records, By.CENTRE, settings)
    teams = [KpiOut.of(k) for k in summarise(records, By.TEAM, settings) if k.key in teams_seen]
    return Board(
        day=day,
        scope=scope,
        intervals=_intervals(queue, day, settings),
        day_figures=KpiOut.of(centre[0]) if centre else None,
        month=day.strftime("%Y-%m"),
        teams=teams,
        targets=_targets(KpiOut.of(centre_month[0]) if centre_month else None, teams, settings, target),
        basis=f"{settings.within:g} 秒内接听;{settings.policy.describe()}",
        target=target,
        alerts=_alerts(session, agents, day),
        callbacks_waiting=awaiting_callback(session, list(agents)),
        # What waits for QA is the supervisor's to see; appeals for those who handle them.
        reviews_waiting=review.count_reviews(session, ReviewStatus.OPEN)
        if allowed(user.role, Permission.QA_REVIEW)
        else None,
        appeals_waiting=len(appeals.appeal_queue(session, user)) if _handles_appeals(user) else None,
    )


def _handles_appeals(user: User) -> bool:
    return allowed(user.role, Permission.APPEAL_LEAD) or allowed(user.role, Permission.APPEAL_DECIDE)


def trend_records(session: Session, agent_ids: list[int], day: date) -> tuple[date, Records]:
    """The QA scores and survey answers of the ``TREND_DAYS`` up to ``day``: what the charts read."""
    first = day - timedelta(days=TREND_DAYS - 1)
    period = service.Period(first, day)
    only = {"qa", "surveys"}
    return first, load_records(
        session, period.start, period.end, agent_ids=agent_ids, first_day=first, last_day=day, only=only
    )


def _alerts(session: Session, agents: dict[int, User], day: date) -> list[AgentAlerts]:
    first, records = trend_records(session, list(agents), day)
    out = []
    for agent in agents.values():
        found = [c.alert for c in charts_of(*daily_series(records, agent.agent_no, first, TREND_DAYS)) if c.alert]
        if found:
            out.append(AgentAlerts(agent, found))
    return out


@dataclass(frozen=True)
class Trend:
    """An agent's last ``TREND_DAYS`` days against the team: the daily QA score (the agent's and
    the team's mean) and the daily satisfaction, each with its control chart."""

    labels: list[str]
    scores: list[float | None]
    team_scores: list[float | None]
    satisfaction: list[float | None]
    quality: ChartResult
    csat: ChartResult


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


# The team's daily mean is shown only when this many colleagues were scored that day: with fewer,
# it would tell an agent a colleague's own score.
TEAM_MEAN_AT_LEAST = 3


def agent_trend(session: Session, agent: User, day: date) -> Trend:
    """The ``TREND_DAYS`` up to ``day``. The team's mean only (no colleague's own figures), so an
    agent may see it too."""
    team = [a.id for a in people(session).values() if a.team == agent.team] or [agent.id]
    first, records = trend_records(session, team, day)
    labels, scores, answers = daily_series(records, agent.agent_no, first, TREND_DAYS)
    team_scores: list[list[float]] = [[] for _ in labels]
    colleagues: list[set[str]] = [set() for _ in labels]
    for q in records.qa:
        index = (on_centre_clock(q.at).date() - first).days
        if 0 <= index < len(labels):
            team_scores[index].append(q.score)
            if q.agent != agent.agent_no:
                colleagues[index].add(q.agent)
    team_scores = [s if len(c) >= TEAM_MEAN_AT_LEAST else [] for s, c in zip(team_scores, colleagues, strict=True)]
    quality, csat = charts_of(labels, scores, answers)
    return Trend(
        labels=labels,
        scores=[_mean(v) for v in scores],
        team_scores=[_mean(v) for v in team_scores],
        satisfaction=[a / n if n else None for a, n in answers],
        quality=quality,
        csat=csat,
    )


def latest_day_with_calls(session: Session, before: datetime) -> date | None:
    """The last day with calls (the demo's data stop at its first start)."""
    latest = latest_ring(session, before)
    return on_centre_clock(latest).date() if latest else None
