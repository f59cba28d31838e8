"""质检报表: figures on a hand-made set of scorecards (exact buckets, weeks on the centre's clock,
counted findings per rule, team means), the calls behind each bar, the Excel export, the
permissions and bad filters; the call page shows the STORED scorecard, a failed inspection and
its 重新质检 — on SQLite and PostgreSQL — and a supervisor's drill-down in real Chromium."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlalchemy import select

from browser_helpers import login
from conftest import AppFactory, client_for, live_server
from kefu.accounts import service as accounts
from kefu.calls.models import CallRecord
from kefu.calls.schemas import CallCreate
from kefu.core.clock import centre_tz
from kefu.core.db import transaction
from kefu.core.errors import Invalid
from kefu.core.security import Role
from kefu.core.settings import Settings
from kefu.demo import DEMO_PASSWORD, seed_demo
from kefu.flows import intake
from kefu.quality import reports, rulebooks
from kefu.quality import service as quality
from kefu.quality.models import Appeal, AppealStatus, Finding, FindingReview, Inspection, InspectionStatus
from kefu.quality.rulebooks import RulebookSource
from kefu.web.app import create_app

RUDE = [
    {"speaker": "agent", "text": "您好,客服12345号为您服务,请问有什么可以帮您?", "start": 0, "end": 4},
    {"speaker": "customer", "text": "我的宽带为什么又断了?", "start": 5, "end": 8},
    {"speaker": "agent", "text": "这个我不知道,你等一下。", "start": 8.5, "end": 11},
]


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=centre_tz())


def finding(rule: str, **fields: Any) -> Finding:
    return Finding(rule=rule, rule_name={"forbidden_phrase": "服务禁语"}.get(rule, rule), category="attitude",
                   deduction=5, message=f"{rule} 问题", **fields)  # fmt: skip


# ---------------------------------------------------------------------------- a hand-made set


@pytest.fixture
def handmade(sessions) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Four agents (一组 ×2, 二组, no team); scorecards written as a review would leave them."""
    ids: dict[str, int] = {}
    with transaction(sessions) as session:
        people = {
            key: accounts.do_create_user(
                session, None, agent_no=no, name=name, role=Role.AGENT, password=DEMO_PASSWORD, team=team
            ).id
            for key, no, name, team in [
                ("A", "11001", "甲", "一组"),
                ("B", "11002", "乙", "一组"),
                ("C", "12001", "丙", "二组"),
                ("D", "13001", "丁", None),
            ]
        }
        ids.update({f"agent_{k}": v for k, v in people.items()})

        def add(key: str, agent: str, ring: datetime, *cards: dict[str, Any]) -> None:
            record = intake.do_record_call(
                session, None,
                CallCreate(direction="inbound", ring_at=ring, reason="consult.tariff", agent_id=people[agent]),
            )  # fmt: skip
            ids[key] = record.id
            for number, card in enumerate(cards):
                session.add(
                    Inspection(
                        call_id=record.id,
                        agent_id=people[agent],
                        rulebook_label="test",
                        current=number == len(cards) - 1,
                        pass_line=80,
                        categories={},
                        **card,
                    )
                )

        def done(machine: float, final: float, *found: Finding) -> dict[str, Any]:
            return {"status": InspectionStatus.DONE, "machine_score": machine, "final_score": final,
                    "passed": final >= 80, "findings": list(found)}  # fmt: skip

        add("c1", "A", local(2, 9), done(95, 95, finding("speech_rate")))
        add("c2", "A", local(8, 23, 30),  # Sunday night: still week 45
            done(80, 72, finding("forbidden_phrase"), finding("forbidden_phrase"),
                 finding("opening", review=FindingReview.OVERTURNED)))  # fmt: skip
        upheld = finding("forbidden_phrase")
        add("c3", "B", local(9, 0, 30), done(88, 88, upheld, finding("speech_rate")))  # Monday 00:30: week 46
        session.flush()
        session.add(Appeal(finding_id=upheld.id, agent_id=people["B"], reason="误判", status=AppealStatus.UPHELD))
        add("c4", "C", local(10, 15), done(60, 60, finding("forbidden_phrase")))
        add("c5", "D", local(11, 10), done(100, 100))
        add("c6", "A", local(20, 10, month=10), done(50, 50, finding("forbidden_phrase")))  # before the range
        add("c7", "A", local(3, 10), {"status": InspectionStatus.FAILED, "error": "RuntimeError: boom"})
        add("c8", "A", local(4, 10), done(10, 10, finding("forbidden_phrase")), done(91, 91))  # re-inspected
    return ids


SCOPE = reports.ReportFilter(date(2026, 11, 2), date(2026, 11, 15))


def test_figures_on_a_handmade_set(sessions, handmade: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        figures = reports.figures(session, SCOPE)
    assert figures.calls == 6 and figures.failed_inspections == 1 and figures.pass_line == 80
    assert figures.mean_score == round((95 + 72 + 88 + 60 + 100 + 91) / 6, 1) and figures.pass_rate == 0.6667
    assert {b.low: b.calls for b in figures.buckets if b.calls} == {60: 1, 70: 1, 80: 1, 90: 3}
    assert [(w.key, w.calls, w.mean_score, w.passed) for w in figures.weeks] == [
        ("2026-W45", 3, 86.0, 2),  # c1, c2 (Sunday 23:30), c8
        ("2026-W46", 3, 82.7, 2),  # c3 (Monday 00:30 here, Sunday in UTC), c4, c5
    ]
    # upheld appeal and overturned finding do not count; the old inspection of c8 neither
    assert [(r.rule, r.rule_name, r.findings, r.calls) for r in figures.rules] == [
        ("forbidden_phrase", "服务禁语", 3, 2),
        ("speech_rate", "speech_rate", 2, 2),
    ]
    teams = {t.name: (t.calls, t.mean_machine, t.mean_final, t.passed) for t in figures.teams}
    assert teams == {"一组": (4, 88.5, 86.5, 3), "二组": (1, 60.0, 60.0, 0), "未分组": (1, 100.0, 100.0, 1)}
    agents = {a.name: (a.calls, a.mean_final, a.pass_rate) for a in figures.agents}
    assert agents["甲(11001)"] == (3, 86.0, 0.6667) and agents["乙(11002)"] == (1, 88.0, 1.0)
    with sessions() as session:
        team_one = reports.figures(session, replace(SCOPE, team="一组"))
        alone = reports.figures(session, replace(SCOPE, agent_id=handmade["agent_A"]))
    assert team_one.calls == 4 and [t.name for t in team_one.teams] == ["一组"]
    assert alone.calls == 3 and [(r.rule, r.findings) for r in alone.rules] == [
        ("forbidden_phrase", 2),
        ("speech_rate", 1),
    ]


def test_drill_down_returns_exactly_the_calls_behind_a_bar(sessions, handmade: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    def behind(scope: reports.ReportFilter = SCOPE, **bar: Any) -> list[int]:
        with sessions() as session:
            return [row.call_id for row in reports.calls_behind(session, scope, **bar)]

    h = handmade
    assert behind(rule="forbidden_phrase") == [h["c2"], h["c4"]]
    assert behind(rule="opening") == []  # overturned
    assert behind(bucket="90") == [h["c1"], h["c8"], h["c5"]]
    assert behind(week="2026-W46") == [h["c3"], h["c4"], h["c5"]]
    assert behind(replace(SCOPE, team="一组")) == [h["c1"], h["c8"], h["c2"], h["c3"]]  # by ring time
    assert behind(replace(SCOPE, team=reports.NO_TEAM)) == [h["c5"]]
    assert behind(replace(SCOPE, agent_id=h["agent_A"]), bucket=90) == [h["c1"], h["c8"]]
    with sessions() as session:
        figures = reports.figures(session, SCOPE)
        for bucket in figures.buckets:
            assert len(reports.calls_behind(session, SCOPE, bucket=bucket.low)) == bucket.calls
        for week in figures.weeks:
            assert len(reports.calls_behind(session, SCOPE, week=week.key)) == week.calls
        for rule in figures.rules:
            assert len(reports.calls_behind(session, SCOPE, rule=rule.rule)) == rule.calls
        row = reports.calls_behind(session, SCOPE, rule="forbidden_phrase")[0]
        assert row.link == f"/calls/{h['c2']}" and row.ring_at.hour == 23 and row.final_score == 72
        with pytest.raises(Invalid, match="分数段「95」不存在"):
            reports.calls_behind(session, SCOPE, bucket="95")
        with pytest.raises(Invalid, match="不在所选日期范围内"):
            reports.calls_behind(session, SCOPE, week="2026-W40")


def test_report_filter_messages() -> None:
    with pytest.raises(Invalid, match="开始日期 2026-11-20 晚于结束日期 2026-11-02"):
        reports.report_filter("2026-11-20", "2026-11-02")
    with pytest.raises(Invalid, match="格式不正确"):
        reports.report_filter("11/02/2026")
    with pytest.raises(Invalid, match="不能超过"):
        reports.report_filter("2024-01-01", "2026-01-01")
    default = reports.report_filter(now=date(2026, 11, 23))
    assert (default.start, default.end, default.team, default.agent_id) == (
        date(2026, 10, 27),
        date(2026, 11, 23),
        None,
        None,
    )


# ---------------------------------------------------------------------------- over HTTP


class BrokenSource(RulebookSource):
    """The engine failing on a call, as in test_quality_inspection."""

    def prepare(self, version):  # type: ignore[no-untyped-def]
        class Broken:
            def inspect(self, transcript: object) -> None:
                raise RuntimeError("rule engine crashed")

        return replace(super().prepare(version), inspector=Broken())  # type: ignore[arg-type]


@pytest.fixture
def app(app_factory: AppFactory) -> FastAPI:
    return app_factory(activity=True)  # the whole demo: calls with scorecards, work orders, articles


def test_report_api_export_permissions_and_bad_filters(app: FastAPI) -> None:
    agent = client_for(app, "10001")
    for url in ("/api/quality/reports", "/api/quality/reports/calls", "/api/quality/reports/export"):
        assert agent.get(url).status_code == 403
    assert agent.get("/quality/reports").status_code == 403
    assert agent.post("/api/quality/reports/reinspect", json={}).status_code == 403
    assert "质检报表" not in agent.get("/").text

    trainer = client_for(app, "40001")
    assert trainer.post("/api/quality/reports/reinspect", json={}).status_code == 403  # QA_REPORT only
    figures = trainer.get("/api/quality/reports").json()
    assert figures["calls"] > 0 and sum(b["calls"] for b in figures["buckets"]) == figures["calls"]
    top = figures["rules"][0]
    behind = trainer.get("/api/quality/reports/calls", params={"rule": top["rule"]}).json()
    assert len(behind) == top["calls"] and all(row["link"] == f"/calls/{row['call_id']}" for row in behind)
    team = figures["teams"][0]
    assert len(trainer.get("/api/quality/reports/calls", params={"team": team["key"]}).json()) == team["calls"]

    wrong = trainer.get("/api/quality/reports", params={"start": "2026-11-20", "end": "2026-11-01"})
    assert wrong.status_code == 422 and "开始日期 2026-11-20 晚于结束日期 2026-11-01" in wrong.json()["detail"]
    assert trainer.get("/api/quality/reports/calls", params={"bucket": "x"}).status_code == 422
    page = trainer.get("/quality/reports", params={"start": "2026-11-20", "end": "2026-11-01"})
    assert page.status_code == 422 and "晚于结束日期" in page.text
    page = trainer.get("/quality/reports")
    assert page.status_code == 200 and page.text.count('<a href="/quality/reports/calls?') >= 3
    assert 'href="/quality/reports"' in page.text and "导出 Excel" in page.text

    export = trainer.get("/api/quality/reports/export")
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/vnd.openxml")
    book = load_workbook(io.BytesIO(export.content))
    assert book.sheetnames == ["概况", "分数分布", "每周趋势", "问题规则", "班组", "客服", "通话"]
    assert [c.value for c in book["概况"][2]][4] == figures["calls"]
    assert [r[1] for r in book["分数分布"].iter_rows(min_row=2, values_only=True)] == [
        b["calls"] for b in figures["buckets"]
    ]
    first_rule = [c.value for c in book["问题规则"][2]]
    assert first_rule == [top["rule"], top["rule_name"], top["findings"], top["calls"]]
    assert book["通话"].max_row == figures["calls"] + 1
    assert {r[0] for r in book["班组"].iter_rows(min_row=2, values_only=True)} == {t["name"] for t in figures["teams"]}


def test_call_page_shows_the_stored_scorecard_and_its_version(app: FastAPI) -> None:
    with transaction(app.state.sessions) as session:
        draft = rulebooks.do_save_draft(session, None, "", "第一版")
        rulebooks.do_publish(session, None, draft.id)
        call_id = session.scalars(select(CallRecord.id).where(CallRecord.transcript.is_not(None))).first()
        quality.do_reinspect(session, None, call_ids=[call_id], failed_only=False)
        stored_card = quality.current_inspection(session, call_id)
        assert stored_card is not None
        stored_card.final_score = 42.5  # as a review would leave it: the page must not re-inspect
    agent = client_for(app, "10001")
    page = agent.get(f"/calls/{call_id}")
    assert page.status_code == 200 and "第 1 版(2026.11+r1)" in page.text
    assert re.search(r'data-field="final_score">42.5<', page.text) and "重新质检" not in page.text
    card = agent.get(f"/api/calls/{call_id}/inspection").json()
    assert card["status"] == "done" and card["rulebook_version"] == "第 1 版(2026.11+r1)"
    assert card["report"]["final_score"] == 42.5 and card["report"]["machine_score"] != 42.5

    bare = agent.post("/api/calls", json={"direction": "呼入", "ring_at": "2026-11-02 09:00:00", "reason": "咨询-资费"})
    assert "该通话没有转写,无法质检" in agent.get(f"/calls/{bare.json()['id']}").text


def test_a_failed_inspection_shows_and_reinspects(app: FastAPI) -> None:
    with app.state.sessions() as session, session.begin():
        session.info["rulebooks"] = BrokenSource()  # the engine fails for real on this call
        agent_id = session.scalar(select(CallRecord.agent_id).where(CallRecord.agent_id.is_not(None)))
        record = intake.do_record_call(
            session, None,
            CallCreate(direction="inbound", ring_at=local(2, 9), reason="consult.tariff", agent_id=agent_id,
                       transcript=RUDE),
        )  # fmt: skip
    agent = client_for(app, "10001")
    seen = agent.get(f"/calls/{record.id}").text
    assert "质检失败,待重新质检" in seen and "rule engine crashed" in seen and "重新质检</button>" not in seen
    assert agent.post("/quality/reinspect", data={"call_id": str(record.id)}).status_code == 403

    supervisor = client_for(app, "50001")
    page = supervisor.get(f"/calls/{record.id}").text
    assert "质检失败,待重新质检" in page and "重新质检</button>" in page
    failed = supervisor.get("/api/quality/reports/failed").json()
    assert [f["call_id"] for f in failed] == [record.id] and "rule engine crashed" in failed[0]["error"]
    listing = supervisor.get("/quality/reports/failed").text
    assert f'data-call="{record.id}"' in listing and "全部重新质检" in listing
    assert supervisor.get("/api/quality/reports").json()["failed_inspections"] >= 0

    done = supervisor.post("/quality/reinspect", data={"call_id": str(record.id)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/calls/{record.id}"
    page = supervisor.get(f"/calls/{record.id}").text
    assert "已重新质检" in page and "质检失败" not in page and "服务禁语" in page
    assert supervisor.get("/api/quality/reports/failed").json() == []
    assert supervisor.post("/api/quality/reports/reinspect", json={}).json() == {"reinspected": [], "failed": []}


def test_reinspect_all_failed_from_the_list(app: FastAPI) -> None:
    with app.state.sessions() as session, session.begin():
        session.info["rulebooks"] = BrokenSource()
        made = intake.do_import_calls(
            session, None,
            [CallCreate(direction="inbound", ring_at=local(2, 9 + n), reason="consult.tariff", transcript=RUDE)
             for n in range(2)],
            "test.csv",
        )  # fmt: skip
    supervisor = client_for(app, "50001")
    assert len(supervisor.get("/api/quality/reports/failed").json()) == 2
    answer = supervisor.post("/quality/reinspect", data={}, follow_redirects=True)
    assert answer.status_code == 200 and "已重新质检 2 通" in answer.text and "没有质检失败的通话" in answer.text
    with app.state.sessions() as session:
        assert all(quality.current_inspection(session, c.id).status == InspectionStatus.DONE for c in made)  # type: ignore[union-attr]


# ---------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("kefu-reports")
    app = create_app(Settings(data_dir=folder, secret_key="browser-test"))
    seed_demo(app.state.sessions, must_change_password=False)
    with live_server(app) as url:
        yield url


def test_supervisor_drills_down_from_a_rule_bar_to_a_call(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=server)
    page = context.new_page()
    login(page, server, "50001")
    page.get_by_role("link", name="质检报表").click()
    page.wait_for_url("**/quality/reports")
    assert page.locator("#chart-histogram svg").count() == 1 and page.locator("#chart-trend svg").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366  # no sideways scrolling
    bar = page.locator("#chart-rules svg a").first
    rule = bar.locator("g.hbar").get_attribute("data-rule")
    calls_of_rule = int(re.search(r"(\d+) 通", bar.locator("text.sub").text_content() or "").group(1))  # type: ignore[union-attr]
    bar.click()
    page.wait_for_url(re.compile(r".*/quality/reports/calls\?.*rule=" + re.escape(rule or "")))
    assert page.locator("#drill tbody tr").count() == calls_of_rule
    assert page.locator("#drill-count").inner_text() == str(calls_of_rule)
    link = page.locator("#drill tbody tr a").first
    call_id = link.get_attribute("href").rsplit("/", 1)[1]  # type: ignore[union-attr]
    link.click()
    page.wait_for_url(f"**/calls/{call_id}")
    assert page.locator("#scorecard [data-field=rulebook_version]").inner_text().startswith("默认规则")
    assert page.locator("#scorecard li.finding").count() > 0
    context.close()
