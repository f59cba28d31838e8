"""The week's roster (SPEC §8) on small cases whose best answer is known: the requirement
covered, five days and two rest days, the minimum rest between shifts, leave as a hard
exclusion, nights shared fairly, the shortfall listed when it cannot be covered, the same
roster on every run."""

from __future__ import annotations

from kefu.workforce.roster import DAYS, SHIFTS, SLOTS, Agent, Rules, solve

EARLY, NIGHT = 0, 3  # indexes into SHIFTS
FAST = Rules(seconds=10)


def need(cells: dict[tuple[int, int], int]) -> list[list[int]]:
    grid = [[0] * SLOTS for _ in range(DAYS)]
    for (day, slot), agents in cells.items():
        grid[day][slot] = agents
    return grid


def shift_hours(shift: int) -> range:
    return range(SHIFTS[shift].start, min(SLOTS, SHIFTS[shift].end))


def test_two_agents_cover_one_early_shift_every_day() -> None:
    requirement = need({(d, s): 1 for d in range(DAYS) for s in shift_hours(EARLY)})
    roster = solve(requirement, [Agent("1"), Agent("2")], rules=FAST)
    assert roster.optimal and roster.shortfall == []
    for days in roster.shifts.values():
        assert sum(d is not None for d in days) == 5  # five working days, two rest days
        assert set(days) <= {"early", None}


def test_no_early_shift_right_after_a_night() -> None:
    """One agent cannot work the night of day 0 and the early shift of day 1 (11 hours' rest):
    the roster covers one of them and lists the other as short — never a bare infeasible."""
    night = {(0, 47): 1, **{(1, s): 1 for s in range(0, 15)}}
    early = {(1, s): 1 for s in shift_hours(EARLY)}
    roster = solve(need(night | early), [Agent("1")], rules=FAST)
    days = roster.shifts["1"]
    assert not (days[0] == "night" and days[1] == "early")
    assert roster.shortfall and all(day in (0, 1) for day, _, _ in roster.shortfall)


def test_leave_is_never_worked_and_shortens_the_week() -> None:
    requirement = need({(d, s): 2 for d in range(DAYS) for s in shift_hours(EARLY)})
    roster = solve(requirement, [Agent("1", leave=frozenset({2, 3, 4})), Agent("2")], rules=FAST)
    assert [roster.shifts["1"][d] for d in (2, 3, 4)] == [None, None, None]
    assert sum(d is not None for d in roster.shifts["1"]) == 4  # seven days less three on leave
    assert roster.shortfall  # two agents cannot be two on duty every day


def test_nights_are_shared_and_the_gap_before_eight_is_named() -> None:
    requirement = need({(d, 0): 1 for d in range(1, DAYS)})  # someone from midnight, every night
    agents = [Agent(str(i)) for i in range(4)]
    roster = solve(requirement, agents, rules=FAST)
    nights = [days.count("night") for days in roster.shifts.values()]
    assert roster.shortfall == [] and max(nights) - min(nights) <= 1
    assert roster.gaps == [15]  # 07:30–08:00: no default shift covers it


def test_the_same_roster_on_every_run() -> None:
    requirement = need({(d, s): 1 + (s % 3 == 0) for d in range(DAYS) for s in range(16, 40)})
    agents = [Agent(str(i)) for i in range(6)]
    assert solve(requirement, agents, rules=FAST).shifts == solve(requirement, agents, rules=FAST).shifts


def test_kefu_roster_from_the_staffing_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from typer.testing import CliRunner

    from kefu.cli import app

    lines = ["时段,排班人数"] + [f"2026-12-{7 + d:02d} {s // 2:02d}:{30 * (s % 2):02d},{2 if 16 <= s < 32 else 0}"
                                for d in range(7) for s in range(48)]  # fmt: skip
    (tmp_path / "需求.csv").write_text("\n".join(lines), encoding="utf-8")
    (tmp_path / "人员.csv").write_text("工号,姓名,请假日期\n1,甲,2026-12-09\n2,乙,\n3,丙,\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(
        app, ["roster", str(tmp_path / "需求.csv"), str(tmp_path / "人员.csv"), "--start", "2026-12-07",
              "--seconds", "10", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["shifts"]["1"][2] == "休"  # on leave
    assert data["uncovered_by_any_shift"] == ["07:30"]
    assert data["shortfall"] == [] or all(s["missing"] > 0 for s in data["shortfall"])
    assert all(plan.count("休") >= 2 for plan in data["shifts"].values())
    (tmp_path / "人员.csv").write_text("工号,姓名,上周日班次\n1,甲,夜间服务\n2,乙,\n3,丙,休息\n", encoding="utf-8")
    carried = runner.invoke(
        app, ["roster", str(tmp_path / "需求.csv"), str(tmp_path / "人员.csv"), "--start", "2026-12-07",
              "--seconds", "10", "--format", "json"],
    )  # fmt: skip
    assert carried.exit_code == 0, carried.output
    assert json.loads(carried.stdout)["shifts"]["1"][0] != "早班"  # off the night at 07:30: no 08:00 start
    (tmp_path / "人员.csv").write_text("工号,上周日班次\n1,午班\n", encoding="utf-8")
    wrong = runner.invoke(
        app, ["roster", str(tmp_path / "需求.csv"), str(tmp_path / "人员.csv"), "--start", "2026-12-07"]
    )
    assert "「午班」不是班次" in str(wrong.exception)
    (tmp_path / "人员.csv").write_text("工号,姓名,请假日期\n1,甲,下周二\n", encoding="utf-8")
    bad = runner.invoke(
        app, ["roster", str(tmp_path / "需求.csv"), str(tmp_path / "人员.csv"), "--start", "2026-12-07"]
    )
    assert "「下周二」不是日期" in str(bad.exception)


def test_the_same_shift_all_week_when_either_would_do() -> None:
    """12:00–16:00 is covered by 早班 and 中班 alike: each agent keeps one of them all week."""
    requirement = need({(d, s): 1 for d in range(5) for s in range(24, 32)})
    roster = solve(requirement, [Agent("1"), Agent("2")], rules=FAST)
    assert roster.optimal and roster.shortfall == []
    for days in roster.shifts.values():
        assert len({d for d in days if d is not None}) == 1


def test_a_night_on_the_sunday_before_covers_monday_morning_and_keeps_its_rest() -> None:
    requirement = need({(0, s): 1 for s in range(0, 15)} | {(0, s): 1 for s in shift_hours(EARLY)})
    came_off_night = Agent("1", before="night")
    roster = solve(requirement, [came_off_night, Agent("2")], rules=FAST)
    assert roster.coverage[0][0] >= 1 and all(roster.coverage[0][s] >= 1 for s in range(15))
    assert roster.shifts["1"][0] != "early"  # 23:30–07:30, then no 08:00 start
    assert roster.shifts["2"][0] == "early" and roster.shortfall == []
