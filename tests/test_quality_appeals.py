"""Appeals (申诉): an agent appeals a finding of their own call once, with a reason; the team lead
of their team gives an opinion, then QA decides; an upheld appeal raises the final score and the
call's score with it, a rejected one changes nothing; every step is kept — on SQLite and
PostgreSQL, through the service, the API and (in real Chromium) the pages."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from browser_helpers import login
from conftest import RUDE_TURNS as RUDE
from conftest import AppFactory, call_at_nine, client_for, live_server
from kefu.accounts import service as accounts
from kefu.accounts.models import User
from kefu.calls import service as calls
from kefu.calls.schemas import CallCreate
from kefu.core import audit
from kefu.core.db import transaction
from kefu.core.errors import Conflict, Forbidden, Invalid
from kefu.core.security import Role
from kefu.flows import intake
from kefu.quality import appeals, calibration
from kefu.quality import review as reviews
from kefu.quality import service as quality
from kefu.quality.models import Appeal, AppealStatus, Inspection, Review
from kefu.quality.scoring import score


def new_call(agent_id: int) -> CallCreate:
    return call_at_nine(agent_id, RUDE, hangup_by="customer")


PEOPLE = [
    ("agent", "12345", "小李", Role.AGENT, "一组"),
    ("other", "12346", "小王", Role.AGENT, "二组"),
    ("lead", "22345", "陈组长", Role.TEAM_LEAD, "一组"),
    ("lead2", "22346", "林组长", Role.TEAM_LEAD, "二组"),
    ("qa", "32345", "赵质检", Role.QA, None),
    ("qa2", "32346", "钱质检", Role.QA, None),
]


@pytest.fixture
def world(sessions) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Two agents in two teams, their team leads, a QA inspector, and one rude call of 小李's."""
    with transaction(sessions) as session:
        ids = {
            key: accounts.do_create_user(
                session, None, agent_no=no, name=name, role=role, password="kefu2026", team=team
            ).id
            for key, no, name, role, team in PEOPLE
        }
        record = intake.do_record_call(session, ids["agent"], new_call(ids["agent"]))
        inspection = quality.current_inspection(session, record.id)
        assert inspection is not None and len(inspection.findings) >= 2
        ids["call"], ids["inspection"] = record.id, inspection.id
        ids["finding"], ids["finding2"] = inspection.findings[0].id, inspection.findings[1].id
    return ids


def appeal_count(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(func.count(Appeal.id))) or 0


def test_an_agent_appeals_a_finding_of_their_own_call_once_with_a_reason(sessions, world) -> None:  # type: ignore[no-untyped-def]
    for who, reason, error, message in [
        (world["other"], "不是我说的", Forbidden, "只能申诉自己通话的扣分项"),
        (world["agent"], "   ", Invalid, "请填写申诉理由"),
        (world["agent"], "理" * 1001, Invalid, "不能超过 1000 字"),
    ]:
        with pytest.raises(error, match=message), transaction(sessions) as session:
            appeals.do_appeal(session, who, world["finding"], reason)
    assert appeal_count(sessions) == 0
    with transaction(sessions) as session:
        appeal = appeals.do_appeal(session, world["agent"], world["finding"], " 客户要求我稍等,我是在查询 ")
        assert appeal.status == AppealStatus.PENDING and appeal.reason == "客户要求我稍等,我是在查询"
    with pytest.raises(Conflict, match="该扣分项已申诉过,每项只能申诉一次"), transaction(sessions) as session:
        appeals.do_appeal(session, world["agent"], world["finding"], "再申诉一次")
    with sessions() as session:
        stored = session.scalars(select(Appeal)).one()
        assert [(s["actor_name"], s["action"], s["note"]) for s in stored.history] == [
            ("小李", "appeal", "客户要求我稍等,我是在查询")
        ]
        assert [e.action for e in audit.entries(session, entity="appeal")] == ["create"]
        # the agent's scorecard: this finding no longer offers an appeal, the other one does
        card = appeals.scorecard(session, session.get(User, world["agent"]), world["inspection"])
        offered = {item.finding.id: item.appealable for item in card.findings}
        assert offered[world["finding"]] is False and offered[world["finding2"]] is True
        with pytest.raises(Forbidden):
            appeals.scorecard(session, session.get(User, world["other"]), world["inspection"])
        assert appeals.scorecard(session, session.get(User, world["qa"]), world["inspection"]).findings
        assert [i.id for i in appeals.my_scorecards(session, world["agent"])] == [world["inspection"]]
        assert appeals.my_scorecards(session, world["other"]) == []


def test_team_lead_first_then_qa_and_an_upheld_appeal_raises_the_final_score(sessions, world) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        appeal_id = appeals.do_appeal(session, world["agent"], world["finding"], "我在查询,不是推诿").id
        machine = quality.get_inspection(session, world["inspection"]).machine_score
    with pytest.raises(Conflict, match="须先由班组长给出意见"), transaction(sessions) as session:
        appeals.do_decide(session, world["qa"], appeal_id, True, "成立")
    with pytest.raises(Forbidden, match="只能审核本班组"), transaction(sessions) as session:
        appeals.do_lead_opinion(session, world["lead2"], appeal_id, True, None)
    with pytest.raises(Forbidden, match="无权审核申诉"), transaction(sessions) as session:
        appeals.do_lead_opinion(session, world["qa"], appeal_id, True, None)
    with sessions() as session:  # the queues: the lead of 一组 sees it, 二组's lead and QA not yet
        assert [a.id for a in appeals.appeal_queue(session, session.get(User, world["lead"]))] == [appeal_id]
        assert appeals.appeal_queue(session, session.get(User, world["lead2"])) == []
        assert appeals.appeal_queue(session, session.get(User, world["qa"])) == []
    with transaction(sessions) as session:
        appeals.do_lead_opinion(session, world["lead"], appeal_id, True, "确实在查询")
    with pytest.raises(Conflict, match="班组长意见只能给一次"), transaction(sessions) as session:
        appeals.do_lead_opinion(session, world["lead"], appeal_id, False, None)
    with pytest.raises(Forbidden, match="无权裁定"), transaction(sessions) as session:
        appeals.do_decide(session, world["lead"], appeal_id, True, None)
    with sessions() as session:
        assert [a.id for a in appeals.appeal_queue(session, session.get(User, world["qa"]))] == [appeal_id]
        assert appeals.appeal_queue(session, session.get(User, world["lead"])) == []
    with transaction(sessions) as session:
        appeals.do_decide(session, world["qa"], appeal_id, True, "查询等待属正常")
    with sessions() as session:
        inspection = quality.get_inspection(session, world["inspection"])
        upheld = session.get(Appeal, appeal_id)
        assert upheld.status == AppealStatus.UPHELD and not upheld.finding.counts
        expected = score(inspection.categories or {}, [f for f in inspection.findings if f.id != world["finding"]])
        assert inspection.machine_score == machine
        assert inspection.final_score == expected.total > machine  # type: ignore[operator]
        assert calls.get_call(session, world["call"]).qa_score == expected.total
        assert [(s["actor_name"], s["action"]) for s in upheld.history] == [
            ("小李", "appeal"),
            ("陈组长", "lead_support"),
            ("赵质检", "upheld"),
        ]
        assert [e.action for e in reversed(audit.entries(session, entity="appeal"))] == [
            "create",
            "lead_opinion",
            "decide",
        ]
    with pytest.raises(Conflict, match="已裁定"), transaction(sessions) as session:
        appeals.do_decide(session, world["qa"], appeal_id, False, None)


def test_a_rejected_appeal_changes_no_score(sessions, world) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        appeal_id = appeals.do_appeal(session, world["agent"], world["finding"], "理由").id
        appeals.do_lead_opinion(session, world["lead"], appeal_id, False, "确有推诿")
        appeals.do_decide(session, world["qa"], appeal_id, False, "维持扣分")
    with sessions() as session:
        inspection = quality.get_inspection(session, world["inspection"])
        rejected = session.get(Appeal, appeal_id)
        assert rejected.status == AppealStatus.REJECTED and rejected.finding.counts
        assert inspection.final_score == inspection.machine_score == calls.get_call(session, world["call"]).qa_score
        assert [s["action"] for s in rejected.history] == ["appeal", "lead_oppose", "rejected"]
        assert rejected.lead_supports is False and rejected.decision_note == "维持扣分"


def test_only_findings_that_still_count_on_the_current_scorecard_can_be_appealed(sessions, world) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:  # QA overturns the first finding in a sampling review
        review = reviews.create_review(session, world["call"], world["qa"])
        reviews.do_judge_finding(session, world["qa"], review.id, world["finding"], "overturned", "误判")
        reviews.do_complete_review(session, world["qa"], review.id)
    with pytest.raises(Conflict, match="已不再扣分"), transaction(sessions) as session:
        appeals.do_appeal(session, world["agent"], world["finding"], "理由")
    with transaction(sessions) as session:  # a re-inspection replaces the scorecard
        quality.do_reinspect(session, None, call_ids=[world["call"]], failed_only=False)
    with pytest.raises(Conflict, match="重新质检"), transaction(sessions) as session:
        appeals.do_appeal(session, world["agent"], world["finding2"], "理由")
    assert appeal_count(sessions) == 0
    with sessions() as session:
        current = quality.current_inspection(session, world["call"])
        assert current is not None and current.id != world["inspection"]
        assert [i.id for i in appeals.my_scorecards(session, world["agent"])] == [current.id]


def test_calibration_findings_stay_off_the_agents_scorecard(sessions, world) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        trial = calibration.do_create_calibration(
            session, world["qa"], "十一月校准", [world["call"]], [world["qa"], world["qa2"]], world["qa"]
        )
        trial_review = session.scalars(
            select(Review).where(Review.calibration_id == trial.id, Review.inspector_id == world["qa2"])
        ).one()
        reviews.do_add_manual_finding(
            session, world["qa2"], trial_review.id, category="attitude", deduction=5, message="校准:语气生硬"
        )
        reviews.do_complete_review(session, world["qa2"], trial_review.id)
        review = reviews.create_review(session, world["call"], world["qa"])
        reviews.do_add_manual_finding(
            session, world["qa"], review.id, category="business", deduction=2, message="解释不准确"
        )
        reviews.do_complete_review(session, world["qa"], review.id)
    with sessions() as session:
        card = appeals.scorecard(session, session.get(User, world["agent"]), world["inspection"])
        manual = [item for item in card.findings if item.finding.manual]
        assert [m.finding.message for m in manual] == ["解释不准确"] and manual[0].appealable
        inspection = card.inspection
        assert (
            inspection.final_score
            == score(inspection.categories or {}, quality.counted_findings(session, inspection)).total
        )
        assert inspection.final_score < inspection.machine_score  # type: ignore[operator]


# ------------------------------------------------------------------------- the API and the pages


@pytest.fixture
def app(app_factory: AppFactory) -> FastAPI:
    return app_factory(activity=True)  # the whole demo: calls with scorecards, work orders, articles


def scorecard_with_findings(app: FastAPI, agent_no: str) -> tuple[int, int]:
    """One of the agent's demo scorecards with a finding: (inspection id, finding id)."""
    with app.state.sessions() as session:
        agent = session.scalars(select(User).where(User.agent_no == agent_no)).one()
        for inspection in appeals.my_scorecards(session, agent.id):
            rules = [f for f in inspection.findings if not f.manual and f.deduction > 0]
            if rules:
                return inspection.id, rules[0].id
    raise AssertionError(f"{agent_no} has no scorecard with a finding")


def test_api_appeal_flow_and_refusals(app: FastAPI) -> None:
    inspection_id, finding_id = scorecard_with_findings(app, "10001")
    agent, other, lead, qa = (client_for(app, no) for no in ("10001", "10002", "20001", "30001"))
    mine = agent.get("/api/quality/appeals/mine").json()
    assert inspection_id in [c["inspection_id"] for c in mine]
    assert other.get(f"/api/quality/appeals/scorecards/{inspection_id}").status_code == 403
    assert qa.get(f"/api/quality/appeals/scorecards/{inspection_id}").status_code == 200
    card = agent.get(f"/api/quality/appeals/scorecards/{inspection_id}").json()
    assert next(f for f in card["finding_list"] if f["id"] == finding_id)["appealable"] is True

    assert agent.post("/api/quality/appeals", json={"finding_id": finding_id, "reason": ""}).status_code == 422
    refused = other.post("/api/quality/appeals", json={"finding_id": finding_id, "reason": "不是我"})
    assert refused.status_code == 403 and refused.json()["detail"] == "只能申诉自己通话的扣分项"
    with app.state.sessions() as session:
        assert session.scalar(select(func.count(Appeal.id))) == 0
    made = agent.post("/api/quality/appeals", json={"finding_id": finding_id, "reason": "我在查询"})
    assert made.status_code == 201, made.text
    appeal_id = made.json()["id"]
    again = agent.post("/api/quality/appeals", json={"finding_id": finding_id, "reason": "再来"})
    assert again.status_code == 409 and "只能申诉一次" in again.json()["detail"]

    assert agent.post(f"/api/quality/appeals/{appeal_id}/lead", json={"supports": True}).status_code == 403
    early = qa.post(f"/api/quality/appeals/{appeal_id}/decide", json={"upheld": True})
    assert early.status_code == 409 and "班组长" in early.json()["detail"]
    assert lead.post(f"/api/quality/appeals/{appeal_id}/lead", json={"supports": "maybe"}).status_code == 422
    assert [a["id"] for a in lead.get("/api/quality/appeals/queue").json()] == [appeal_id]
    assert lead.post(f"/api/quality/appeals/{appeal_id}/lead", json={"supports": True}).status_code == 200
    assert lead.post(f"/api/quality/appeals/{appeal_id}/decide", json={"upheld": True}).status_code == 403
    decided = qa.post(f"/api/quality/appeals/{appeal_id}/decide", json={"upheld": True, "note": "成立"})
    assert decided.status_code == 200 and decided.json()["status"] == "upheld"
    after = agent.get(f"/api/quality/appeals/scorecards/{inspection_id}").json()
    assert after["final_score"] > after["machine_score"]
    assert [s["action"] for s in decided.json()["history"]] == ["appeal", "lead_support", "upheld"]


def test_pages_refuse_what_a_role_may_not_see(app: FastAPI) -> None:
    inspection_id, _ = scorecard_with_findings(app, "10001")
    other = client_for(app, "10002")
    assert other.get(f"/quality/inspections/{inspection_id}").status_code == 403
    assert other.get("/quality/appeals").status_code == 403
    assert other.get("/quality/calibration").status_code == 403
    assert client_for(app, "40001").get(f"/quality/inspections/{inspection_id}").status_code == 200  # trainer
    home = other.get("/quality/mine")
    assert home.status_code == 200 and "我的质检" in home.text


def test_browser_agent_appeals_lead_supports_qa_upholds(app: FastAPI, browser) -> None:  # type: ignore[no-untyped-def]
    inspection_id, finding_id = scorecard_with_findings(app, "10001")
    with app.state.sessions() as session:
        machine = session.get(Inspection, inspection_id).machine_score  # type: ignore[union-attr]
    with live_server(app) as base:
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        login(page, base, "10001")
        page.get_by_role("link", name="我的质检").click()
        page.locator(f"tr[data-inspection='{inspection_id}']").get_by_role("link", name="查看评分卡").click()
        item = page.locator(f"#finding-{finding_id}")
        item.get_by_text("申诉", exact=True).click()
        item.get_by_label("申诉理由").fill("客户要求查询,我是在查询资料")
        item.get_by_role("button", name="提交申诉").click()
        page.wait_for_url(f"**/quality/inspections/{inspection_id}*")
        assert page.locator(".flash").inner_text() == "申诉已提交,等待班组长审核"
        assert page.locator(f"#finding-{finding_id} [data-field=appeal_status]").inner_text() == "待班组长审核"

        for agent_no, choice, button, status in [
            ("20001", "支持申诉", "提交意见", "待质检裁定"),
            ("30001", "申诉成立", "提交裁定", "申诉成立"),
        ]:
            page.context.clear_cookies()
            login(page, base, agent_no)
            page.get_by_role("link", name="申诉处理").click()
            row = page.locator("#queue tr[data-appeal]")
            assert row.count() == 1
            row.get_by_label(choice).check()
            row.get_by_label("说明").fill("同意")
            row.get_by_role("button", name=button).click()
            page.wait_for_url("**/quality/appeals")
            assert page.locator("#queue tr[data-appeal]").count() == 0
            assert status in page.locator("#handled").inner_text()

        page.context.clear_cookies()
        login(page, base, "10001")
        page.goto(f"{base}/quality/mine")
        final = float(
            page.locator(f"tr[data-inspection='{inspection_id}'] [data-field=final_score] strong").inner_text()
        )
        assert final > machine  # type: ignore[operator]
        page.goto(f"{base}/quality/inspections/{inspection_id}")
        history = page.locator(f"#finding-{finding_id} .history").inner_text()
        assert "陈静 · 班组长支持申诉" in history and "赵强 · 质检裁定:申诉成立" in history
        page.close()
