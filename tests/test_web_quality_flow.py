"""Issue 4 end to end, in a real browser: a call with a transcript arrives through the API → it is
inspected at once → the QA inspector's sampling plan draws it → the review overturns one finding →
the agent appeals another → the team lead supports, QA upholds → the final score is the score
without those two findings, and the call's score follows."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from browser_helpers import login
from conftest import live_server
from kefu.core.settings import Settings
from kefu.demo import DEMO_PASSWORD, seed_demo
from kefu.quality import service as quality
from kefu.quality.scoring import score
from kefu.web.app import create_app

DAY = "2026-11-02"  # a past Monday with no demo calls: the plan draws this call alone
TRANSCRIPT = [
    {
        "speaker": "agent",
        "text": "上午好,感谢致电智能科技客服中心,客服10001号为您服务,请问有什么可以帮您?",
        "start": 0,
        "end": 5,
    },
    {"speaker": "customer", "text": "我的宽带为什么又断了?", "start": 5.5, "end": 8},
    {"speaker": "agent", "text": "这个我不知道,你等一下。", "start": 8.5, "end": 11},
    {"speaker": "agent", "text": "请问还有其他可以帮到您的吗?", "start": 40, "end": 42},
    {"speaker": "customer", "text": "没有了。", "start": 42.5, "end": 44},
    {"speaker": "agent", "text": "感谢您的来电,祝您生活愉快,再见!", "start": 44.5, "end": 47},
]


@pytest.fixture
def server(tmp_path) -> Iterator[tuple[str, FastAPI]]:  # type: ignore[no-untyped-def]
    application = create_app(Settings(data_dir=tmp_path, secret_key="flow-test"))
    seed_demo(application.state.sessions, must_change_password=False)
    with live_server(application) as url:
        yield url, application
    application.state.engine.dispose()


def call_arrives(url: str) -> int:
    """The phone system posts the finished call with its transcript, as agent 10001."""
    with httpx.Client(base_url=url) as client:
        login_answer = client.post("/api/auth/login", json={"agent_no": "10001", "password": DEMO_PASSWORD})
        client.headers["X-CSRF-Token"] = login_answer.json()["csrf"]
        me = client.get("/api/auth/me").json()
        answer = client.post(
            "/api/calls",
            json={
                "direction": "inbound",
                "ring_at": f"{DAY}T09:00:00+08:00",
                "answered_at": f"{DAY}T09:00:04+08:00",
                "ended_at": f"{DAY}T09:00:50+08:00",
                "hangup_by": "customer",
                "reason": "fault",
                "agent_id": me["id"],
                "summary": "宽带断网",
                "transcript": TRANSCRIPT,
            },
        )
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])


def as_user(page, url: str, agent_no: str) -> None:  # type: ignore[no-untyped-def]
    page.context.clear_cookies()
    login(page, url, agent_no)


def test_a_call_from_arrival_to_the_final_score_after_review_and_appeal(browser, server) -> None:  # type: ignore[no-untyped-def]
    url, application = server
    call_id = call_arrives(url)
    with application.state.sessions() as session:
        inspection = quality.current_inspection(session, call_id)
        assert inspection is not None and inspection.status.value == "done"
        findings = {f.rule: f for f in inspection.findings}
        machine, categories = inspection.machine_score, inspection.categories
    assert {"forbidden_phrase", "negative_wording"} <= findings.keys()
    overturn, appeal = findings["negative_wording"], findings["forbidden_phrase"]
    kept = [f for f in findings.values() if f.id not in (overturn.id, appeal.id)]
    expected = score(categories, kept).total  # type: ignore[arg-type]
    assert expected > machine  # type: ignore[operator]

    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    try:
        # inspected on arrival: the call page shows the stored scorecard
        as_user(page, url, "30001")
        page.goto(f"{url}/calls/{call_id}")
        assert page.locator("[data-field=rulebook_version]").inner_text() == "默认规则(2026.11)"
        assert f"{machine:g}" in page.locator("#scorecard").inner_text()

        # sampled: a daily plan drawn for the call's day
        page.goto(f"{url}/quality/sampling")
        form = page.locator("#plan-form form")
        form.get_by_label("方案名称").fill("每日抽检")
        form.get_by_label("周期").select_option("daily")
        form.get_by_label("每人抽检量").fill("5")
        form.get_by_role("button", name="保存方案").click()
        row = page.locator("#plans tr", has_text="每日抽检")
        row.get_by_label("每日抽检 周期内任一天").fill(DAY)
        row.get_by_role("button", name="抽取").click()
        assert "生成复核任务" in page.locator(".flash").inner_text()

        # reviewed: one finding overturned, the others confirmed
        page.goto(f"{url}/quality/reviews")
        task = page.locator("#tasks tbody tr", has=page.locator(f"td:text-is('{call_id}')"))
        assert task.count() == 1  # the call was drawn, one task
        task.get_by_role("link").click()
        page.wait_for_url("**/quality/reviews/*")
        finding = page.locator(f"#finding-{overturn.id}")
        finding.get_by_role("textbox").fill("客户情绪平稳,这句是在说明情况")
        finding.get_by_role("button", name="推翻").click()
        assert "已推翻" in page.locator(".flash").inner_text()
        page.get_by_role("button", name="完成复核").click()
        assert "复核已完成" in page.locator(".flash").inner_text()

        # the agent appeals another finding
        as_user(page, url, "10001")
        page.get_by_role("link", name="我的质检").click()
        page.locator(f"tr[data-inspection='{inspection.id}']").get_by_role("link", name="查看评分卡").click()
        item = page.locator(f"#finding-{appeal.id}")
        item.get_by_text("申诉", exact=True).click()
        item.get_by_label("申诉理由").fill("客户要求查询,我请客户稍候是在查资料")
        item.get_by_role("button", name="提交申诉").click()
        assert page.locator(".flash").inner_text() == "申诉已提交,等待班组长审核"

        # decided: the team lead supports, QA upholds
        for agent_no, choice, button in [("20001", "支持申诉", "提交意见"), ("30001", "申诉成立", "提交裁定")]:
            as_user(page, url, agent_no)
            page.get_by_role("link", name="申诉处理").click()
            queued = page.locator("#queue tr[data-appeal]")
            queued.get_by_label(choice).check()
            queued.get_by_label("说明").fill("同意")
            queued.get_by_role("button", name=button).click()
            page.wait_for_url("**/quality/appeals")

        # the final score: without the overturned and the upheld finding
        as_user(page, url, "10001")
        page.goto(f"{url}/quality/mine")
        shown = page.locator(f"tr[data-inspection='{inspection.id}'] [data-field=final_score] strong").inner_text()
        assert float(shown) == expected
    finally:
        page.close()
    with application.state.sessions() as session:
        final = quality.get_inspection(session, inspection.id)
        assert final.final_score == expected and final.machine_score == machine
        assert final.call.qa_score == expected
