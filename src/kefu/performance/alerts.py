"""Control charts that flag an agent whose figures dropped in a statistically meaningful way,
instead of a raw percentage change: a p-chart for a share (满意度) and an EWMA chart for a
mean (质检得分).

Both split the periods (days, say) the same way: the last ``recent`` periods are the recent
window, everything before is the baseline that sets the centre line and the spread. Periods
without data (0 trials, no values) are skipped — they get no point and add nothing — but they
still occupy their place, so "近 7 天" means the last seven periods given, not the last seven
with data. Only drops raise an alert; a rise is good news for this use.

Reference: Douglas C. Montgomery, *Introduction to Statistical Quality Control*, 7th ed. (Wiley,
2013) — §7.2 the control chart for fraction nonconforming (p-chart with variable sample size),
§9.2 the exponentially weighted moving average control chart (λ = 0.2 with L = 3 is one of the
usual choices there, giving an in-control ARL of roughly 500).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean, stdev
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ChartPoint:
    label: str
    value: float | None
    centre: float
    lower: float
    upper: float
    smoothed: float | None = None  # the EWMA z_t; None on a p-chart


@dataclass(frozen=True)
class Alert:
    metric: str
    message: str


@dataclass(frozen=True)
class ChartResult:
    """``points`` is empty when no trustworthy centre line exists (``reason`` then says why);
    ``reason`` is None whenever a judgement was made, alert or not."""

    points: list[ChartPoint]
    alert: Alert | None
    reason: str | None


def _split(periods: Sequence[T], recent: int) -> tuple[Sequence[T], Sequence[T]]:
    if recent < 1:
        raise ValueError("近期窗口至少为 1 期")
    cut = max(0, len(periods) - recent)
    return periods[:cut], periods[cut:]


def _percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def _score(value: float) -> str:
    return f"{value:.1f} 分"


# ---------------------------------------------------------------------------------------------
# p-chart


def _check_counts(periods: Sequence[tuple[str, int, int]]) -> None:
    for label, successes, trials in periods:
        if trials < 0 or successes < 0 or successes > trials:
            raise ValueError(f"{label}:成功数应在 0 到样本数之间(成功 {successes},样本 {trials})")


# The one-sided tail beyond a 3σ limit under the normal curve; the p-chart's limits are the
# binomial quantiles with this tail (Montgomery's "probability limits"). The normal approximation
# p̄ ± 3·sqrt(p̄(1−p̄)/n) is far too tight near 100%: at p̄ = 95% and n = 60 it alarms about one
# series in forty instead of one in seven hundred, and satisfaction sits near 100%.
TAIL = 0.00135


def _binomial_limits(centre: float, trials: int) -> tuple[int, int]:
    """(lowest, highest) successes out of ``trials`` that are not beyond the limits: fewer than
    ``lowest`` has probability below ``TAIL``, and so has more than ``highest``."""
    log_p, log_q = math.log(centre), math.log1p(-centre)
    whole = math.lgamma(trials + 1)
    below, lowest, highest = 0.0, None, trials
    for k in range(trials + 1):
        below += math.exp(whole - math.lgamma(k + 1) - math.lgamma(trials - k + 1) + k * log_p + (trials - k) * log_q)
        if lowest is None and below >= TAIL:
            lowest = k
        if 1.0 - below <= TAIL:
            highest = k
            break
    return (lowest if lowest is not None else trials), highest


def _p_limits(centre: float, trials: int) -> tuple[float, float]:
    lowest, highest = _binomial_limits(centre, trials)
    return lowest / trials, highest / trials


def p_chart(
    metric: str,
    periods: Sequence[tuple[str, int, int]],
    *,
    recent: int = 7,
    min_baseline: int = 30,
) -> ChartResult:
    """p-chart with variable sample size over ``(label, successes, trials)`` periods.

    Centre line p̄ = Σ successes / Σ trials over the baseline. Each period's point has its own
    limits: the binomial(n_i, p̄) quantiles with a tail of ``TAIL`` on each side (the exact
    counterpart of p̄ ± 3σ). The judgement pools the recent window (Σ successes / Σ trials over
    the last ``recent`` periods) and alerts when its successes are fewer than the lower quantile
    of binomial(n_recent, p̄): P(X ≤ x) < ``TAIL``. No judgement when the baseline has fewer than
    ``min_baseline`` trials, when the recent window has no trials, or when the baseline is 100%
    (no spread to set limits from: any single miss would alert).
    """
    _check_counts(periods)
    baseline, window = _split(periods, recent)
    base_trials = sum(trials for _, _, trials in baseline)
    if base_trials < min_baseline or base_trials == 0:
        return ChartResult([], None, f"{metric}基线只有 {base_trials} 个样本(少于 {min_baseline} 个),暂不判断")
    centre = sum(successes for _, successes, _ in baseline) / base_trials
    if centre >= 1.0:
        return ChartResult([], None, f"{metric}基线为 100%,没有波动可据以设定控制限,暂不判断")

    points = [
        ChartPoint(label, successes / trials, centre, *_p_limits(centre, trials))
        for label, successes, trials in periods
        if trials > 0
    ]
    recent_trials = sum(trials for _, _, trials in window)
    if recent_trials == 0:
        return ChartResult(points, None, f"{metric}近 {recent} 天没有数据,暂不判断")
    recent_share = sum(successes for _, successes, _ in window) / recent_trials
    lcl = _p_limits(centre, recent_trials)[0]
    if recent_share >= lcl:
        return ChartResult(points, None, None)
    message = (
        f"{metric}近 {recent} 天 {_percent(recent_share)},低于控制下限 {_percent(max(0.0, lcl))}"
        f"(基线 {_percent(centre)})"
    )
    return ChartResult(points, Alert(metric, message), None)


# ---------------------------------------------------------------------------------------------
# EWMA chart


def _check_values(periods: Sequence[tuple[str, Sequence[float]]]) -> None:
    for label, values in periods:
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"{label}:分数应为有限的数值")


def ewma_chart(
    metric: str,
    periods: Sequence[tuple[str, Sequence[float]]],
    *,
    recent: int = 7,
    lam: float = 0.2,
    width: float = 3.0,
    min_baseline: int = 10,
) -> ChartResult:
    """EWMA chart of period means over ``(label, values of that period)`` periods
    (Montgomery, *Introduction to Statistical Quality Control*, §9.2).

    Baseline (all but the last ``recent`` periods): μ0 = the mean of all its individual values,
    σ = the sample standard deviation of those individual values (not of the period means). This
    treats every value as independent with one common σ; if days differ systematically from each
    other, the limits come out too tight.

    Over every period with values, t = 1, 2, …: x_t = the period's mean of n_t values,
    z_t = λ·x_t + (1−λ)·z_{t−1} with z_0 = μ0, and limits μ0 ± L·sqrt(v_t) where
    v_t = (1−λ)²·v_{t−1} + λ²·σ²/n_t, v_0 = 0 — the exact variance of z_t when x_t has variance
    σ²/n_t. With a constant n this is Montgomery's σ_x̄²·λ/(2−λ)·(1−(1−λ)^{2t}), σ_x̄ = σ/sqrt(n);
    a period with fewer values simply widens the limits a little more.

    Alerts when some z_t of the recent window is below its lower limit; the message names the
    latest such period. No judgement when the baseline has fewer than ``min_baseline`` values
    (at least 2), when its values do not vary, or when the recent window has no values.
    """
    if not 0 < lam <= 1:
        raise ValueError("平滑系数 λ 应在 0 与 1 之间")
    if width <= 0:
        raise ValueError("控制限宽度 L 应为正数")
    _check_values(periods)
    baseline, window = _split(periods, recent)
    base_values = [v for _, values in baseline for v in values]
    if len(base_values) < max(min_baseline, 2):
        return ChartResult(
            [], None, f"{metric}基线只有 {len(base_values)} 个分数(少于 {max(min_baseline, 2)} 个),暂不判断"
        )
    centre, sigma = fmean(base_values), stdev(base_values)
    if sigma == 0:
        return ChartResult([], None, f"{metric}基线分数没有波动,无法设定控制限,暂不判断")

    points = _ewma_points(periods, centre, sigma, lam, width)
    recent_count = sum(1 for _, values in window if values)
    if recent_count == 0:
        return ChartResult(points, None, f"{metric}近 {recent} 天没有数据,暂不判断")
    # Points follow the periods in order, so the recent window's points are the last ones.
    recent_points = points[len(points) - recent_count :]
    below = [p for p in recent_points if p.smoothed is not None and p.smoothed < p.lower]
    if not below:
        return ChartResult(points, None, None)
    last = below[-1]
    assert last.smoothed is not None
    message = (
        f"{metric}近 {recent} 天走低:{last.label} 的平滑值 {_score(last.smoothed)},"
        f"低于控制下限 {_score(last.lower)}(基线 {_score(centre)})"
    )
    return ChartResult(points, Alert(metric, message), None)


def _ewma_points(
    periods: Sequence[tuple[str, Sequence[float]]], centre: float, sigma: float, lam: float, width: float
) -> list[ChartPoint]:
    points: list[ChartPoint] = []
    smoothed, variance = centre, 0.0
    for label, values in periods:
        if not values:
            continue
        mean = fmean(values)
        smoothed = lam * mean + (1 - lam) * smoothed
        variance = (1 - lam) ** 2 * variance + lam**2 * sigma**2 / len(values)
        half = width * math.sqrt(variance)
        points.append(ChartPoint(label, mean, centre, centre - half, centre + half, smoothed))
    return points
