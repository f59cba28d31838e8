"""Forecasting calls per interval (SPEC §8): the model against the baseline "same interval last
week" on a backtest, the holidays of China taken out and forecast apart, and kefu forecast's
file going straight into kefu staffing."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta

import pytest
from typer.testing import CliRunner

from kefu.cli import app
from kefu.workforce.forecast import day_kind, forecast, history

SHAPE = [math.exp(-((s / 2 - 10.5) ** 2) / 8) + 0.8 * math.exp(-((s / 2 - 15) ** 2) / 6) + 0.02 for s in range(48)]


def synthetic(start: date, days: int, seed: int = 1) -> tuple[list[datetime], list[float | None]]:
    """Poisson calls with a morning and an afternoon peak, 800 a weekday, 450 a weekend day, a
    third of it on statutory holidays."""
    rng = random.Random(seed)
    rings: list[datetime] = []
    for d in range(days):
        day = start + timedelta(days=d)
        level = 800 if day.weekday() < 5 else 450
        if day_kind(day) == "holiday":
            level = 270
        for slot, weight in enumerate(SHAPE):
            expected = level * weight / sum(SHAPE)
            count, clock = 0, rng.expovariate(1)
            while clock < expected:  # Poisson by exponential gaps
                count += 1
                clock += rng.expovariate(1)
            base = datetime.combine(day, datetime.min.time()) + timedelta(minutes=30 * slot)
            rings += [base + timedelta(minutes=rng.random() * 30) for _ in range(count)]
    return rings, [rng.uniform(120, 300) for _ in rings]


def test_the_model_beats_last_week_on_the_backtest() -> None:
    rings, handling = synthetic(date(2026, 8, 3), 56)
    ahead = forecast(history(rings, handling, 30), days=7, weeks=2)
    assert ahead.backtest_weeks == 2
    assert ahead.model_wape is not None and ahead.baseline_wape is not None
    assert ahead.model_wape < ahead.baseline_wape  # averaging weeks beats one noisy week
    assert len(ahead.calls) == 7 * 48 and ahead.calls.index[0] == datetime(2026, 9, 28)
    assert ahead.calls["2026-09-28"].sum() == pytest.approx(800, rel=0.1)
    # National Day ahead, forecast by how the Mid-Autumn holiday (2026-09-25) in the history went.
    assert ahead.calls["2026-10-01"].sum() == pytest.approx(270, rel=0.25)
    assert ahead.aht.between(120, 300).all()


def test_holidays_are_left_out_of_the_fit_and_forecast_as_holidays() -> None:
    # Eight weeks with National Day (2026-10-01 … 10-07) inside, then the week after.
    rings, handling = synthetic(date(2026, 9, 7), 49)
    ahead = forecast(history(rings, handling, 30), days=7, weeks=0)
    monday = ahead.calls["2026-10-26"].sum()
    assert monday == pytest.approx(800, rel=0.1)  # the holiday week did not drag the weekdays down
    assert day_kind(date(2026, 10, 1)) == "holiday" and day_kind(date(2026, 10, 10)) == "0"  # a 调休 Saturday
    assert day_kind(date(2027, 3, 1)) == "0"  # a year chinese-calendar does not know: by the weekday


def test_kefu_forecast_feeds_kefu_staffing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rings, handling = synthetic(date(2026, 8, 3), 35)
    cdr = tmp_path / "话单.csv"
    lines = ["振铃时间,接听时间,结束时间"]
    for ring, seconds in zip(rings, handling, strict=True):
        lines.append(f"{ring:%Y-%m-%d %H:%M:%S},{ring + timedelta(seconds=8):%Y-%m-%d %H:%M:%S},"
                     f"{ring + timedelta(seconds=8 + (seconds or 0)):%Y-%m-%d %H:%M:%S}")  # fmt: skip
    cdr.write_text("\n".join(lines), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["forecast", str(cdr), "--days", "1"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "回测(最近 2 周" in result.stderr and "基线“上周同时段”" in result.stderr
    plan = tmp_path / "预测.csv"
    plan.write_text(result.stdout, encoding="utf-8")
    assert result.stdout.splitlines()[0] == "时段,来电量,平均处理时长" and len(result.stdout.splitlines()) == 49
    staffed = runner.invoke(app, ["staffing", str(plan), "--format", "json"], env={"COLUMNS": "200"})
    assert staffed.exit_code == 0, staffed.output
    assert "2026-09-07 10:30" in staffed.stdout
    bad = runner.invoke(app, ["forecast", str(cdr), "--interval", "20"])
    assert "时段长度应为 15、30 或 60 分钟" in str(bad.exception)
