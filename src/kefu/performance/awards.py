"""月度之星, 季度优秀员工 and who needs 专项辅导 (seed 004 激励机制 / 持续改进), from the month's
evaluations.

Small samples are pulled toward the team mean before ranking (empirical-Bayes shrinkage, the
way a batting average is judged): ``adjusted = (n·total + k·team_mean) / (n + k)`` with ``n``
the agent's answered calls and ``k`` = ``PRIOR_CALLS``. An agent with few calls keeps close to
the team's mean, one with many calls keeps their own total. Below ``MIN_CALLS`` an agent is
not a candidate at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MIN_CALLS = 100  # a month's answered calls before an agent can be 月度之星
PRIOR_CALLS = 50  # how many calls' weight the team mean has in the adjusted total


@dataclass(frozen=True)
class Entry:
    """One agent's evaluated month, as the awards need it."""

    agent: str
    name: str | None
    team: str | None
    total: float
    calls: int
    grade: str | None = None


@dataclass(frozen=True)
class Candidate:
    agent: str
    name: str | None
    team: str | None
    total: float  # the (mean) evaluated total
    adjusted: float  # pulled toward the team mean by the volume
    calls: int


def _team_means(entries: Iterable[Entry]) -> dict[str | None, float]:
    totals: dict[str | None, list[float]] = defaultdict(list)
    for entry in entries:
        totals[entry.team].append(entry.total)
    return {team: sum(values) / len(values) for team, values in totals.items()}


def _adjusted(total: float, calls: int, mean: float, prior: int) -> float:
    return round((calls * total + prior * mean) / (calls + prior), 2)


def star_candidates(
    entries: Sequence[Entry], *, min_calls: int = MIN_CALLS, prior: int = PRIOR_CALLS
) -> list[Candidate]:
    """月度之星 candidates, best first: agents with at least ``min_calls`` answered calls, ranked
    by their adjusted total (ties: more calls first)."""
    means = _team_means(entries)
    ranked = [
        Candidate(e.agent, e.name, e.team, e.total, _adjusted(e.total, e.calls, means[e.team], prior), e.calls)
        for e in entries
        if e.calls >= min_calls
    ]
    return sorted(ranked, key=lambda c: (-c.adjusted, -c.calls, c.agent))


def quarter_candidates(
    months: Sequence[Sequence[Entry]], *, min_calls: int = MIN_CALLS, prior: int = PRIOR_CALLS
) -> list[Candidate]:
    """季度优秀员工 candidates: each agent's totals of the quarter's months weighted by their calls,
    an agent needing ``min_calls`` in every month evaluated (three months of real work)."""
    per_agent: dict[str, list[Entry]] = defaultdict(list)
    for month in months:
        for entry in month:
            per_agent[entry.agent].append(entry)
    merged = []
    for agent, entries in per_agent.items():
        calls = sum(e.calls for e in entries)
        if len(entries) < len(months) or calls == 0 or min(e.calls for e in entries) < min_calls:
            continue
        total = round(sum(e.total * e.calls for e in entries) / calls, 2)
        last = entries[-1]
        merged.append(Entry(agent, last.name, last.team, total, calls))
    return star_candidates(merged, min_calls=0, prior=prior * len(months))


def coaching_reason(
    current: Entry, previous: Entry | None, grades: Sequence[str] = ("A", "B+", "B", "C", "D")
) -> str | None:
    """Why the agent should get a coaching plan (专项辅导和改进计划), or None: a month in the lowest
    of ``grades`` (the centre's, best first), or two months running in the lowest two."""
    poor = tuple(grades[-2:])
    if current.grade == grades[-1]:
        return f"本月等级 {current.grade}(总分 {current.total:g})"
    if current.grade in poor and previous is not None and previous.grade in poor:
        return f"连续两个月等级 {previous.grade}、{current.grade}(总分 {previous.total:g}、{current.total:g})"
    return None
