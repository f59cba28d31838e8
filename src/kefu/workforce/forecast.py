"""Call volume and handling time per interval for the weeks ahead (SPEC §8), the way planners
do it: the daily volume by Holt-Winters (statsmodels, additive weekly season), spread over the
day by the intraday profile of the same kind of day, with China's statutory holidays
(chinese-calendar) taken out of the fit and forecast by how holidays went before.

Every forecast comes with its backtest: the model and the simple baseline "same interval last
week" each forecast the last ``weeks`` of the history from the data before them, and their
error (WAPE: Σ|forecast − actual| ÷ Σ actual) is shown side by side, so a planner sees whether
the model earns its keep. Times are on the centre's clock.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import chinese_calendar
import numpy as np
import pandas as pd
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from kefu.core.clock import on_centre_clock

DEFAULT_HOLIDAY_RATIO = 0.7  # a holiday's volume against a normal day, until history says otherwise


@dataclass(frozen=True)
class History:
    """Offered calls per interval (a complete grid: intervals without calls are 0) and the
    handling time of the answered calls, indexed by the interval's start on the centre's clock."""

    calls: pd.Series
    aht: pd.Series  # mean seconds; NaN where no call was answered
    minutes: int

    @property
    def per_day(self) -> int:
        return 24 * 60 // self.minutes


@dataclass(frozen=True)
class Forecast:
    calls: pd.Series  # per interval ahead
    aht: pd.Series
    model_wape: float | None  # backtest error of the model
    baseline_wape: float | None  # of "same interval last week"
    backtest_weeks: int


def history(rings: Sequence[datetime], handling: Sequence[float | None], minutes: int = 30) -> History:
    """From calls: their ring times (naive ones are on the centre's clock, aware ones are put on
    it) and the handling time of each answered call (None when not answered)."""
    if minutes not in (15, 30, 60):
        raise ValueError("时段长度应为 15、30 或 60 分钟")
    if not rings:
        raise ValueError("没有来电记录,无法预测")
    stamps = pd.DatetimeIndex([on_centre_clock(r).replace(tzinfo=None) if r.tzinfo else r for r in rings])
    frame = pd.DataFrame({"slot": stamps.floor(f"{minutes}min"), "handling": pd.array(handling, dtype="Float64")})
    first = frame["slot"].min().normalize()
    last = frame["slot"].max().normalize() + pd.Timedelta(days=1)
    grid = pd.date_range(first, last, freq=f"{minutes}min", inclusive="left")
    calls = frame.groupby("slot").size().reindex(grid, fill_value=0).astype(float)
    aht = frame.groupby("slot")["handling"].mean().astype(float).reindex(grid)
    return History(calls=calls, aht=aht, minutes=minutes)


def day_kind(day: date) -> str:
    """Whose intraday profile a day follows: a statutory holiday, a weekday, or a weekend day;
    a weekend day worked in lieu (调休) is a Monday."""
    try:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # a year chinese-calendar does not know yet: weekdays and weekends only
        is_holiday, name = day.weekday() >= 5, None
    if is_holiday and name is not None and day.weekday() < 5:
        return "holiday"
    if not is_holiday and day.weekday() >= 5:
        return "0"
    return str(day.weekday())


def _daily(hist: History) -> pd.Series:
    return hist.calls.groupby(hist.calls.index.normalize()).sum()


def _forecast_days(daily: pd.Series, days: int) -> pd.Series:
    """Holt-Winters on the daily totals with the holidays taken out (replaced by the same weekday
    a week earlier), then the holidays ahead scaled by how holidays went."""
    kinds = pd.Series([day_kind(d.date()) for d in daily.index], index=daily.index)
    clean = daily.copy()
    holidays = kinds == "holiday"
    for when in clean.index[holidays]:
        before = when - pd.Timedelta(days=7)
        clean[when] = clean.get(before, np.nan)
    clean = clean.ffill().bfill()
    ahead = pd.date_range(daily.index[-1] + pd.Timedelta(days=1), periods=days, freq="D")
    if len(clean) >= 14:
        # convergence chatter on short or flat histories (a perfect fit logs zero error)
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore")
            fit = ExponentialSmoothing(clean.to_numpy(), trend=None, seasonal="add", seasonal_periods=7).fit()
            values = np.maximum(fit.forecast(days), 0.0)
    else:  # under two weeks: the same weekday last week
        values = np.array(
            [clean.iloc[len(clean) - 7 + (i % 7)] if len(clean) >= 7 else clean.mean() for i in range(days)]
        )
    normal = daily[~holidays]
    ratio = DEFAULT_HOLIDAY_RATIO
    if holidays.any() and len(normal):
        same = [normal[normal.index.day_of_week == d.day_of_week].mean() for d in daily.index[holidays]]
        usable = [(daily[d], s) for d, s in zip(daily.index[holidays], same, strict=True) if s and s > 0]
        if usable:
            ratio = sum(a for a, _ in usable) / sum(s for _, s in usable)
    forecast = pd.Series(values, index=ahead)
    for when in ahead:
        if day_kind(when.date()) == "holiday":
            forecast[when] *= ratio
    return forecast


def _profiles(hist: History) -> dict[str, np.ndarray]:
    """Each kind of day's share of its calls per interval (the mean over its days)."""
    calls = hist.calls
    days = calls.groupby(calls.index.normalize())
    shapes: dict[str, list[np.ndarray]] = {}
    for day, values in days:
        total = values.sum()
        if total > 0 and len(values) == hist.per_day:
            shapes.setdefault(day_kind(day.date()), []).append(values.to_numpy() / total)
    everything = [s for group in shapes.values() for s in group]
    flat = np.mean(everything, axis=0) if everything else np.full(hist.per_day, 1 / hist.per_day)
    out = {kind: np.mean(group, axis=0) for kind, group in shapes.items()}
    out.setdefault("holiday", out.get("6", flat))
    return {kind: out.get(kind, flat) for kind in [*map(str, range(7)), "holiday"]}


def _model(hist: History, days: int) -> pd.Series:
    daily = _forecast_days(_daily(hist), days)
    profiles = _profiles(hist)
    parts = []
    for when, total in daily.items():
        slots = pd.date_range(when, periods=hist.per_day, freq=f"{hist.minutes}min")
        parts.append(pd.Series(total * profiles[day_kind(when.date())], index=slots))
    return pd.concat(parts)


def _aht(hist: History, index: pd.DatetimeIndex) -> pd.Series:
    """The mean handling time of the same interval of the day over the history (overall mean
    where an interval never had an answered call)."""
    by_time = hist.aht.groupby(hist.aht.index.time).mean()
    overall = float(np.nanmean(hist.aht.to_numpy())) if hist.aht.notna().any() else 180.0
    return pd.Series([by_time.get(t.time(), np.nan) for t in index], index=index).fillna(overall)


def _wape(forecast: pd.Series, actual: pd.Series) -> float | None:
    total = actual.sum()
    return float((forecast - actual).abs().sum() / total) if total > 0 else None


def forecast(hist: History, days: int = 7, weeks: int = 2) -> Forecast:
    """``days`` ahead from the day after the history, and the backtest over its last ``weeks``."""
    if days < 1:
        raise ValueError("预测天数至少为 1")
    week = 7 * hist.per_day
    model_errors, baseline_errors = [], []
    for back in range(weeks, 0, -1):
        cut = len(hist.calls) - back * week
        if cut < 2 * week:
            continue  # too little before it to learn from
        train = History(hist.calls.iloc[:cut], hist.aht.iloc[:cut], hist.minutes)
        actual = hist.calls.iloc[cut : cut + week]
        predicted = _model(train, 7).reindex(actual.index).fillna(0.0)
        last_week = pd.Series(hist.calls.iloc[cut - week : cut].to_numpy(), index=actual.index)
        model_errors.append((predicted, actual))
        baseline_errors.append((last_week, actual))

    def pooled(pairs: list[tuple[pd.Series, pd.Series]]) -> float | None:
        if not pairs:
            return None
        return _wape(pd.concat([f for f, _ in pairs]), pd.concat([a for _, a in pairs]))

    ahead = _model(hist, days)
    return Forecast(
        calls=ahead,
        aht=_aht(hist, ahead.index),  # type: ignore[arg-type]
        model_wape=pooled(model_errors),
        baseline_wape=pooled(baseline_errors),
        backtest_weeks=len(model_errors),
    )
