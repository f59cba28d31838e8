"""Control-chart alerts: a planted drop is flagged, pure noise rarely is, and the limits match
small cases computed by hand."""

from __future__ import annotations

import random

import pytest

from kefu.performance.alerts import ChartPoint, ewma_chart, p_chart


def csat_days(rng: random.Random, days: int, p: float, answers: int = 20, start: int = 0) -> list[tuple[str, int, int]]:
    return [(f"d{start + d}", sum(rng.random() < p for _ in range(answers)), answers) for d in range(days)]


def qa_days(
    rng: random.Random, days: int, mean: float, sd: float = 6.0, calls: int = 5, start: int = 0
) -> list[tuple[str, list[float]]]:
    return [(f"d{start + d}", [rng.gauss(mean, sd) for _ in range(calls)]) for d in range(days)]


# --- p-chart -----------------------------------------------------------------------------------


def test_p_chart_flags_planted_drop() -> None:
    rng = random.Random(1)
    periods = csat_days(rng, 35, 0.85) + csat_days(rng, 7, 0.60, start=35)
    result = p_chart("满意度", periods)
    assert result.reason is None
    assert result.alert is not None
    assert result.alert.metric == "满意度"
    assert result.alert.message.startswith("满意度近 7 天 ")
    assert "低于控制下限" in result.alert.message
    assert len(result.points) == 42


def test_p_chart_noise_rarely_alerts() -> None:
    # 200 series of 42 days at p = 0.85 throughout, and 200 at p = 0.95, where satisfaction
    # usually sits and where limits from the normal approximation alarm about one series in forty:
    # 4 and 2 false alarms with these seeds (the baseline's own estimation error keeps the rate
    # above the nominal 0.13%).
    for p, first_seed in ((0.85, 1000), (0.95, 3000)):
        alarms = sum(
            p_chart("满意度", csat_days(random.Random(first_seed + seed), 42, p)).alert is not None
            for seed in range(200)
        )
        assert alarms <= 5


def test_p_chart_hand_computed() -> None:
    # Baseline 40/50 and 45/50: p̄ = 85/100 = 0.85.
    # Recent (recent=2) 10/20 and 12/20, pooled 22/40 = 0.55.
    # Probability limits of binomial(40, 0.85): P(X ≤ 25) = 0.000413 < 0.00135 ≤ P(X ≤ 26) = 0.001403,
    # so the lower limit is 26/40 = 65.0% (the normal approximation would say 68.1%) → alert.
    periods = [("d1", 40, 50), ("d2", 45, 50), ("d3", 10, 20), ("d4", 12, 20)]
    result = p_chart("满意度", periods, recent=2, min_baseline=30)
    assert result.alert is not None
    assert result.alert.message == "满意度近 2 天 55.0%,低于控制下限 65.0%(基线 85.0%)"
    d1, _, d3, _ = result.points
    # n = 50: P(X ≤ 33) = 0.000661, P(X ≤ 34) = 0.00195; P(X = 50) = 0.000296 → [34/50, 49/50].
    assert d1 == ChartPoint("d1", 0.8, 0.85, pytest.approx(0.68), pytest.approx(0.98))
    # n = 20: P(X ≤ 11) = 0.001329, P(X ≤ 12) = 0.00592; P(X = 20) = 0.0388 → [12/20, 20/20].
    assert d3 == ChartPoint("d3", 0.5, 0.85, pytest.approx(0.6), 1.0)
    assert all(p.centre == pytest.approx(0.85) and p.smoothed is None for p in result.points)


def test_p_chart_recent_share_at_lcl_does_not_alert() -> None:
    # Same baseline; recent 17/20 twice = 0.85, the centre itself.
    periods = [("d1", 40, 50), ("d2", 45, 50), ("d3", 17, 20), ("d4", 17, 20)]
    result = p_chart("满意度", periods, recent=2)
    assert result.alert is None and result.reason is None


def test_p_chart_rise_does_not_alert() -> None:
    rng = random.Random(2)
    periods = csat_days(rng, 35, 0.70) + csat_days(rng, 7, 0.98, start=35)
    assert p_chart("满意度", periods).alert is None


def test_p_chart_too_little_baseline() -> None:
    periods = [("d1", 9, 10), ("d2", 8, 10), ("d3", 2, 10)]
    result = p_chart("满意度", periods, recent=1)
    assert result.alert is None
    assert result.points == []
    assert result.reason == "满意度基线只有 20 个样本(少于 30 个),暂不判断"
    # Fewer periods than the recent window: no baseline at all.
    assert p_chart("准确率", [("d1", 5, 10)]).reason == "准确率基线只有 0 个样本(少于 30 个),暂不判断"


def test_p_chart_skips_days_without_trials() -> None:
    periods = [("d1", 40, 50), ("d2", 0, 0), ("d3", 45, 50), ("d4", 0, 0), ("d5", 10, 20), ("d6", 12, 20)]
    result = p_chart("满意度", periods, recent=3)
    assert [p.label for p in result.points] == ["d1", "d3", "d5", "d6"]
    # Same figures as the hand-computed case: the empty days change nothing.
    assert result.alert is not None
    assert result.alert.message == "满意度近 3 天 55.0%,低于控制下限 65.0%(基线 85.0%)"


def test_p_chart_recent_window_without_trials() -> None:
    periods = [("d1", 40, 50), ("d2", 45, 50), ("d3", 0, 0), ("d4", 0, 0)]
    result = p_chart("满意度", periods, recent=2)
    assert result.alert is None
    assert result.reason == "满意度近 2 天没有数据,暂不判断"
    assert [p.label for p in result.points] == ["d1", "d2"]


def test_p_chart_perfect_baseline_gives_reason() -> None:
    result = p_chart("准确率", [("d1", 50, 50), ("d2", 10, 20)], recent=1)
    assert result.alert is None and result.reason is not None and "100%" in result.reason


def test_p_chart_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        p_chart("满意度", [("d1", 11, 10)])


# --- EWMA chart --------------------------------------------------------------------------------


def test_ewma_flags_planted_drop() -> None:
    rng = random.Random(3)
    periods = qa_days(rng, 35, 88.0) + qa_days(rng, 7, 76.0, start=35)
    result = ewma_chart("质检得分", periods)
    assert result.reason is None
    assert result.alert is not None
    assert result.alert.message.startswith("质检得分近 7 天走低:")
    assert "低于控制下限" in result.alert.message and result.alert.message.endswith("分)")
    assert len(result.points) == 42
    assert all(p.smoothed is not None for p in result.points)


def test_ewma_noise_rarely_alerts() -> None:
    # 200 series of 42 days at mean 88, sd 6, 5 calls a day: the implementation gives 2 false
    # alarms with these seeds (0.7% over 2000 other seeds; the baseline's own estimation error puts
    # it above the chart's nominal rate for 7 recent points).
    alarms = sum(
        ewma_chart("质检得分", qa_days(random.Random(5000 + seed), 42, 88.0)).alert is not None for seed in range(200)
    )
    assert alarms <= 5


def test_ewma_rise_does_not_alert() -> None:
    rng = random.Random(4)
    periods = qa_days(rng, 35, 76.0) + qa_days(rng, 7, 95.0, start=35)
    assert ewma_chart("质检得分", periods).alert is None


# Baseline: six values with mean 85, deviations 10, 0, −10, 0, 5, −5 → Σd² = 250, σ² = 250/5 = 50;
# two values a period, so σ_x̄ = sqrt(50/2) = 5. Period means 90, 80, 85.
HAND_BASELINE = [("a", [95.0, 85.0]), ("b", [75.0, 85.0]), ("c", [90.0, 80.0])]


def test_ewma_hand_computed_first_values_and_limits() -> None:
    result = ewma_chart("质检得分", [*HAND_BASELINE, ("d", [60.0, 60.0])], recent=1, min_baseline=6)
    a, b, c, d = result.points
    # z1 = 0.2·90 + 0.8·85 = 86; half-width 3·5·sqrt(0.2/1.8·(1 − 0.8²)) = 3·5·0.2 = 3.
    assert (a.value, a.centre) == (90.0, 85.0)
    assert a.smoothed == pytest.approx(86.0)
    assert (a.lower, a.upper) == (pytest.approx(82.0), pytest.approx(88.0))
    # z2 = 0.2·80 + 0.8·86 = 84.8; half-width 3·5·sqrt(0.2/1.8·(1 − 0.8⁴)) = 15·0.2561250 = 3.841875.
    assert b.smoothed == pytest.approx(84.8)
    assert (b.lower, b.upper) == (pytest.approx(81.158125), pytest.approx(88.841875))
    assert c.smoothed == pytest.approx(84.84)  # 0.2·85 + 0.8·84.8
    # z4 = 0.2·60 + 0.8·84.84 = 79.872; half-width 15·sqrt(0.2/1.8·(1 − 0.8⁸)) = 4.561316.
    assert d.smoothed == pytest.approx(79.872)
    assert d.lower == pytest.approx(80.438684)
    assert result.alert is not None
    assert result.alert.message == "质检得分近 1 天走低:d 的平滑值 79.9 分,低于控制下限 80.4 分(基线 85.0 分)"


def test_ewma_fewer_values_widen_limits() -> None:
    # Same as above but the last period has one value (mean 60): its variance term is σ²/1 = 50,
    # v4 = 0.64·2.0496 + 0.04·50 = 3.311744, half-width 3·sqrt(3.311744) = 5.459465 → lower 79.540535,
    # so z4 = 79.872 stays inside.
    result = ewma_chart("质检得分", [*HAND_BASELINE, ("d", [60.0])], recent=1, min_baseline=6)
    assert result.points[-1].lower == pytest.approx(79.540535)
    assert result.alert is None and result.reason is None


def test_ewma_too_little_baseline() -> None:
    result = ewma_chart("质检得分", [*HAND_BASELINE, ("d", [60.0, 60.0])], recent=1)
    assert result.alert is None
    assert result.points == []
    assert result.reason == "质检得分基线只有 6 个分数(少于 10 个),暂不判断"


def test_ewma_skips_days_without_values() -> None:
    periods = [HAND_BASELINE[0], ("x", []), *HAND_BASELINE[1:], ("y", []), ("d", [60.0, 60.0])]
    result = ewma_chart("质检得分", periods, recent=2, min_baseline=6)
    assert [p.label for p in result.points] == ["a", "b", "c", "d"]
    assert result.points[-1].smoothed == pytest.approx(79.872)
    assert result.alert is not None


def test_ewma_recent_window_without_values() -> None:
    result = ewma_chart("质检得分", [*HAND_BASELINE, ("d", [])], recent=1, min_baseline=6)
    assert result.alert is None
    assert result.reason == "质检得分近 1 天没有数据,暂不判断"
    assert len(result.points) == 3


def test_ewma_flat_baseline_gives_reason() -> None:
    periods = [(f"d{i}", [100.0, 100.0]) for i in range(6)] + [("d6", [80.0])]
    result = ewma_chart("质检得分", periods, recent=1)
    assert result.alert is None and result.reason is not None and "没有波动" in result.reason
