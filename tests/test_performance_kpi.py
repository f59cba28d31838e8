"""The KPI definitions and the monthly grade, each against a small case computed by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kefu.performance.evaluation import EvaluationPolicy, Scale, evaluate
from kefu.performance.kpi import (
    AbandonMode,
    AbandonPolicy,
    CallFact,
    abandonment_rate,
    average_handling_time,
    average_speed_of_answer,
    csat,
    first_contact_resolution,
    is_satisfied,
    service_level,
)

T0 = datetime(2026, 11, 23, 9, 0)


def offered(n: int, wait: float, answered: bool = True, talk: float = 120.0, **fields: object) -> CallFact:
    ring = T0 + timedelta(minutes=n)
    if answered:
        answer = ring + timedelta(seconds=wait)
        return CallFact(f"c{n}", ring, answer, answer + timedelta(seconds=talk), **fields)  # type: ignore[arg-type]
    return CallFact(f"c{n}", ring, None, ring + timedelta(seconds=wait), **fields)  # type: ignore[arg-type]


# Ten offered calls: six answered within 20 s, two answered late, one abandoned after 3 s
# (a short abandon), one abandoned after 40 s.
QUEUE = [
    *(offered(i, wait) for i, wait in enumerate([2, 5, 8, 12, 19, 20])),
    offered(6, 21),
    offered(7, 45),
    offered(8, 3, answered=False),
    offered(9, 40, answered=False),
]


def test_service_level_counts_abandoned_calls_as_the_policy_says() -> None:
    # 20.0 s exactly is within; 21 s is not.
    failures = service_level(QUEUE, policy=AbandonPolicy(AbandonMode.FAILURES))
    assert (failures.numerator, failures.denominator) == (6, 10) and failures.value == 0.6
    ignored = service_level(QUEUE, policy=AbandonPolicy(AbandonMode.IGNORED))
    assert (ignored.numerator, ignored.denominator) == (6, 8)
    short = service_level(QUEUE)  # the default: abandons under 5 s are left out
    assert (short.numerator, short.denominator) == (6, 9)
    assert "5 秒内挂断的不计入" in AbandonPolicy().describe()
    assert service_level([]).value is None  # nothing offered: no figure, not 0 %


def test_abandonment_asa_and_handling_time() -> None:
    every = abandonment_rate(QUEUE, AbandonPolicy(AbandonMode.FAILURES))
    assert (every.numerator, every.denominator) == (2, 10)
    without_short = abandonment_rate(QUEUE)
    assert (without_short.numerator, without_short.denominator) == (1, 9)
    asa = average_speed_of_answer(QUEUE)
    assert asa.count == 8 and asa.value == pytest.approx((2 + 5 + 8 + 12 + 19 + 20 + 21 + 45) / 8)
    calls = [
        offered(1, 5, talk=100, hold_seconds=20, wrap_seconds=30),  # 150
        offered(2, 5, talk=200),  # 200, no after-call work reported
        offered(3, 30, answered=False),  # never answered: no handling time
    ]
    aht = average_handling_time(calls)
    assert aht.count == 2 and aht.value == 175


def test_first_contact_resolution_follows_the_customer_and_the_reason() -> None:
    calls = [
        offered(0, 5, customer="A", reason="bill"),
        # A calls again about the bill 3 days later: the first contact did not resolve it.
        CallFact("again", T0 + timedelta(days=3), T0 + timedelta(days=3, seconds=5), None, customer="A", reason="bill"),
        offered(1, 5, customer="B", reason="bill"),
        # B calls 8 days later: outside the 7 days, the first one counts as resolved.
        CallFact("late", T0 + timedelta(days=8), T0 + timedelta(days=8, seconds=5), None, customer="B", reason="bill"),
        offered(2, 5, customer="C", reason="bill"),
        offered(3, 5, customer="C", reason="plan"),  # another reason: not a repeat
        offered(4, 5),  # anonymous: cannot be followed, not counted
    ]
    fcr = first_contact_resolution(calls)
    # Counted: A(no), again(yes), B(yes), late(yes), C bill(yes), C plan(yes) → 5 of 6.
    assert (fcr.numerator, fcr.denominator) == (5, 6)
    assert first_contact_resolution(calls, days=10).numerator == 4  # B's call back now falls inside


def test_csat_reads_scores_and_words() -> None:
    assert [is_satisfied(a) for a in (5, 4, 3, "满意", "一般", "不满意", "滿意", "2", "很好", 9)] == [
        True, True, False, True, False, False, True, False, None, None,
    ]  # fmt: skip
    ratio = csat([5, 4, 3, "满意", "不满意", "很好"])
    assert (ratio.numerator, ratio.denominator) == (3, 5)


def test_the_monthly_grade_from_the_seed_weights() -> None:
    # quality 92 → 92; satisfaction 0.88 → (0.88-0.6)/0.35 = 80; handling 240 s → (480-240)/300 = 80;
    # accuracy 0.98 → 80; sales 0.10 → 50. Total 0.3·92 + 0.25·80 + 0.2·80 + 0.15·80 + 0.1·50 = 80.6
    month = evaluate({"quality": 92, "satisfaction": 0.88, "efficiency": 240, "accuracy": 0.98, "sales": 0.10})
    assert month.total == pytest.approx(80.6) and (month.grade, month.grade_label) == ("B+", "良好")
    assert [p.dimension.label for p in month.parts] == ["通话质量", "客户满意度", "工作效率", "业务准确率", "销售业绩"]
    assert [p.score for p in month.parts] == [92, 80, 80, 80, 50]
    # No sales offered: left out, the other weights scaled to 100 % (0.3+0.25+0.2+0.15 = 0.9).
    no_sales = evaluate({"quality": 92, "satisfaction": 0.88, "efficiency": 240, "accuracy": 0.98})
    assert no_sales.missing == ["销售业绩"] and no_sales.total == pytest.approx((27.6 + 20 + 16 + 12) / 0.9, abs=0.01)
    assert evaluate({}).total is None and evaluate({}).grade is None


BOUNDARIES = [(100, "A"), (90, "A"), (89.99, "B+"), (80, "B+"), (79.99, "B"), (70, "B"), (60, "C"), (59.9, "D")]


@pytest.mark.parametrize(("total", "grade"), BOUNDARIES)
def test_grade_boundaries(total: float, grade: str) -> None:
    assert EvaluationPolicy().grade(total)[0] == grade


def test_scales_clamp_and_run_either_way() -> None:
    assert Scale(480, 180).score(120) == 100 and Scale(480, 180).score(600) == 0 and Scale(480, 180).score(330) == 50
    assert Scale(0.6, 0.95).score(0.5) == 0


def test_a_centre_sets_its_own_scales_weights_and_grades(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kefu.performance.evaluation import current_policy, load_policy, use_policy

    path = tmp_path / "evaluation.yaml"
    path.write_text(
        "dimensions:\n"
        "  efficiency: {worst: 600, best: 300}\n"
        "  quality: {weight: 0.40}\n"
        "  sales: {weight: 0.0}\n"
        "grades:\n"
        "  - {grade: 优, label: 优秀, min: 85}\n"
        "  - {grade: 良, label: 良好, min: 70}\n"
        "  - {grade: 差, label: 待改进, min: 0}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("KEFU_EVALUATION", str(path))
    use_policy(None)
    try:
        policy = current_policy()
        # 450 s is halfway on the centre's 600 → 300 s scale; sales weigh nothing now.
        result = evaluate({"quality": 80, "satisfaction": 0.95, "efficiency": 450, "accuracy": 1.0, "sales": 0.0})
        parts = {p.dimension.key: p for p in result.parts}
        assert parts["efficiency"].score == 50 and parts["quality"].weight == pytest.approx(0.40)
        assert result.total == pytest.approx(0.40 * 80 + 0.25 * 100 + 0.20 * 50 + 0.15 * 100)
        assert (result.grade, result.grade_label) == ("良", "良好")  # 82 on the centre's grades
        assert policy.grade(69.9) == ("差", "待改进")
    finally:
        use_policy(None)
        monkeypatch.delenv("KEFU_EVALUATION")
        use_policy(None)
    assert current_policy().grade(90) == ("A", "优秀")

    path.write_text("dimensions:\n  quality: {weight: 0.5}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"各维度权重合计应为 100%,现在是 120\.0%"):
        load_policy(path)
    path.write_text("dimensions:\n  speed: {weight: 0.5}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="未知的考核维度 speed"):
        load_policy(path)
    path.write_text(
        "grades:\n  - {grade: A, label: 优秀, min: 90}\n  - {grade: B, label: 良好, min: 95}\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="等级应按最低分从高到低排列"):
        load_policy(path)
