"""The records the performance figures are computed from, as plain values: the platform reads
them from its tables (kefu.performance.queries), ``kefu kpi`` from exported files
(kefu.dataio.performance). Agents are named by their 工号 in both."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from kefu.performance.kpi import CallFact, is_satisfied


@dataclass(frozen=True)
class Person:
    agent: str  # 工号
    name: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class QaScore:
    """The final score of one inspected call (after review and appeals)."""

    call_id: str
    agent: str
    at: datetime
    score: float
    inspection: int | None = None  # the platform's scorecard, for the drill-down


@dataclass(frozen=True)
class SurveyAnswer:
    """A post-call survey answer or a callback's (回访) satisfaction: 1–5 or 满意/一般/不满意."""

    agent: str
    at: datetime
    answer: int | str
    call_id: str | None = None

    @property
    def satisfied(self) -> bool | None:
        return is_satisfied(self.answer)


@dataclass(frozen=True)
class Sale:
    """A product offered on a call (推荐), and whether the customer took it."""

    agent: str
    at: datetime
    converted: bool
    amount: float = 0.0
    call_id: str | None = None


@dataclass(frozen=True)
class BusinessError:
    """An error in handling a customer's business (业务差错): a confirmed QA finding of the
    业务处理 category, or one a team lead recorded by hand."""

    agent: str
    at: datetime
    call_id: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Attendance:
    """One agent's day: minutes scheduled and minutes present (logged in and available)."""

    agent: str
    day: date
    scheduled_minutes: float
    present_minutes: float


@dataclass
class Records:
    """Everything of one period. ``later``: calls of the days after it, for first-contact
    resolution only. ``people``: 工号 → name and team (a call's own team is used otherwise)."""

    calls: list[CallFact] = field(default_factory=list)
    qa: list[QaScore] = field(default_factory=list)
    surveys: list[SurveyAnswer] = field(default_factory=list)
    sales: list[Sale] = field(default_factory=list)
    errors: list[BusinessError] = field(default_factory=list)
    attendance: list[Attendance] = field(default_factory=list)
    later: list[CallFact] = field(default_factory=list)
    people: dict[str, Person] = field(default_factory=dict)

    def team_of(self) -> dict[str, str | None]:
        """工号 → team: the people's list first, else the team on the agent's calls."""
        teams: dict[str, str | None] = {}
        for call in self.calls:
            if call.agent is not None and call.team and call.agent not in teams:
                teams[call.agent] = call.team
        return teams | {p.agent: p.team for p in self.people.values() if p.team}
