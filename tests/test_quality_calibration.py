"""Calibration (校准): several inspectors score the same calls; each is compared with the reference
inspector (total and per category) and with each other — exact figures on a hand-made case, the
same figures from real calibration reviews (SQLite and PostgreSQL), refusals, the API and page."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from conftest import RUDE_TURNS as RUDE
from conftest import AppFactory, call_at_nine, client_for
from kefu.accounts import service as accounts
from kefu.accounts.models import User
from kefu.calls import service as calls
from kefu.core import audit
from kefu.core.db import transaction
from kefu.core.errors import Invalid
from kefu.core.security import Role
from kefu.flows import intake
from kefu.quality import calibration
from kefu.quality import review as reviews
from kefu.quality import service as quality
from kefu.quality.calibration import Marks, compare
from kefu.quality.models import CalibrationSession, Inspection, InspectionStatus, Review

R, A, B, C = 1, 2, 3, 4


def test_figures_on_a_hand_made_case() -> None:
    marks = {
        R: {
            10: Marks(90, {"x": 40, "y": 50}),
            20: Marks(80, {"x": 30, "y": 50}),
            30: Marks(70, {"x": 30, "y": 40}),
        },
        A: {
            10: Marks(85, {"x": 35, "y": 50}),
            20: Marks(80, {"x": 30, "y": 50}),
            30: Marks(60, {"x": 30, "y": 30}),
        },
        B: {10: Marks(95, {"x": 40, "y": 55}), 30: Marks(75, {"x": 35, "y": 40})},  # 20 not completed
    }
    figures = compare(R, [R, A, B, C], marks, ["x", "y"])
    rows = {row.inspector_id: row for row in figures.inspectors}
    assert (rows[R].completed, rows[R].compared, rows[R].total_diff, rows[R].category_diffs) == (
        3,
        3,
        0.0,
        {"x": 0.0, "y": 0.0},
    )
    # A: |85−90|, |80−80|, |60−70| → 15/3; x: 5, 0, 0 → 5/3; y: 0, 0, 10 → 10/3
    assert (rows[A].completed, rows[A].compared, rows[A].total_diff) == (3, 3, 5.0)
    assert rows[A].category_diffs == {"x": 1.67, "y": 3.33}
    # B only over calls 10 and 30: |95−90|, |75−70| → 5; x: 0, 5; y: 5, 0
    assert (rows[B].completed, rows[B].compared, rows[B].total_diff) == (2, 2, 5.0)
    assert rows[B].category_diffs == {"x": 2.5, "y": 2.5}
    # C completed nothing: nothing to compare
    assert (rows[C].completed, rows[C].compared, rows[C].total_diff) == (0, 0, None)
    assert rows[C].category_diffs == {"x": None, "y": None}
    assert figures.matrix[A][B] == figures.matrix[B][A] == 12.5  # |85−95|, |60−75| over 10 and 30
    assert figures.matrix[R][A] == figures.matrix[R][B] == 5.0
    assert [figures.matrix[i][i] for i in (R, A, B, C)] == [0.0, 0.0, 0.0, None]
    assert figures.matrix[A][C] is None




@pytest.fixture
def world(sessions) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        people = [
            ("agent", "12345", Role.AGENT),
            ("ref", "32345", Role.QA),
            ("qa2", "32346", Role.QA),
            ("boss", "52345", Role.SUPERVISOR),
        ]
        ids = {
            key: accounts.do_create_user(
                session, None, agent_no=no, name=f"用户{no}", role=role, password="kefu2026"
            ).id
            for key, no, role in people
        }
        ids["call1"] = intake.do_record_call(session, ids["agent"], call_at_nine(ids["agent"], RUDE)).id
        ids["call2"] = intake.do_record_call(session, ids["agent"], call_at_nine(ids["agent"], RUDE)).id
        ids["silent"] = intake.do_record_call(session, ids["agent"], call_at_nine(ids["agent"], None)).id
    return ids


def counts(sessions) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return (
            session.scalar(select(func.count(CalibrationSession.id))) or 0,
            session.scalar(select(func.count(Review.id))) or 0,
        )


def test_bad_calibrations_are_refused_and_change_nothing(sessions, world) -> None:  # type: ignore[no-untyped-def]
    good = {"call_ids": [world["call1"]], "inspector_ids": [world["ref"], world["qa2"]], "reference_id": world["ref"]}
    for change, message in [
        ({"name": " "}, "请填写校准名称"),
        ({"inspector_ids": [world["ref"], world["ref"]]}, "至少需要 2 名质检员"),
        ({"reference_id": world["boss"]}, "基准质检员必须是参加校准的质检员之一"),
        ({"inspector_ids": [world["ref"], world["agent"]]}, "不是质检员"),
        ({"call_ids": [world["call1"], world["silent"]]}, f"通话 {world['silent']} 没有完成的质检结果"),
        ({"call_ids": []}, "请至少选择 1 通通话"),
    ]:
        args = {"name": "校准", **good, **change}
        with pytest.raises(Invalid, match=message), transaction(sessions) as session:
            calibration.do_create_calibration(session, world["ref"], **args)  # type: ignore[arg-type]
    assert counts(sessions) == (0, 0)


def test_figures_from_calibration_reviews(sessions, world) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        trial = calibration.do_create_calibration(
            session,
            world["ref"],
            "十一月校准",
            [world["call1"], world["call2"]],
            [world["ref"], world["qa2"]],
            world["ref"],
        )
        trial_id = trial.id
        machine = quality.current_inspection(session, world["call1"])
        assert machine is not None and machine.categories
        # a category with 3 points to lose: the second inspector finds a problem the machine did not
        key = next(k for k, c in machine.categories.items() if c["score"] >= 3)
    assert counts(sessions) == (1, 4)  # one review per inspector per call
    with transaction(sessions) as session:
        mine = {
            (r.inspector_id, r.call_id): r.id
            for r in session.scalars(select(Review).where(Review.calibration_id == trial_id))
        }
        for call_id in (world["call1"], world["call2"]):
            reviews.do_complete_review(session, world["ref"], mine[(world["ref"], call_id)])
        second = mine[(world["qa2"], world["call1"])]
        reviews.do_add_manual_finding(session, world["qa2"], second, category=key, deduction=3, message="解释不清")
        reviews.do_complete_review(session, world["qa2"], second)  # call 2 left open
    with sessions() as session:
        view = calibration.calibration_figures(session, trial_id)
        rows = {row.inspector_id: row for row in view.figures.inspectors}
        ref_score = session.get(Review, mine[(world["ref"], world["call1"])]).manual_score  # type: ignore[union-attr]
        qa2_score = session.get(Review, mine[(world["qa2"], world["call1"])]).manual_score  # type: ignore[union-attr]
        assert ref_score == machine.machine_score and qa2_score < ref_score  # type: ignore[operator]
        assert (rows[world["ref"]].completed, rows[world["ref"]].total_diff) == (2, 0.0)
        assert (rows[world["qa2"]].completed, rows[world["qa2"]].compared) == (1, 1)
        assert rows[world["qa2"]].total_diff == round(ref_score - qa2_score, 2)  # type: ignore[operator]
        assert rows[world["qa2"]].category_diffs == {k: (3.0 if k == key else 0.0) for k in machine.categories}
        assert view.figures.matrix[world["qa2"]][world["ref"]] == rows[world["qa2"]].total_diff
        assert set(view.category_names) == set(machine.categories)
        # calibration leaves the calls' scores alone
        for call_id in (world["call1"], world["call2"]):
            inspection = quality.current_inspection(session, call_id)
            assert inspection is not None and inspection.final_score == inspection.machine_score
            assert calls.get_call(session, call_id).qa_score == inspection.machine_score
        assert [e.action for e in audit.entries(session, entity="calibration")] == ["create"]


# ------------------------------------------------------------------------- the API and the page


@pytest.fixture
def app(app_factory: AppFactory) -> FastAPI:
    return app_factory(activity=True)  # the whole demo: calls with scorecards, work orders, articles


def test_api_and_page(app: FastAPI) -> None:
    with app.state.sessions() as session:
        ids = {u.agent_no: u.id for u in session.scalars(select(User))}
        done = select(Inspection.call_id).where(Inspection.current, Inspection.status == InspectionStatus.DONE)
        call_ids = list(session.scalars(done.limit(2)))
    qa, agent = client_for(app, "30001"), client_for(app, "10001")
    body = {"name": "API 校准", "call_ids": call_ids, "inspector_ids": [ids["30001"], ids["50001"]]}
    assert agent.post("/api/quality/calibration", json={**body, "reference_id": ids["30001"]}).status_code == 403
    assert agent.get("/api/quality/calibration").status_code == 403
    one = qa.post(
        "/api/quality/calibration", json={**body, "inspector_ids": [ids["30001"]], "reference_id": ids["30001"]}
    )
    assert one.status_code == 422
    outsider = qa.post("/api/quality/calibration", json={**body, "reference_id": ids["90001"]})
    assert outsider.status_code == 422 and "基准质检员" in outsider.json()["detail"]
    assert qa.get("/api/quality/calibration").json() == []
    made = qa.post("/api/quality/calibration", json={**body, "reference_id": ids["30001"]})
    assert made.status_code == 201, made.text
    figures = qa.get(f"/api/quality/calibration/{made.json()['id']}").json()
    assert [(r["inspector_id"], r["reference"], r["completed"]) for r in figures["inspectors"]] == [
        (ids["30001"], True, 0),
        (ids["50001"], False, 0),
    ]
    assert qa.get("/api/quality/calibration/9999").status_code == 404
    page = qa.get(f"/quality/calibration/{made.json()['id']}")
    assert page.status_code == 200 and "API 校准" in page.text and "基准" in page.text
