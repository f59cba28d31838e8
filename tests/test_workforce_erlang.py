"""Staffing by Erlang C and Erlang A (SPEC §8), against published values, exact at any size,
monotone where it must be, and cross-checked by simulating the queue itself."""

from __future__ import annotations

import heapq
import json
import math
import random
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kefu.cli import app
from kefu.workforce.erlang import Load, erlang_a, erlang_b, erlang_c, evaluate, on_roster, required

# 100 calls in 30 minutes, 180 s each, 85 % within 20 s: 10 Erlangs.
HUNDRED = Load(calls=100, interval=1800, aht=180)
PATIENT_300 = Load(calls=100, interval=1800, aht=180, patience=300)


def test_erlang_c_against_the_published_table() -> None:
    levels = [round(erlang_c(HUNDRED, n, 20).service_level, 4) for n in range(11, 16)]
    assert levels == [0.3896, 0.6402, 0.7956, 0.8884, 0.9415]
    fourteen = required(HUNDRED, 0.85, 20)
    assert fourteen.agents == 14 and round(fourteen.asa, 2) == 7.84
    assert fourteen.occupancy == pytest.approx(10 / 14) and fourteen.abandoned == 0


def test_erlang_a_against_the_published_table_and_below_erlang_c() -> None:
    levels = [round(erlang_a(PATIENT_300, n, 20).service_level, 4) for n in (12, 13, 14)]
    assert levels == [0.7723, 0.8582, 0.9168]
    # Callers who give up leave the queue: 13 agents reach 85/20 where Erlang C needs 14.
    thirteen = required(PATIENT_300, 0.85, 20)
    assert thirteen.agents == 13 and 0 < thirteen.abandoned < 0.05


def test_exact_at_thousands_of_agents() -> None:
    assert 0 < erlang_b(6000, 5900.0) < 1  # no factorial, no overflow
    large = Load(calls=40_000, interval=1800, aht=240)  # 5,333 Erlangs
    found = required(large, 0.85, 20)
    assert found.agents > 5333 and 0.85 <= found.service_level < erlang_c(large, found.agents + 1, 20).service_level
    assert erlang_c(large, found.agents - 1, 20).service_level < 0.85
    impatient = required(Load(calls=40_000, interval=1800, aht=240, patience=120), 0.85, 20)
    assert impatient.agents < found.agents and math.isfinite(impatient.asa)


def test_overload_and_no_calls() -> None:
    assert erlang_c(HUNDRED, 10, 20).service_level == 0  # as many agents as Erlangs: the queue never ends
    assert erlang_a(PATIENT_300, 8, 20).service_level > 0  # with abandonment the queue stays finite
    assert required(Load(calls=0), 0.85, 20).agents == 1
    with pytest.raises(ValueError, match="服务水平目标应在 0 与 1 之间"):
        required(HUNDRED, 1.2, 20)


@settings(max_examples=60, deadline=None)
@given(
    calls=st.floats(1, 2000),
    aht=st.floats(30, 900),
    patience=st.one_of(st.none(), st.floats(10, 900)),
    within=st.floats(0, 120),
)
def test_more_agents_never_serve_worse(calls: float, aht: float, patience: float | None, within: float) -> None:
    load = Load(calls=calls, interval=1800, aht=aht, patience=patience)
    start = max(1, math.floor(load.erlangs * 0.8))
    results = [evaluate(load, n, within) for n in range(start, start + 6)]
    for fewer, more in pairwise(results):
        assert more.service_level >= fewer.service_level - 1e-12
        assert more.abandoned <= fewer.abandoned + 1e-12
        assert more.waiting <= fewer.waiting + 1e-12


@settings(max_examples=40, deadline=None)
@given(calls=st.floats(1, 3000), extra=st.floats(0, 500), patience=st.one_of(st.none(), st.floats(30, 600)))
def test_more_calls_never_need_fewer_agents(calls: float, extra: float, patience: float | None) -> None:
    fewer = required(Load(calls=calls, aht=200, patience=patience), 0.8, 20).agents
    more = required(Load(calls=calls + extra, aht=200, patience=patience), 0.8, 20).agents
    assert more >= fewer


def simulate(load: Load, agents: int, within: float, callers: int, seed: int) -> tuple[float, float]:
    """The queue itself, first come first served: (answered within ``within``, abandoned)."""
    rng = random.Random(seed)
    free = [0.0] * agents  # when each agent is free next
    clock = in_time = gave_up = 0
    for _ in range(callers):
        clock += rng.expovariate(load.rate)
        start = max(clock, free[0])
        patience = rng.expovariate(1 / load.patience) if load.patience else math.inf
        if start - clock > patience:
            gave_up += 1
            continue
        heapq.heapreplace(free, start + rng.expovariate(1 / load.aht))
        in_time += start - clock <= within
    return in_time / callers, gave_up / callers


def test_a_simulated_queue_agrees_with_erlang_a_within_sampling_error() -> None:
    callers = 120_000
    level, abandoned = simulate(PATIENT_300, 13, 20, callers, seed=7)
    exact = erlang_a(PATIENT_300, 13, 20)
    error = 4 * math.sqrt(exact.service_level * (1 - exact.service_level) / callers) + 0.004  # + the warm-up
    assert abs(level - exact.service_level) < error
    assert abs(abandoned - exact.abandoned) < 0.006


def test_shrinkage_turns_agents_on_the_phone_into_agents_on_the_roster() -> None:
    assert on_roster(14, 0.3) == 20  # 14 / 0.7 = 20 exactly, not 21
    assert on_roster(13, 0.25) == 18
    with pytest.raises(ValueError):
        on_roster(10, 1.0)


# ---------------------------------------------------------------- kefu staffing


def kefu(*args: str) -> object:
    return CliRunner().invoke(app, ["staffing", *args], env={"COLUMNS": "200", "NO_COLOR": "1"})


def test_kefu_staffing_from_options_and_from_a_forecast_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = kefu(
        "--calls", "100", "--interval", "30", "--aht", "180", "--target", "0.85", "--within", "20", "--format", "json"
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    (row,) = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert (row["agents"], row["asa"], row["service_level"]) == (14, 7.84, 0.8884)
    forecast = tmp_path / "预测.csv"
    forecast.write_text("时段,来电量,平均处理时长\n08:00,100,180\n08:30,0,\n09:00,250,200\n", encoding="utf-8")
    result = kefu(str(forecast), "--patience", "300", "--shrinkage", "0.3", "--format", "csv")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    lines = result.stdout.strip().splitlines()  # type: ignore[attr-defined]
    assert lines[0].startswith("时段,来电量,话务量(爱尔兰),在线坐席,排班人数,服务水平")
    assert lines[1].split(",")[3:5] == ["13", "19"] and lines[2].split(",")[3] == "1"
    table = kefu(str(forecast))
    assert table.exit_code == 0 and "Erlang C" in table.stdout and "09:00" in table.stdout  # type: ignore[attr-defined]


def test_kefu_staffing_names_every_bad_row(tmp_path) -> None:  # type: ignore[no-untyped-def]
    forecast = tmp_path / "预测.csv"
    forecast.write_text("时段,来电量,平均处理时长\n08:00,很多,180\n,50,\n09:00,20,0\n", encoding="utf-8")
    result = kefu(str(forecast))
    assert result.exit_code != 0  # type: ignore[attr-defined]
    message = str(result.exception)  # type: ignore[attr-defined]
    for problem in ("第 2 行:来电量:应为来电数", "第 3 行:时段:不能为空", "第 4 行:平均处理时长:应大于 0"):
        assert problem in message
    both = kefu(str(forecast), "--calls", "10")
    assert "二者选一" in str(both.exception)  # type: ignore[attr-defined]


def test_a_week_staffed_by_erlang_holds_its_service_level_in_a_simulated_queue() -> None:
    """336 half hours with a daily peak, each staffed by Erlang C for 85/20 and by Erlang A with a
    patience of 120 s; in the simulation the queue carries over from one half hour to the next."""
    from kefu.workforce.simulate import simulate

    calls = [20 + 180 * math.exp(-(((i % 48) / 2 - 11) ** 2) / 10) for i in range(336)]
    for patience in (None, 120.0):
        loads = [Load(calls=c, interval=1800, aht=240, patience=patience) for c in calls]
        staffed = [required(load, 0.85, 20) for load in loads]
        outcome = simulate(loads, [s.agents for s in staffed], 20, seed=3)
        offered = sum(o.offered for o in outcome)
        simulated = sum(o.in_time for o in outcome) / offered
        expected = sum(s.service_level * load.calls for s, load in zip(staffed, loads, strict=True)) / sum(calls)
        assert offered == pytest.approx(sum(calls), rel=0.03)
        assert simulated == pytest.approx(expected, abs=0.02)  # Erlang's steady state holds across the week
        assert simulated >= 0.85 - 0.02
