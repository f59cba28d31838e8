"""Human review of a scorecard: verdicts on rule findings, manual findings, the inspector's score
kept apart from the machine's, the call's final score after completion, a frozen completed review,
only the assigned inspector (or a supervisor) at work; agreement per rule — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from conftest import reader
from kefu.calls import service as calls
from kefu.core import audit
from kefu.core.db import transaction
from kefu.core.errors import Conflict, Forbidden, Invalid
from kefu.quality import review as reviews
from kefu.quality import service as quality
from kefu.quality.models import CalibrationSession, FindingReview, ReviewStatus
from test_quality_sampling import MONDAY, make_call, make_people

# The rude call (see test_quality_sampling): machine score 90 on categories 开场与结束 18/20,
# 服务态度 27/30, 业务处理 30/30, 语言表达 15/20; findings greeting_variant −2, dead_air −3,
# forbidden_phrase −1 (turn 2, span 8–11 「等一下」), negative_wording −1, speech_rate −3.


def finding_id(session: Any, call_id: int, rule: str) -> int:
    inspection = quality.current_inspection(session, call_id)
    assert inspection is not None
    return next(f.id for f in inspection.findings if f.rule == rule)


@pytest.fixture
def people(sessions) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return make_people(sessions)


@pytest.fixture
def rude(sessions, people) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        call_id = make_call(session, people["a"], MONDAY, rude=True)
        review = reviews.create_review(session, call_id, people["q1"].id)
        return {"call": call_id, "review": review.id}


def test_verdicts_and_a_manual_finding_give_the_inspector_score_apart_from_the_machine(sessions, people, rude) -> None:  # type: ignore[no-untyped-def]
    q1 = people["q1"].id
    with transaction(sessions) as session:
        forbidden = finding_id(session, rude["call"], "forbidden_phrase")
        dead_air = finding_id(session, rude["call"], "dead_air")
        reviews.do_judge_finding(session, q1, rude["review"], forbidden, "confirmed")
        reviews.do_judge_finding(session, q1, rude["review"], dead_air, "overturned", "客户在查资料,不算冷场")
        manual = reviews.do_add_manual_finding(
            session, q1, rude["review"], category="attitude", deduction=5, message="语气生硬", turn=2
        )
        assert manual.manual and manual.review_id == rude["review"] and manual.speaker == "agent"
        review = reviews.get_review(session, rude["review"])
        preview = reviews.review_score(review)
        # 服务态度: 30 − 5 (manual), dead_air (−3) overturned → 25; others as the machine: 18 + 30 + 15.
        assert preview.categories == {"opening_closing": 18, "attitude": 25, "business": 30, "language": 15}
        assert preview.total == 88
        view = reviews.review_view(session, review, reader())
        turn = view.turns[2]
        marked = next(f for f in turn.findings if f.rule == "forbidden_phrase")
        assert marked.marked == ["这个我不知道,你", "等一下", "。"] and marked.verdict == "confirmed"
        assert [f.message for f in view.manual_findings] == ["语气生硬"]
    with sessions() as session:  # nothing on the call yet: the review is open
        assert calls.get_call(session, rude["call"]).qa_score == 90
    with transaction(sessions) as session:
        done = reviews.do_complete_review(session, q1, rude["review"], comment="整体尚可", version=review.version)
        assert done.status == ReviewStatus.DONE and done.manual_score == 88
    with sessions() as session:
        inspection = quality.current_inspection(session, rude["call"])
        assert inspection is not None
        assert inspection.machine_score == 90  # the machine's score is kept
        assert inspection.final_score == 88 and calls.get_call(session, rude["call"]).qa_score == 88
        by_rule = {f.rule: f for f in inspection.findings}
        assert by_rule["dead_air"].review == FindingReview.OVERTURNED
        assert by_rule["dead_air"].review_note == "客户在查资料,不算冷场"
        assert by_rule["forbidden_phrase"].review == FindingReview.CONFIRMED
        assert by_rule["speech_rate"].review == FindingReview.CONFIRMED  # unjudged: taken as confirmed
        assert by_rule["dead_air"].reviewed_by == q1
        actions = [e.action for e in reversed(audit.entries(session, entity="review"))]
        assert actions == ["create", "judge", "judge", "add_finding", "complete"]


def test_a_completed_review_is_frozen(sessions, people, rude) -> None:  # type: ignore[no-untyped-def]
    q1 = people["q1"].id
    with transaction(sessions) as session:
        reviews.do_complete_review(session, q1, rude["review"])
        forbidden = finding_id(session, rude["call"], "forbidden_phrase")
    attempts = [
        lambda s: reviews.do_judge_finding(s, q1, rude["review"], forbidden, "overturned"),
        lambda s: reviews.do_add_manual_finding(s, q1, rude["review"], category="attitude", deduction=1, message="x"),
        lambda s: reviews.do_complete_review(s, q1, rude["review"]),
    ]
    for attempt in attempts:
        with transaction(sessions) as session, pytest.raises(Conflict, match="已完成"):
            attempt(session)
    with sessions() as session:
        assert quality.current_inspection(session, rude["call"]).final_score == 90  # type: ignore[union-attr]


def test_only_the_assigned_inspector_or_a_supervisor_may_work_on_it(sessions, people, rude) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        forbidden = finding_id(session, rude["call"], "forbidden_phrase")
    for intruder in ("q2", "a"):
        with transaction(sessions) as session, pytest.raises(Forbidden, match="赵强"):
            reviews.do_judge_finding(session, people[intruder].id, rude["review"], forbidden, "overturned")
    with transaction(sessions) as session:
        reviews.do_judge_finding(session, people["boss"].id, rude["review"], forbidden, "overturned")
    with sessions() as session:
        assert reviews.get_review(session, rude["review"]).verdicts == {str(forbidden): "overturned"}


def test_bad_input_and_a_stale_version_change_nothing(sessions, people, rude) -> None:  # type: ignore[no-untyped-def]
    q1 = people["q1"].id
    with transaction(sessions) as session:
        forbidden = finding_id(session, rude["call"], "forbidden_phrase")
        other_call = make_call(session, people["b"], MONDAY)
        foreign = finding_id(session, other_call, "dead_air")
        version = reviews.get_review(session, rude["review"]).version
    bad = [
        (lambda s: reviews.do_judge_finding(s, q1, rude["review"], forbidden, "maybe"), Invalid, "确认"),
        (lambda s: reviews.do_judge_finding(s, q1, rude["review"], foreign, "confirmed"), Invalid, "不属于"),
        (
            lambda s: reviews.do_add_manual_finding(s, q1, rude["review"], category="nope", deduction=2, message="x"),
            Invalid,
            "类别",
        ),
        (
            lambda s: reviews.do_add_manual_finding(
                s, q1, rude["review"], category="attitude", deduction=-1, message="x"
            ),
            Invalid,
            "扣分",
        ),
        (
            lambda s: reviews.do_add_manual_finding(
                s, q1, rude["review"], category="attitude", deduction=2, message=""
            ),
            Invalid,
            "说明",
        ),
        (
            lambda s: reviews.do_add_manual_finding(
                s, q1, rude["review"], category="attitude", deduction=2, message="x", turn=99
            ),
            Invalid,
            "第 100 句不存在",
        ),
        (lambda s: reviews.do_complete_review(s, q1, rude["review"], version=version + 5), Conflict, "刷新"),
        (lambda s: reviews.create_review(s, rude["call"], people["q2"].id), Conflict, "已在复核中"),
        (lambda s: reviews.create_review(s, other_call, people["a"].id), Invalid, "质检人员"),
    ]
    for attempt, error, message in bad:
        with transaction(sessions) as session, pytest.raises(error, match=message):
            attempt(session)
    with sessions() as session:
        review = reviews.get_review(session, rude["review"])
        assert review.status == ReviewStatus.OPEN and review.verdicts == {} and review.manual_findings == []
        assert [e.action for e in audit.entries(session, entity="review")] == ["create"]


def test_a_calibration_review_changes_nothing_on_the_call(sessions, people, rude) -> None:  # type: ignore[no-untyped-def]
    q2 = people["q2"].id
    with transaction(sessions) as session:
        calibration = CalibrationSession(
            name="十一月校准", reference_id=q2, inspector_ids=[q2], call_ids=[rude["call"]]
        )
        session.add(calibration)
        session.flush()
        review = reviews.create_review(session, rude["call"], q2, calibration_id=calibration.id)
        dead_air = finding_id(session, rude["call"], "dead_air")
        reviews.do_judge_finding(session, q2, review.id, dead_air, "overturned")
        done = reviews.do_complete_review(session, q2, review.id)
        assert done.manual_score == 93
    with sessions() as session:
        inspection = quality.current_inspection(session, rude["call"])
        assert inspection is not None and inspection.final_score == 90
        assert all(f.review == FindingReview.PENDING for f in inspection.findings)


def test_my_reviews_lists_open_tasks_first(sessions, people, rude) -> None:  # type: ignore[no-untyped-def]
    q1 = people["q1"].id
    with transaction(sessions) as session:
        reviews.do_complete_review(session, q1, rude["review"])
        later = reviews.create_review(session, make_call(session, people["b"], MONDAY + timedelta(days=1)), q1)
    with sessions() as session:
        assert [r.id for r in reviews.my_reviews(session, q1)] == [later.id, rude["review"]]
        assert [r.id for r in reviews.my_reviews(session, q1, "done")] == [rude["review"]]
        assert reviews.my_reviews(session, people["q2"].id) == []


def test_agreement_per_rule_on_a_hand_made_case(sessions, people) -> None:  # type: ignore[no-untyped-def]
    """Three reviewed rude calls: forbidden_phrase confirmed twice, overturned once (2/3);
    negative_wording overturned twice, confirmed once (1/3); dead_air always confirmed (3/3).
    A calibration review overturning everything does not count."""
    q1, q2 = people["q1"].id, people["q2"].id
    plan = [
        {"forbidden_phrase": "confirmed", "negative_wording": "overturned"},
        {"forbidden_phrase": "confirmed", "negative_wording": "overturned"},
        {"forbidden_phrase": "overturned", "negative_wording": "confirmed"},
    ]
    with transaction(sessions) as session:
        call_ids = [make_call(session, people["a"], MONDAY, minute=n, rude=True) for n in range(3)]
        for call_id, verdicts in zip(call_ids, plan, strict=True):
            review = reviews.create_review(session, call_id, q1)
            for rule, verdict in verdicts.items():
                reviews.do_judge_finding(session, q1, review.id, finding_id(session, call_id, rule), verdict)
            reviews.do_judge_finding(session, q1, review.id, finding_id(session, call_id, "dead_air"), "confirmed")
            reviews.do_complete_review(session, q1, review.id)
        calibration = CalibrationSession(name="校准", reference_id=q2, inspector_ids=[q2], call_ids=call_ids[:1])
        session.add(calibration)
        session.flush()
        noise = reviews.create_review(session, call_ids[0], q2, calibration_id=calibration.id)
        for rule in ("forbidden_phrase", "negative_wording", "dead_air"):
            reviews.do_judge_finding(session, q2, noise.id, finding_id(session, call_ids[0], rule), "overturned")
        reviews.do_complete_review(session, q2, noise.id)
        reviews.create_review(session, make_call(session, people["b"], MONDAY, rude=True), q1)  # open: not counted
    with sessions() as session:
        rows = {r.rule: r for r in reviews.agreement(session)}
        order = [r.rule for r in reviews.agreement(session)]
    assert (rows["negative_wording"].confirmed, rows["negative_wording"].overturned) == (1, 2)
    assert rows["negative_wording"].precision == pytest.approx(1 / 3)
    assert (rows["forbidden_phrase"].confirmed, rows["forbidden_phrase"].overturned) == (2, 1)
    assert rows["forbidden_phrase"].precision == pytest.approx(2 / 3)
    assert rows["dead_air"].precision == 1.0 and rows["dead_air"].judged == 3
    # unjudged findings were confirmed on completion: greeting_variant and speech_rate 3/3 too
    assert order[:2] == ["negative_wording", "forbidden_phrase"]
    assert set(order[2:]) == {"dead_air", "greeting_variant", "speech_rate"}
