"""质检复核 over HTTP: permissions, bad input, plans and runs, a review task from judging to
completion; and in a real browser, QA inspector 30001 working a sampled review."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from browser_helpers import login
from conftest import AppFactory, client_for, live_server
from kefu.core.clock import on_centre_clock
from kefu.core.settings import Settings
from kefu.demo import seed_demo
from kefu.quality.models import Inspection, Review, SamplingPlan
from kefu.web.app import create_app


def flagged_call(app: FastAPI) -> tuple[int, str]:
    """A demo call whose scorecard marks evidence in a turn, and its day on the centre's clock."""
    with app.state.sessions() as session:
        inspections = session.scalars(select(Inspection).where(Inspection.current.is_(True)).order_by(Inspection.id))
        for inspection in inspections:
            if sum(1 for f in inspection.findings if f.evidence_span) and len(inspection.findings) >= 2:
                day = on_centre_clock(inspection.call.ring_at).date().isoformat()
                return inspection.call_id, day
    raise AssertionError("no demo call with marked evidence")


def count(app: FastAPI, model: Any) -> int:
    with app.state.sessions() as session:
        return session.scalar(select(func.count(model.id))) or 0


@pytest.fixture
def app(app_factory: AppFactory) -> FastAPI:
    return app_factory(activity=True)  # the whole demo: calls with scorecards, work orders, articles


DAILY = {"name": "每日全检", "period": "daily", "per_agent_count": 50}


def test_agents_and_team_leads_may_not_review(app: FastAPI) -> None:
    for agent_no in ("10001", "20001"):
        client = client_for(app, agent_no)
        assert client.get("/api/quality/reviews").status_code == 403
        assert client.get("/api/quality/sampling/plans").status_code == 403
        assert client.post("/api/quality/sampling/plans", json=DAILY).status_code == 403
        assert client.get("/api/quality/reviews/agreement").status_code == 403
        assert client.get("/quality/reviews").status_code == 403
        assert client.get("/quality/sampling").status_code == 403
    assert count(app, SamplingPlan) == 1  # the default plan only


def test_plans_runs_and_a_review_over_the_api(app: FastAPI) -> None:
    qa = client_for(app, "30001")
    plans = qa.get("/api/quality/sampling/plans").json()
    assert [(p["name"], p["period"], p["per_agent_count"]) for p in plans] == [("每周抽检", "weekly", 5)]

    bad = [
        {**DAILY, "per_agent_percent": 10},  # both
        {**DAILY, "per_agent_count": 0},
        {**DAILY, "per_agent_count": None, "per_agent_percent": 101},
        {**DAILY, "filters": {"score_min": 80, "score_max": 60}},
        {**DAILY, "filters": {"colour": "red"}},
    ]
    for body in bad:
        answer = qa.post("/api/quality/sampling/plans", json=body)
        assert answer.status_code == 422, body
    assert qa.post("/api/quality/sampling/plans", json={**DAILY, "filters": {"rules": ["nope"]}}).status_code == 422
    assert count(app, SamplingPlan) == 1

    plan = qa.post("/api/quality/sampling/plans", json=DAILY).json()
    changed = qa.put(
        f"/api/quality/sampling/plans/{plan['id']}", json={**DAILY, "per_agent_count": 40, "version": plan["version"]}
    )
    assert changed.status_code == 200 and changed.json()["version"] == plan["version"] + 1
    stale = qa.put(f"/api/quality/sampling/plans/{plan['id']}", json={**DAILY, "version": plan["version"]})
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["detail"]
    assert qa.get("/api/quality/sampling/plans").json()[1]["per_agent_count"] == 40
    call_id, day = flagged_call(app)
    run = qa.post(f"/api/quality/sampling/plans/{plan['id']}/run", json={"period_start": day})
    assert run.status_code == 201, run.text
    assert run.json()["calls"] >= 1 and len(run.json()["review_ids"]) == run.json()["calls"]
    again = qa.post(f"/api/quality/sampling/plans/{plan['id']}/run", json={"period_start": day})
    assert again.status_code == 409 and "重复抽取" in again.json()["detail"]
    runs = qa.get("/api/quality/sampling/runs").json()
    assert runs[0]["open"] == run.json()["calls"] and runs[0]["done"] == 0

    with app.state.sessions() as session:
        review_id = session.scalar(select(Review.id).where(Review.call_id == call_id))
    tasks = qa.get("/api/quality/reviews").json()
    assert review_id in [t["id"] for t in tasks] and all(t["status"] == "open" for t in tasks)
    detail = qa.get(f"/api/quality/reviews/{review_id}").json()
    finding = detail["rule_findings"][0]["id"]
    assert (
        qa.post(f"/api/quality/reviews/{review_id}/findings/{finding}/verdict", json={"verdict": "maybe"}).status_code
        == 422
    )
    judged = qa.post(
        f"/api/quality/reviews/{review_id}/findings/{finding}/verdict", json={"verdict": "overturned", "note": "误报"}
    )
    assert judged.status_code == 200
    assert judged.json()["rule_findings"][0]["verdict"] == "overturned"
    category = detail["category_choices"][0]["key"]
    bad_manual = qa.post(
        f"/api/quality/reviews/{review_id}/findings", json={"category": "nope", "deduction": 2, "message": "x"}
    )
    assert bad_manual.status_code == 422 and "类别" in bad_manual.json()["detail"]
    added = qa.post(
        f"/api/quality/reviews/{review_id}/findings",
        json={"category": category, "deduction": 2, "message": "答复不准确"},
    )
    assert added.status_code == 201
    version = added.json()["review"]["version"]
    assert qa.post(f"/api/quality/reviews/{review_id}/complete", json={}).status_code == 422  # no version
    assert qa.post(f"/api/quality/reviews/{review_id}/complete", json={"version": version - 1}).status_code == 409
    done = qa.post(f"/api/quality/reviews/{review_id}/complete", json={"version": version, "comment": "好"})
    assert done.status_code == 200 and done.json()["status"] == "done"
    frozen = qa.post(f"/api/quality/reviews/{review_id}/findings/{finding}/verdict", json={"verdict": "confirmed"})
    assert frozen.status_code == 409
    rows = qa.get("/api/quality/reviews/agreement").json()
    overturned = next(r for r in rows if r["rule"] == detail["rule_findings"][0]["rule"])
    assert overturned["overturned"] == 1 and rows[0]["precision"] <= rows[-1]["precision"]
    # a supervisor may look at (and work on) anyone's task; it is still frozen
    boss = client_for(app, "50001")
    assert boss.get(f"/api/quality/reviews/{review_id}").json()["inspector_score"] == done.json()["inspector_score"]


# ---------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    folder = tmp_path_factory.mktemp("kefu")
    application = create_app(Settings(data_dir=folder, secret_key="browser-test"))
    seed_demo(application.state.sessions, must_change_password=False)
    with live_server(application) as url:
        yield url, application


def test_qa_inspector_works_a_sampled_review(browser, server) -> None:  # type: ignore[no-untyped-def]
    url, application = server
    call_id, day = flagged_call(application)
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=url)
    page = context.new_page()
    try:
        login(page, url, "30001")
        page.get_by_role("link", name="质检复核").click()
        page.wait_for_url("**/quality/reviews")
        page.get_by_role("link", name="抽检方案").click()
        page.wait_for_url("**/quality/sampling")
        assert "每周抽检" in page.locator("#plans").inner_text()

        # a daily plan, drawn for the day of the flagged call
        form = page.locator("#plan-form form")
        form.get_by_label("方案名称").fill("每日抽检")
        form.get_by_label("周期").select_option("daily")
        form.get_by_label("每人抽检量").fill("50")
        form.get_by_role("button", name="保存方案").click()
        assert "已保存" in page.locator(".flash").inner_text()
        row = page.locator("#plans tr", has_text="每日抽检")
        row.get_by_label("每日抽检 周期内任一天").fill(day)
        row.get_by_role("button", name="抽取").click()
        assert "生成复核任务" in page.locator(".flash").inner_text()
        assert page.locator("#runs tbody tr").count() == 1

        with application.state.sessions() as session:
            review_id = session.scalar(select(Review.id).where(Review.call_id == call_id))
        page.goto(f"/quality/reviews/{review_id}")
        assert page.locator("#transcript mark").count() >= 1  # the evidence span marked in its turn
        machine = page.locator("#machine-score").inner_text()

        first = page.locator("#transcript .finding").first
        first.get_by_role("textbox").fill("客户在查资料,不算问题")
        first.get_by_role("button", name="推翻").click()
        assert "已推翻" in page.locator(".flash").inner_text()
        overturned = page.locator(".finding.verdict-overturned")
        assert overturned.count() == 1 and "客户在查资料" in overturned.inner_text()

        manual = page.locator("#manual-form")
        manual.get_by_label("扣分").fill("4")
        manual.get_by_label("问题说明").fill("答复不准确,套餐名称说错")
        manual.get_by_label("第几句(可选)").select_option(label="第 2 句")
        manual.get_by_role("button", name="添加人工发现").click()
        assert "答复不准确" in page.locator("#manual").inner_text()

        page.locator("#complete textarea").fill("整体尚可")
        page.get_by_role("button", name="完成复核").click()
        assert "复核已完成" in page.locator(".flash").inner_text()
        assert page.locator("#review-status").inner_text() == "已完成"
        assert page.locator("#machine-score").inner_text() == machine  # the machine's score is kept
        inspector = page.locator("#inspector-score").inner_text()
        assert inspector and inspector != machine
        assert page.locator("#final-score").inner_text() == inspector.split()[0]
        assert page.get_by_role("button", name="推翻").count() == 0  # frozen

        page.goto("/quality/agreement")
        assert page.locator("#agreement tbody tr").count() >= 1
    finally:
        context.close()
