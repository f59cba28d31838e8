"""The rulebook managed in the platform and the what-if run: a real rule change tried on stored
calls (which findings disappear, how scores move — checked against what publishing then stores),
nothing stored by a what-if, the sample choices; the /api/quality/rulebooks endpoints
(permissions, YAML errors with their line, stale saves, publishing) on SQLite and PostgreSQL; and
the editor → what-if → publish flow in a real browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from browser_helpers import login
from conftest import CLOSING_TURNS as CLOSING
from conftest import GOOD_TURNS as GOOD
from conftest import OPENING_TURN as OPENING
from conftest import AppFactory, client_for, live_server
from kefu.accounts import service as accounts
from kefu.calls.models import CallRecord
from kefu.calls.schemas import CallCreate
from kefu.core.audit import AuditEntry
from kefu.core.clock import centre_tz
from kefu.core.db import transaction
from kefu.core.errors import Invalid, NotFound
from kefu.core.security import Role
from kefu.core.settings import Settings
from kefu.demo import seed_demo
from kefu.flows import intake
from kefu.quality import rulebooks
from kefu.quality import service as quality
from kefu.quality.models import Finding, Inspection, RulebookVersion
from kefu.quality.rulebooks import RulebookSource
from kefu.quality.whatif import Sample, whatif
from kefu.web.app import create_app


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0, 0, tzinfo=centre_tz())


WAIT = [  # 「等一下」 is the only forbidden phrase
    OPENING,
    {"speaker": "customer", "text": "我的宽带为什么又断了?", "start": 5.5, "end": 8},
    {"speaker": "agent", "text": "好的,您等一下,我帮您查。", "start": 8.5, "end": 11},
    *CLOSING,
]
WAIT_AND_WHO = [  # 「等一下」 and 「我问谁」: the rule still fires once the first is allowed
    OPENING,
    {"speaker": "customer", "text": "我的宽带为什么又断了?", "start": 5.5, "end": 8},
    {"speaker": "agent", "text": "您等一下。", "start": 8.5, "end": 10},
    {"speaker": "customer", "text": "那你问问技术呀。", "start": 10.5, "end": 12},
    {"speaker": "agent", "text": "我问谁呀,没人知道。", "start": 12.5, "end": 15},
    *CLOSING,
]

ALLOW_WAIT = "phrase_sets:\n  forbidden:\n    remove: [等一下]\n"
# 禁语 becomes costly: each one takes the rule's 8 points instead of 1.
COSTLY_PHRASES = "rules:\n  - id: forbidden_phrase\n    deduction: 8\n"


def new_call(turns: list[dict[str, Any]] | None, agent_id: int, day: int = 23, hour: int = 9) -> CallCreate:
    ring = at(day, hour)
    return CallCreate.model_validate(
        {
            "direction": "inbound",
            "ring_at": ring,
            "answered_at": ring + timedelta(seconds=4),
            "ended_at": ring + timedelta(seconds=50),
            "hangup_by": "customer",
            "reason": "consult.tariff",
            "agent_id": agent_id,
            "transcript": turns,
        }
    )


@pytest.fixture
def agent(sessions) -> int:  # type: ignore[no-untyped-def]
    # A source of its own, as the web app has one: the process-wide default caches versions by id,
    # and version 1 of another test's database is not this database's version 1.
    sessions.configure(info={"rulebooks": RulebookSource()})
    with transaction(sessions) as session:
        return accounts.do_create_user(
            session, None, agent_no="12345", name="小李", role=Role.AGENT, password="kefu2026"
        ).id


@pytest.fixture
def three(sessions, agent: int) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """A polite call, one whose only 禁语 is 「等一下」, one with 「等一下」 and 「我问谁」."""
    with transaction(sessions) as session:
        good = intake.do_record_call(session, agent, new_call(GOOD, agent, hour=9))
        wait = intake.do_record_call(session, agent, new_call(WAIT, agent, hour=10))
        both = intake.do_record_call(session, agent, new_call(WAIT_AND_WHO, agent, hour=11))
        return good.id, wait.id, both.id


def stored(session) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Everything a what-if must leave alone."""
    return {
        "inspections": session.scalar(select(func.count()).select_from(Inspection)),
        "findings": session.scalar(select(func.count()).select_from(Finding)),
        "audit": session.scalar(select(func.count()).select_from(AuditEntry)),
        "rulebooks": [(v.id, v.version, v.status, v.overlay) for v in session.scalars(select(RulebookVersion))],
        "scores": list(session.execute(select(CallRecord.id, CallRecord.qa_score, CallRecord.version))),
    }


# ---------------------------------------------------------------- the service


def test_allowing_wait_makes_exactly_those_findings_disappear(sessions, three) -> None:  # type: ignore[no-untyped-def]
    good, wait, both = three
    with sessions() as session:
        result = whatif(session, ALLOW_WAIT, [good, wait, both])
        stored_scores = {c: quality.current_inspection(session, c).machine_score for c in three}  # type: ignore[union-attr]

    forbidden = next(r for r in result.rules if r.rule == "forbidden_phrase")
    assert (forbidden.before, forbidden.after) == (3, 1)  # 等一下 twice, 我问谁 once
    assert (forbidden.appeared, forbidden.disappeared) == (0, 2)
    assert forbidden.calls_disappeared == [wait]  # the other call still has 我问谁
    assert forbidden.calls_appeared == []
    assert result.rules[0] is forbidden  # the changed rule leads the table
    others = [r for r in result.rules if r.rule != "forbidden_phrase"]
    assert all(r.appeared == r.disappeared == 0 and not r.changed for r in others)

    moves = {c.call_id: c for c in result.calls}
    assert moves[good].delta == 0
    assert [moves[c].before for c in three] == [stored_scores[c] for c in three]  # "before" = the stored scorecards
    assert moves[wait].after > moves[wait].before and moves[both].after > moves[both].before
    assert result.mean_after > result.mean_before  # type: ignore[operator]
    assert [m.call_id for m in result.movers] == sorted([wait, both], key=lambda c: -abs(moves[c].delta))
    assert result.before_label == "默认规则(未发布版本)" and result.after_label == "未保存的草稿"


def test_a_costlier_rule_moves_the_scores_as_publishing_it_would(sessions, agent: int, three) -> None:  # type: ignore[no-untyped-def]
    good, wait, both = three
    with transaction(sessions) as session:
        draft = rulebooks.do_save_draft(session, agent, COSTLY_PHRASES, "禁语每次扣 8 分")
    with sessions() as session:
        result = whatif(session, rulebooks.get_version(session, draft.id), [good, wait, both])
    forbidden = next(r for r in result.rules if r.rule == "forbidden_phrase")
    assert (forbidden.deduction_before, forbidden.deduction_after) == (1, 8) and forbidden.changed
    assert forbidden.appeared == forbidden.disappeared == 0 and forbidden.before == forbidden.after == 3
    moves = {c.call_id: c for c in result.calls}
    assert moves[good].delta == 0 and moves[wait].delta < 0 and moves[both].delta < 0
    assert moves[wait].after == moves[both].after  # both lose the rule's whole 8 points, its cap
    assert result.after_label == f"草稿 #{draft.id}"

    with transaction(sessions) as session:  # publish it: the same calls arriving now score what the what-if said
        rulebooks.do_publish(session, agent, draft.id)
        again = {
            c: intake.do_record_call(session, agent, new_call(turns, agent, day=24, hour=hour)).id
            for c, turns, hour in zip(three, (GOOD, WAIT, WAIT_AND_WHO), (9, 10, 11), strict=True)
        }
    with sessions() as session:
        for original, copy in again.items():
            inspection = quality.current_inspection(session, copy)
            assert inspection is not None and inspection.rulebook_label == "2026.11+r1"
            assert inspection.machine_score == moves[original].after
            assert inspection.passed == moves[original].passed_after


def test_a_fatal_rule_turns_passes_into_fails(sessions, three) -> None:  # type: ignore[no-untyped-def]
    good, wait, both = three
    with sessions() as session:
        result = whatif(session, "rules:\n  - id: forbidden_phrase\n    fatal: true\n", list(three))
    assert result.pass_to_fail == 2 and result.fail_to_pass == 0
    moves = {c.call_id: c for c in result.calls}
    assert moves[good].delta == 0 and moves[good].passed_after
    assert moves[wait].after == moves[both].after == 0 and not moves[wait].passed_after
    bins = result.histogram()
    assert sum(count for _, count, _ in bins) == 3
    assert [count for label, count, _ in bins if label == "0"] == [1]
    assert sum(count for _, count, sign in bins if sign < 0) == 2 and bins[0][1] >= 1  # the lowest bin is not empty


def test_a_whatif_stores_nothing(sessions, three) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        before = stored(session)
        whatif(session, ALLOW_WAIT, list(three))
        whatif(session, COSTLY_PHRASES, Sample(latest=10))
        assert not session.new and not session.dirty and not session.deleted
        session.commit()
    with sessions() as session:
        assert stored(session) == before


def test_the_sample_choices(sessions, agent: int) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        ids = [intake.do_record_call(session, agent, new_call(WAIT, agent, day=d, hour=9)).id for d in range(10, 20)]
        silent = intake.do_record_call(session, agent, new_call(None, agent, day=20)).id
    with sessions() as session:
        latest = whatif(session, ALLOW_WAIT, Sample(latest=3))
        assert [c.call_id for c in latest.calls] == ids[-3:]  # the last three inspected
        one = whatif(session, ALLOW_WAIT, Sample(random=4, seed=7, since=at(12, 0), until=at(18, 0)))
        two = whatif(session, ALLOW_WAIT, Sample(random=4, seed=7, since=at(12, 0), until=at(18, 0)))
        picked = [c.call_id for c in one.calls]
        assert picked == [c.call_id for c in two.calls] and len(picked) == 4  # the seed makes it reproducible
        assert set(picked) <= set(ids[2:8])  # rung on the 12th … 17th
        everything = whatif(session, ALLOW_WAIT, Sample(random=100, seed=1))
        assert [c.call_id for c in everything.calls] == ids  # never the call without a transcript
        explicit = whatif(session, ALLOW_WAIT, [ids[0], silent])
        assert [c.call_id for c in explicit.calls] == [ids[0]] and explicit.skipped == [silent]

        with pytest.raises(NotFound, match="通话 99999 不存在"):
            whatif(session, ALLOW_WAIT, [ids[0], 99999])
        with pytest.raises(Invalid, match="选择试运行的电话"):
            whatif(session, ALLOW_WAIT, Sample())
        with pytest.raises(Invalid, match="开始日期须早于结束日期"):
            whatif(session, ALLOW_WAIT, Sample(random=3, since=at(18, 0), until=at(12, 0)))
        with pytest.raises(Invalid, match="1 到 2000"):
            whatif(session, ALLOW_WAIT, Sample(latest=0))
        with pytest.raises(Invalid, match=r"规则草稿\.yaml:3"):
            whatif(session, "rules:\n  - id: opening\n    points: -5\n", [ids[0]])


def test_five_hundred_calls_take_well_under_a_few_seconds(sessions, agent: int) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        intake.do_import_calls(
            session, agent, [new_call((GOOD, WAIT, WAIT_AND_WHO)[i % 3], agent) for i in range(500)], "load.csv"
        )
    with sessions() as session:
        result = whatif(session, ALLOW_WAIT, Sample(latest=500))
    assert len(result.calls) == 500
    assert next(r for r in result.rules if r.rule == "forbidden_phrase").disappeared == 167 + 166  # every 「等一下」
    assert result.took_ms < 3000


# ---------------------------------------------------------------- the API


@pytest.fixture
def app(app_factory: AppFactory) -> FastAPI:
    return app_factory(activity=True)  # the whole demo: calls with scorecards, work orders, articles


def test_agents_may_neither_read_nor_change_the_rulebook(app) -> None:  # type: ignore[no-untyped-def]
    agent = client_for(app, "10001")
    assert agent.get("/api/quality/rulebooks").status_code == 403
    assert agent.post("/api/quality/rulebooks", json={"overlay": ALLOW_WAIT}).status_code == 403
    lead = client_for(app, "20001")
    assert lead.post("/api/quality/rulebooks/validate", json={"overlay": ALLOW_WAIT}).status_code == 403
    qa = client_for(app, "30001")
    assert qa.get("/api/quality/rulebooks").json() == []  # nothing was created by the refusals


def test_drafts_are_validated_saved_with_locking_tried_and_published(app) -> None:  # type: ignore[no-untyped-def]
    qa = client_for(app, "30001")
    wrong = qa.post("/api/quality/rulebooks/validate", json={"overlay": "rules:\n  - id: opening\n    points: -5\n"})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0].startswith("规则草稿.yaml:3: rules[opening].points")
    refused = qa.post("/api/quality/rulebooks", json={"overlay": "phrase_sets:\n  forbidden\n    remove: [等一下]\n"})
    assert refused.status_code == 422 and refused.json()["errors"][0].startswith("规则草稿.yaml:")
    assert qa.get("/api/quality/rulebooks").json() == []

    created = qa.post("/api/quality/rulebooks", json={"overlay": ALLOW_WAIT, "note": "允许「等一下」"})
    assert created.status_code == 201, created.text
    draft = created.json()
    assert draft["status"] == "draft" and draft["label"] == f"草稿 #{draft['id']}" and not draft["current"]
    opening = next(r for r in draft["rules"] if r["id"] == "opening")
    assert opening == {
        "id": "opening",
        "name": opening["name"],
        "category": "opening_closing",
        "category_name": opening["category_name"],
        "points": 5.0,
        "deduction": 5.0,
        "fatal": False,
        "enabled": True,
    }

    url = f"/api/quality/rulebooks/{draft['id']}"
    body = {"overlay": ALLOW_WAIT + COSTLY_PHRASES, "note": "再加重禁语", "version": draft["version"]}
    saved = qa.put(url, json=body)
    assert saved.status_code == 200 and saved.json()["version"] == draft["version"] + 1
    stale = qa.put(url, json={**body, "overlay": ""})  # the editor that opened the first version
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["detail"]
    bad = qa.put(
        url, json={**body, "overlay": "rules:\n  - id: opening\n    points: x\n", "version": draft["version"] + 1}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0].startswith("规则草稿.yaml:3:")
    assert qa.get(url).json()["overlay"] == ALLOW_WAIT + COSTLY_PHRASES  # neither refusal changed it

    tried = qa.post(url + "/whatif", json={"latest": 50})
    assert tried.status_code == 200, tried.text
    result = tried.json()
    assert result["call_count"] > 0 and result["before_label"] == "默认规则(未发布版本)"
    forbidden = next(r for r in result["rules"] if r["rule"] == "forbidden_phrase")
    assert forbidden["deduction_after"] == 8 and forbidden["disappeared"] >= 1
    assert qa.post(url + "/whatif", json={}).status_code == 422
    assert qa.post(url + "/whatif", json={"call_ids": [999999]}).status_code == 404
    assert client_for(app, "10001").post(url + "/whatif", json={"latest": 5}).status_code == 403

    published = qa.post(url + "/publish", json={"version": draft["version"] + 1})
    assert published.status_code == 200 and published.json()["number"] == 1 and published.json()["current"]
    assert qa.post(url + "/publish", json={}).status_code == 409
    assert qa.put(url, json={**body, "version": draft["version"] + 1}).status_code == 409  # published: frozen

    agent = client_for(app, "10001")
    call = agent.post(
        "/api/calls",
        json={
            "direction": "inbound",
            "ring_at": datetime.now(centre_tz()).isoformat(),
            "agent_id": agent.get("/api/auth/me").json()["id"],
            "reason": "consult.tariff",
            "transcript": WAIT,
        },
    )
    assert call.status_code == 201, call.text
    with app.state.sessions() as session:
        inspection = quality.current_inspection(session, call.json()["id"])
        assert inspection is not None and inspection.rulebook_label == "2026.11+r1"
        assert "forbidden_phrase" not in {f.rule for f in inspection.findings}


# ---------------------------------------------------------------- in a real browser (SQLite)


SELECTED = (
    "() => { const a = document.getElementById('overlay'); return a.value.slice(a.selectionStart, a.selectionEnd) }"
)
VERSION_PAGE = re.compile(r".*/quality/rulebooks/\d+$")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("kefu-rulebooks")
    app = create_app(Settings(data_dir=folder, secret_key="browser-test"))
    seed_demo(app.state.sessions, must_change_password=False)
    with live_server(app) as url:
        yield url


def test_inspector_edits_tries_and_publishes_a_rulebook(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=server)
    page = context.new_page()
    try:
        login(page, server, "30001")
        page.get_by_role("link", name="规则管理").click()
        page.wait_for_url("**/quality/rulebooks")
        page.get_by_role("link", name="新建草稿").click()
        page.wait_for_url("**/quality/rulebooks/new")

        mistake = (
            "phrase_sets:\n  forbidden:\n    remove: [等一下]\nrules:\n  - id: forbidden_phrase\n    deduction: -1\n"
        )
        page.locator("#overlay").fill(mistake)
        page.get_by_label("修改说明").fill("允许「等一下」")
        page.get_by_role("button", name="保存草稿").click()
        error = page.locator(".rb-errors li").first
        assert error.inner_text().startswith("规则草稿.yaml:6: rules[forbidden_phrase].deduction")
        assert page.locator("#overlay").input_value() == mistake  # the text is kept
        assert page.get_by_label("修改说明").input_value() == "允许「等一下」"
        error.get_by_role("button").click()  # the caret goes to line 6
        assert page.evaluate(SELECTED) == "    deduction: -1"

        page.locator("#overlay").fill(ALLOW_WAIT)
        page.get_by_role("button", name="保存草稿").click()
        page.wait_for_url(VERSION_PAGE)
        assert "已保存" in page.locator(".flash").inner_text()
        assert "等一下" in page.locator("#overlay").inner_text()

        page.get_by_role("link", name="试运行(what-if)").click()
        page.get_by_label("数量 N").fill("50")
        page.get_by_role("button", name="开始试运行").click()
        page.wait_for_url("**/whatif?*")
        row = page.locator("#rule-changes tr[data-rule=forbidden_phrase]")
        assert row.locator("td.disappeared").inner_text().startswith("−")
        assert row.locator("td.disappeared").evaluate("c => getComputedStyle(c).color") == "rgb(46, 125, 50)"
        assert page.locator("svg.rb-chart rect").count() >= 2
        mover = page.locator("#movers tr[data-call] a").first
        assert mover.get_attribute("href").startswith("/calls/")  # type: ignore[union-attr]

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="发布").click()
        page.wait_for_url(VERSION_PAGE)
        assert "已发布为第 1 版" in page.locator(".flash").inner_text()
        page.get_by_role("link", name="规则管理").first.click()
        current = page.locator("#versions tr.rb-current")
        assert "第 1 版" in current.inner_text() and "当前使用" in current.inner_text()
    finally:
        context.close()


def test_the_editor_page_keeps_the_text_of_a_refused_save(app) -> None:  # type: ignore[no-untyped-def]
    qa = client_for(app, "30001")
    draft = qa.post("/api/quality/rulebooks", json={"overlay": ALLOW_WAIT}).json()
    form = {"csrf": qa.headers["X-CSRF-Token"], "overlay": COSTLY_PHRASES, "note": "", "version": str(draft["version"])}
    assert qa.put(
        f"/api/quality/rulebooks/{draft['id']}", json={"overlay": ALLOW_WAIT + "\n", "version": draft["version"]}
    ).is_success  # somebody else saves first

    stale = qa.post(f"/quality/rulebooks/{draft['id']}/edit", data=form, follow_redirects=False)
    assert stale.status_code == 409
    assert "草稿已被他人修改" in stale.text and "rules:\n  - id: forbidden_phrase\n    deduction: 8" in stale.text
    wrong = qa.post(
        f"/quality/rulebooks/{draft['id']}/edit",
        data={**form, "overlay": "rules:\n  - id: opening\n    points: -5\n", "version": str(draft["version"] + 1)},
        follow_redirects=False,
    )
    assert wrong.status_code == 422 and 'data-line="3"' in wrong.text and "points: -5" in wrong.text
    assert qa.get(f"/api/quality/rulebooks/{draft['id']}").json()["overlay"] == ALLOW_WAIT + "\n"  # nothing saved
    assert client_for(app, "10001").get("/quality/rulebooks").status_code == 403
