"""月度之星, 季度优秀员工 and 专项辅导 (seed 004), from the month's evaluations: the minimum
volume, the pull toward the team mean, the coaching rule."""

from __future__ import annotations

import pytest

from kefu.performance.awards import Entry, coaching_reason, quarter_candidates, star_candidates


def test_three_perfect_calls_do_not_make_a_star() -> None:
    team = [
        Entry("1", "新人", "一组", 100.0, 3),  # three calls, all perfect
        Entry("2", "老将", "一组", 92.0, 600),
        Entry("3", "稳定", "一组", 88.0, 500),
        Entry("4", "刚达标", "二组", 95.0, 100),
    ]
    ranked = star_candidates(team)
    assert [c.agent for c in ranked] == ["4", "2", "3"]  # 新人 is below the minimum volume
    # Pulled toward the team mean by (n·total + 50·mean) / (n + 50):
    # 一组 mean (100 + 92 + 88) / 3 = 93.33 → 老将 (600·92 + 50·93.33) / 650 = 92.10;
    # 二组 mean 95 → 刚达标 stays 95; 稳定 (500·88 + 50·93.33) / 550 = 88.48.
    assert ranked[0].adjusted == pytest.approx(95.0) and ranked[0].total == 95.0
    assert ranked[1].adjusted == pytest.approx(92.10, abs=0.01)
    assert ranked[2].adjusted == pytest.approx(88.48, abs=0.01)
    # Would the minimum be lowered, the three-call newcomer still ranks by a total near the mean.
    low = star_candidates(team, min_calls=1)
    newcomer = next(c for c in low if c.agent == "1")
    assert newcomer.adjusted == pytest.approx((3 * 100 + 50 * 93.333) / 53, abs=0.01)
    assert newcomer.adjusted < 94


def test_a_quarter_needs_every_month_and_weighs_by_calls() -> None:
    months = [
        [Entry("1", "甲", "一组", 90.0, 400), Entry("2", "乙", "一组", 95.0, 400)],
        [Entry("1", "甲", "一组", 80.0, 200), Entry("2", "乙", "一组", 95.0, 50)],  # 乙: too few in May
        [Entry("1", "甲", "一组", 90.0, 400), Entry("2", "乙", "一组", 95.0, 400)],
    ]
    ranked = quarter_candidates(months)
    assert [c.agent for c in ranked] == ["1"]
    assert ranked[0].total == pytest.approx((90 * 400 + 80 * 200 + 90 * 400) / 1000)
    assert ranked[0].calls == 1000


@pytest.mark.parametrize(
    ("grades", "flagged"),
    [
        (("B", "D"), True),
        (("C", "C"), True),
        (("D", "C"), True),
        (("B", "C"), False),
        (("A", "B"), False),
        ((None, "C"), False),
    ],
)
def test_coaching_for_a_d_month_or_two_poor_months(grades: tuple[str | None, str], flagged: bool) -> None:
    previous = Entry("1", "甲", "一组", 65.0, 300, grades[0]) if grades[0] else None
    reason = coaching_reason(Entry("1", "甲", "一组", 58.0, 300, grades[1]), previous)
    assert (reason is not None) is flagged
    if grades == ("C", "C"):
        assert reason == "连续两个月等级 C、C(总分 65、58)"
