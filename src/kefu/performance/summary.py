"""The KPIs of each agent, team or the whole centre over one period, and the monthly evaluation
of each agent — pure functions of ``Records``, the same for the platform and ``kefu kpi``.

Definitions beyond the call figures of ``kefu.performance.kpi`` (README "Performance"):

- **QA score** — mean final score (after review and appeals) of the period's inspected calls.
- **CSAT** — satisfied survey and callback answers over readable answers.
- **Conversion** — offers taken over offers made (销售业绩); the amount is the sum of the taken.
- **Accuracy** — answered calls without a business error over answered calls (an error not tied
  to a call counts as one call with an error).
- **Attendance** — minutes present over minutes scheduled.
- **Occupancy** — handling time over minutes present, where attendance is known.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from kefu.performance.evaluation import Evaluation, EvaluationPolicy, evaluate
from kefu.performance.kpi import (
    FCR_DAYS,
    SERVICE_LEVEL_SECONDS,
    AbandonPolicy,
    CallFact,
    Figures,
    Mean,
    Ratio,
    contacts_resolved,
    figures,
)
from kefu.performance.records import Attendance, BusinessError, Records, SurveyAnswer

CENTRE = "全中心"
NO_TEAM = "(未分组)"


class By(StrEnum):
    AGENT = "agent"
    TEAM = "team"
    CENTRE = "centre"

    @property
    def label(self) -> str:
        return {By.AGENT: "工号", By.TEAM: "班组", By.CENTRE: "中心"}[self]


@dataclass(frozen=True)
class Kpis:
    key: str  # 工号, team name or 全中心
    name: str | None  # the agent's name
    team: str | None
    calls: Figures
    quality: Mean
    csat: Ratio
    conversion: Ratio
    sales_amount: float
    accuracy: Ratio
    attendance: Ratio
    occupancy: Ratio | None  # seconds handling / seconds present; None without attendance

    def raw(self) -> dict[str, float | None]:
        """The raw figure of each dimension of the monthly evaluation (``Dimension.key``)."""
        return {
            "quality": self.quality.value,
            "satisfaction": self.csat.value,
            "efficiency": self.calls.handling.value,
            "accuracy": self.accuracy.value,
            "sales": self.conversion.value,
        }


@dataclass(frozen=True)
class Settings:
    within: float = SERVICE_LEVEL_SECONDS
    policy: AbandonPolicy = field(default_factory=AbandonPolicy)
    fcr_days: int = FCR_DAYS


T = TypeVar("T")


def _grouped(items: Iterable[T], key: Callable[[T], str | None]) -> dict[str, list[T]]:
    groups: dict[str, list[T]] = defaultdict(list)
    for item in items:
        name = key(item)
        if name is not None:
            groups[name].append(item)
    return groups


def summarise(records: Records, by: By = By.AGENT, settings: Settings | None = None) -> list[Kpis]:
    """One ``Kpis`` per agent, team or the centre, sorted by key."""
    settings = settings or Settings()
    teams = records.team_of()

    def group(agent: str | None, team: str | None = None) -> str | None:
        if by is By.CENTRE:
            return CENTRE
        if by is By.TEAM:
            return team or (teams.get(agent) if agent else None) or NO_TEAM
        return agent

    resolved = contacts_resolved(records.calls, settings.fcr_days, records.later)
    calls: dict[str, list[int]] = defaultdict(list)  # indexes into records.calls
    for index, call in enumerate(records.calls):
        name = group(call.agent, call.team)
        if name is not None:
            calls[name].append(index)
    qa = _grouped(records.qa, lambda r: group(r.agent))
    surveys = _grouped(records.surveys, lambda r: group(r.agent))
    sales = _grouped(records.sales, lambda r: group(r.agent))
    errors = _grouped(records.errors, lambda r: group(r.agent))
    attendance = _grouped(records.attendance, lambda r: group(r.agent))
    out = []
    for key in sorted(set(calls) | set(qa) | set(surveys) | set(sales) | set(errors) | set(attendance)):
        indexes = calls.get(key, [])
        own: list[CallFact] = [records.calls[i] for i in indexes]
        call_figures = figures(
            own, within=settings.within, policy=settings.policy, resolved=[resolved[i] for i in indexes]
        )
        person = records.people.get(key) if by is By.AGENT else None
        out.append(
            Kpis(
                key=key,
                name=person.name if person else None,
                team=(teams.get(key) if by is By.AGENT else key if by is By.TEAM else None),
                calls=call_figures,
                quality=Mean(sum(r.score for r in qa.get(key, [])), len(qa.get(key, []))),
                csat=_csat(surveys.get(key, [])),
                conversion=Ratio(sum(s.converted for s in sales.get(key, [])), len(sales.get(key, []))),
                sales_amount=round(sum(s.amount for s in sales.get(key, []) if s.converted), 2),
                accuracy=_accuracy(call_figures.answered, errors.get(key, [])),
                attendance=_attendance(attendance.get(key, [])),
                occupancy=_occupancy(call_figures.handling.total, attendance.get(key, [])),
            )
        )
    return out


def _csat(answers: list[SurveyAnswer]) -> Ratio:
    read = [s for a in answers if (s := a.satisfied) is not None]
    return Ratio(sum(read), len(read))


def _accuracy(answered: int, errors: list[BusinessError]) -> Ratio:
    with_call = {e.call_id for e in errors if e.call_id is not None}
    wrong = len(with_call) + sum(1 for e in errors if e.call_id is None)
    return Ratio(max(0, answered - wrong), answered)


def _attendance(days: list[Attendance]) -> Ratio:
    return Ratio(round(sum(d.present_minutes for d in days)), round(sum(d.scheduled_minutes for d in days)))


def _occupancy(handling: float, days: list[Attendance]) -> Ratio | None:
    """``handling``: the seconds of handling time of the calls (``Figures.handling.total``)."""
    present = sum(d.present_minutes for d in days) * 60
    if not present:
        return None
    return Ratio(round(handling), round(present))


@dataclass(frozen=True)
class AgentMonth:
    kpis: Kpis
    evaluation: Evaluation

    @property
    def agent(self) -> str:
        return self.kpis.key

    @property
    def calls(self) -> int:
        """The volume behind the figures: answered calls."""
        return self.kpis.calls.answered


def evaluate_month(
    records: Records, settings: Settings | None = None, policy: EvaluationPolicy | None = None
) -> list[AgentMonth]:
    """Every agent with any record in the month, with their evaluation (seed 004)."""
    return [AgentMonth(k, evaluate(k.raw(), policy)) for k in summarise(records, By.AGENT, settings)]
