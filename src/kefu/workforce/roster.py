"""A week's roster of named agents that covers the requirement per half hour (SPEC §8), solved
with OR-Tools CP-SAT (one worker and a fixed seed, so a run repeats).

Rules (seed 004 / 002, all configurable through ``Rules`` and ``Shift``):

- the shifts 早班 08:00–16:00, 中班 12:00–20:00, 晚班 16:00–24:00 and 夜间服务 23:30–07:30 — a
  shift past midnight covers the next day's early hours;
- five working days and two rest days a week (fewer working days by the approved leave, which
  is a hard exclusion);
- a minimum rest between two shifts (11 hours: no 夜间服务 or 晚班 followed by 早班);
- the previous week goes on: a 夜间服务 on its last day covers this week's first early hours,
  and the rest after it holds on the first day;
- the same shift through the week where coverage and fairness allow (stable patterns);
- nights and weekend shifts shared out fairly (the spread between the most and the fewest is
  minimised), and a shortfall avoided first of all.

When the requirement cannot be covered, the roster is still the best one, and every uncovered
half hour is listed with its shortfall — never a bare "infeasible". With the default shifts
07:30–08:00 is covered by no shift at all; ``gaps`` says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

SLOTS = 48  # half hours a day
DAYS = 7


@dataclass(frozen=True)
class Shift:
    code: str
    label: str
    start: int  # half hour of the day it starts in (0–47)
    length: int  # half hours

    def covers(self, day: int) -> list[tuple[int, int]]:
        """The (day, half hour) it covers when worked on ``day`` (days past the week dropped)."""
        cells = [divmod(day * SLOTS + self.start + i, SLOTS) for i in range(self.length)]
        return [(d, s) for d, s in cells if d < DAYS]

    @property
    def end(self) -> int:
        """Half hours from the start of its day to its end."""
        return self.start + self.length


SHIFTS = (
    Shift("early", "早班", 16, 16),  # 08:00–16:00
    Shift("middle", "中班", 24, 16),  # 12:00–20:00
    Shift("late", "晚班", 32, 16),  # 16:00–24:00
    Shift("night", "夜间服务", 47, 16),  # 23:30–07:30
)


@dataclass(frozen=True)
class Rules:
    working_days: int = 5
    min_rest_hours: float = 11.0
    seconds: float = 12.0  # the solver's limit, in CP-SAT's deterministic time
    shortfall_weight: int = 1000
    fairness_weight: int = 10
    stability_weight: int = 1  # per extra kind of shift an agent works in the week


@dataclass(frozen=True)
class Agent:
    agent_no: str
    name: str = ""
    leave: frozenset[int] = frozenset()  # days of the week (0 = the roster's first day) on leave
    before: str | None = None  # the shift worked on the day before the week (a night carries over)


@dataclass
class Roster:
    shifts: dict[str, list[str | None]]  # 工号 → the shift code of each day (None: rest or leave)
    coverage: list[list[int]]  # agents on duty per day and half hour
    shortfall: list[tuple[int, int, int]]  # (day, half hour, agents missing)
    gaps: list[int] = field(default_factory=list)  # half hours no shift covers at all
    optimal: bool = False
    status: str = ""


def uncovered(shifts: Sequence[Shift] = SHIFTS) -> list[int]:
    """The half hours of a day that no shift covers (07:30 with the default shifts)."""
    covered = {(shift.start + i) % SLOTS for shift in shifts for i in range(shift.length)}
    return [s for s in range(SLOTS) if s not in covered]


def _forbidden_pairs(shifts: Sequence[Shift], rest_hours: float) -> list[tuple[int, int]]:
    """(shift on a day, shift on the next day) that leave less than the minimum rest between them."""
    pairs = []
    for i, first in enumerate(shifts):
        for j, second in enumerate(shifts):
            rest = (SLOTS + second.start - first.end) / 2  # hours from the end of one to the next start
            if rest < rest_hours:
                pairs.append((i, j))
    return pairs


def _index(shifts: Sequence[Shift], code: str | None) -> int | None:
    return next((i for i, shift in enumerate(shifts) if shift.code == code), None)


def carried_over(agents: Sequence[Agent], shifts: Sequence[Shift] = SHIFTS) -> list[int]:
    """Agents on duty in each half hour of the first day from shifts begun the day before."""
    out = [0] * SLOTS
    for agent in agents:
        index = _index(shifts, agent.before)
        if index is not None:
            for i in range(shifts[index].start + shifts[index].length - SLOTS):
                out[i] += 1
    return out


def coverage_of(
    plan: dict[str, list[str | None]], agents: Sequence[Agent], shifts: Sequence[Shift] = SHIFTS
) -> list[list[int]]:
    """Agents on duty per day and half hour under ``plan`` (工号 → shift code per day)."""
    by_code = {shift.code: shift for shift in shifts}
    carried = carried_over(agents, shifts)
    out = [[0] * SLOTS for _ in range(DAYS)]
    out[0] = list(carried)
    for days in plan.values():
        for d, code in enumerate(days):
            if code in by_code:
                for day, slot in by_code[code].covers(d):
                    out[day][slot] += 1
    return out


@dataclass(frozen=True)
class Problem:
    agent_no: str
    day: int | None  # None: the whole week
    kind: str  # "leave" and "rest" are hard rules; "days" (working days in the week) is a warning
    text: str

    @property
    def hard(self) -> bool:
        return self.kind != "days"


def problems(
    plan: dict[str, list[str | None]],
    agents: Sequence[Agent],
    shifts: Sequence[Shift] = SHIFTS,
    rules: Rules | None = None,
) -> list[Problem]:
    """What a roster adjusted by hand breaks, per agent (the day before the week included)."""
    rules = rules or Rules()
    by_code = {shift.code: (i, shift) for i, shift in enumerate(shifts)}
    pairs = set(_forbidden_pairs(shifts, rules.min_rest_hours))
    out: list[Problem] = []
    for agent in agents:
        days = plan.get(agent.agent_no, [None] * DAYS)
        worked = [by_code.get(code) if code else None for code in days]
        for d, one in enumerate(worked):
            if one is not None and d in agent.leave:
                out.append(Problem(agent.agent_no, d, "leave", f"请假当天排了{one[1].label}"))
        previous = [by_code.get(agent.before) if agent.before else None, *worked[:-1]]
        for d, (first, second) in enumerate(zip(previous, worked, strict=True)):
            if first is not None and second is not None and (first[0], second[0]) in pairs:
                rest = f"{first[1].label}后接{second[1].label},休息不足 {rules.min_rest_hours:g} 小时"
                out.append(Problem(agent.agent_no, d, "rest", rest))
        expected = min(rules.working_days, DAYS - len(agent.leave))
        count = sum(1 for one in worked if one is not None)
        if count != expected:
            out.append(Problem(agent.agent_no, None, "days", f"本周上班 {count} 天,应为 {expected} 天"))
    return out


def solve(
    requirement: Sequence[Sequence[int]],
    agents: Sequence[Agent],
    shifts: Sequence[Shift] = SHIFTS,
    rules: Rules | None = None,
) -> Roster:
    """``requirement[day][half hour]``: agents needed on duty (after shrinkage), for 7 days."""
    from ortools.sat.python import cp_model  # here: a web worker that never rosters never loads it

    rules = rules or Rules()
    if len(requirement) != DAYS or any(len(day) != SLOTS for day in requirement):
        raise ValueError("需求应为 7 天、每天 48 个半小时")
    if not agents:
        raise ValueError("没有可排班的话务员")
    model = cp_model.CpModel()
    works = {
        (a, d, s): model.new_bool_var(f"w{a}_{d}_{s}")
        for a in range(len(agents))
        for d in range(DAYS)
        for s in range(len(shifts))
    }
    pairs = _forbidden_pairs(shifts, rules.min_rest_hours)
    for a, agent in enumerate(agents):
        for d in range(DAYS):
            model.add_at_most_one(works[a, d, s] for s in range(len(shifts)))
            if d in agent.leave:
                for s in range(len(shifts)):
                    model.add(works[a, d, s] == 0)
        available = DAYS - len(agent.leave)
        model.add(
            sum(works[a, d, s] for d in range(DAYS) for s in range(len(shifts))) == min(rules.working_days, available)
        )
        for d in range(DAYS - 1):
            for i, j in pairs:
                model.add_bool_or([works[a, d, i].Not(), works[a, d + 1, j].Not()])
        before = _index(shifts, agent.before)
        for i, j in pairs:
            if i == before:
                model.add(works[a, 0, j] == 0)

    carried = carried_over(agents, shifts)
    coverage = [[[] for _ in range(SLOTS)] for _ in range(DAYS)]  # type: ignore[var-annotated]
    for (_, d, s), var in works.items():
        for day, slot in shifts[s].covers(d):
            coverage[day][slot].append(var)
    short = []
    for d in range(DAYS):
        for slot in range(SLOTS):
            need = int(requirement[d][slot])
            if need <= 0:
                continue
            gap = model.new_int_var(0, need, f"short{d}_{slot}")
            model.add(sum(coverage[d][slot]) + carried[slot] * (d == 0) + gap >= need)
            short.append(gap)

    def spread(counts: list[Any], name: str) -> Any:
        high, low = model.new_int_var(0, DAYS, f"{name}_max"), model.new_int_var(0, DAYS, f"{name}_min")
        model.add_max_equality(high, counts)
        model.add_min_equality(low, counts)
        return high - low  # type: ignore[return-value]

    nights = [i for i, shift in enumerate(shifts) if shift.end > SLOTS]
    night_counts = [sum(works[a, d, s] for d in range(DAYS) for s in nights) for a in range(len(agents))]
    weekend_counts = [sum(works[a, d, s] for d in (5, 6) for s in range(len(shifts))) for a in range(len(agents))]
    fairness = spread(night_counts, "nights") + spread(weekend_counts, "weekends")  # type: ignore[arg-type]
    # Stable patterns: each kind of shift an agent works in the week costs a little, so the
    # same shift all week wins whenever coverage and fairness allow it.
    kinds = []
    for a in range(len(agents)):
        for s in range(len(shifts)):
            used = model.new_bool_var(f"uses{a}_{s}")
            for d in range(DAYS):
                model.add_implication(works[a, d, s], used)
            kinds.append(used)
    model.minimize(
        rules.shortfall_weight * sum(short) + rules.fairness_weight * fairness + rules.stability_weight * sum(kinds)
    )

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # with a fixed seed: the same roster on every run
    solver.parameters.random_seed = 0
    # The limit in CP-SAT's deterministic time (about seconds on a machine like ours), so a run
    # stopped by it still repeats on a slower or busier machine; the wall clock only as a backstop.
    solver.parameters.max_deterministic_time = rules.seconds
    solver.parameters.max_time_in_seconds = rules.seconds * 4
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise ValueError("排班规则相互矛盾(例如请假后可上班的天数不够),没有任何可行排班")
    plan: dict[str, list[str | None]] = {}
    for a, agent in enumerate(agents):
        plan[agent.agent_no] = [
            next((shifts[s].code for s in range(len(shifts)) if solver.value(works[a, d, s])), None)
            for d in range(DAYS)
        ]
    on_duty = [
        [sum(solver.value(v) for v in coverage[d][slot]) + carried[slot] * (d == 0) for slot in range(SLOTS)]
        for d in range(DAYS)
    ]
    missing = [
        (d, slot, int(requirement[d][slot]) - on_duty[d][slot])
        for d in range(DAYS)
        for slot in range(SLOTS)
        if on_duty[d][slot] < requirement[d][slot]
    ]
    return Roster(
        shifts=plan,
        coverage=on_duty,
        shortfall=missing,
        gaps=uncovered(shifts),
        optimal=status == cp_model.OPTIMAL,
        status=solver.status_name(status),
    )
