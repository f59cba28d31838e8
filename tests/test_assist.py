"""通话助手 (SPEC §10) without a browser: the service (a reply checked for 服务禁语 with the
recommended wording put in; the greeting, checklist and scripts for a moment) and /api/assist on
SQLite and PostgreSQL (who may use it, CSRF, bad input)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import client_for
from kefu.assist import service
from kefu.core.errors import Invalid, NotFound
from kefu.inspection.assist import SentenceChecker, SentenceHit
from kefu.rulebook.calendar import moment_greetings
from kefu.rulebook.schema import Rulebook

# The seed's replacements (004 禁用语→推荐用语, as SPEC §1 quotes them).
DONT_KNOW = "我需要查询后告诉您"
MISHEARD = "可能我的表达不够清楚"
WAIT = "请您稍等片刻"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def checker() -> SentenceChecker:
    from kefu.rulebook.loader import load_rulebook

    return SentenceChecker(load_rulebook())


# ---------------------------------------------------------------- service: checking a reply


def test_forbidden_phrases_get_the_seeds_wording_and_their_place(checker: SentenceChecker) -> None:
    text = "这个我不知道,你听错了吧"
    checked = service.check(checker, text)
    assert [(h.evidence, h.suggestion) for h in checked.hits] == [("不知道", DONT_KNOW), ("你听错了", MISHEARD)]
    for hit in checked.hits:
        assert text[hit.start : hit.end] == hit.evidence and hit.source and "004" in hit.source
    assert checked.corrected == f"这个我{DONT_KNOW},{MISHEARD}吧"


def test_traditional_characters_and_polite_forms(checker: SentenceChecker) -> None:
    traditional = service.check(checker, "這個我不知道,您聽錯了")
    assert [(h.evidence, h.suggestion) for h in traditional.hits] == [("不知道", DONT_KNOW), ("您聽錯了", MISHEARD)]
    assert service.check(checker, "请您稍等一下,我帮您查询").hits == []  # the engine's exception
    [wait] = service.check(checker, "等一下").hits
    assert wait.suggestion == WAIT


def test_empty_text_has_no_hits_and_too_long_is_refused(checker: SentenceChecker) -> None:
    for blank in ("", "   \n"):
        checked = service.check(checker, blank)
        assert checked.hits == [] and checked.corrected == blank
    longest = "好" * (service.MAX_CHARS - 3) + "不知道"
    assert [h.evidence for h in service.check(checker, longest).hits] == ["不知道"]
    with pytest.raises(Invalid, match="最多检查 2000 字,当前 2001 字"):
        service.check(checker, longest + "。")


def test_offsets_count_characters_not_utf16_units(checker: SentenceChecker) -> None:
    text = "😀👍 好的,等一下"  # characters outside the BMP before the phrase
    [hit] = service.check(checker, text).hits
    assert (hit.start, hit.end) == (6, 9) and text[hit.start : hit.end] == "等一下"
    assert service.check(checker, text).corrected == f"😀👍 好的,{WAIT}"


def hit(start: int, end: int, suggestion: str | None) -> SentenceHit:
    return SentenceHit("forbidden", "服务禁语", "x" * (end - start), start, end, suggestion, None, None)


def test_overlapping_hits_and_hits_without_wording() -> None:
    text = "0123456789"
    assert service.apply_suggestions(text, [hit(2, 4, "AB"), hit(3, 6, "CD"), hit(7, 9, None)]) == "01AB456789"
    assert service.apply_suggestions(text, [hit(2, 4, "AB"), hit(2, 6, "LONG")]) == "01LONG6789"  # the longest
    assert service.apply_suggestions(text, []) == text


# ---------------------------------------------------------------- service: the screen for a moment


def test_greeting_and_closing_follow_the_centres_clock(rulebook: Rulebook) -> None:
    platform = rulebook.on_clock(SHANGHAI)
    morning = service.context(platform, datetime(2026, 11, 23, 0, 30, tzinfo=UTC))  # 08:30 in Shanghai
    assert morning.moment.greeting == "早上好" and morning.moment.opening.startswith("早上好")
    new_year = service.context(platform, datetime(2026, 1, 1, 2, 0, tzinfo=UTC))
    assert new_year.moment.greeting == "新年好" and new_year.moment.holiday == "元旦"
    friday = datetime(2026, 11, 20, 20, 0, tzinfo=SHANGHAI)
    assert friday.isoweekday() == 5
    assert "周末愉快" in service.context(platform, friday).moment.closing
    moment = datetime(2026, 11, 23, 14, 0, tzinfo=SHANGHAI)
    expected = moment_greetings(platform.greetings, moment)
    shown = service.context(platform, moment).moment
    assert (shown.greeting, shown.opening, shown.closing) == (expected.greeting, expected.opening, expected.closing)


def test_checklist_scenarios_and_scripts(rulebook: Rulebook) -> None:
    now = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    everything = service.context(rulebook, now)
    assert [item.stage.id for item in everything.stages] == [s.id for s in rulebook.stages]
    assert len(everything.stages) == 5 and len(everything.scripts) == len(rulebook.scripts)
    assert "无声电话" in everything.scenarios and "用户愤怒" in everything.scenarios
    opening = next(item for item in everything.stages if item.stage.id == "opening")
    assert "无声电话" in opening.scenarios and "用户愤怒" not in opening.scenarios

    angry = service.context(rulebook, now, scenario="用户愤怒")
    assert angry.scripts and {s.scenario for s in angry.scripts} == {"用户愤怒"}
    stage = service.context(rulebook, now, stage="gathering")
    assert stage.scripts and {s.stage for s in stage.scripts} == {"gathering"}
    both = service.context(rulebook, now, stage="opening", scenario="无声电话")
    assert [s.id for s in both.scripts] == ["silent_call"]
    assert service.context(rulebook, now, stage="closing", scenario="无声电话").scripts == []
    order = [s.id for s in rulebook.stages]
    ranks = [order.index(s.stage) for s in everything.scripts]
    assert ranks == sorted(ranks)  # in call-stage order

    with pytest.raises(NotFound, match="没有通话阶段「lunch」"):
        service.context(rulebook, now, stage="lunch")
    with pytest.raises(NotFound, match="没有场景「吃午饭」"):
        service.context(rulebook, now, scenario="吃午饭")


# ---------------------------------------------------------------- /api/assist (SQLite and PostgreSQL)


def test_check_api_gives_hits_and_the_corrected_text(app: FastAPI) -> None:
    client = client_for(app)
    answer = client.post("/api/assist/check", json={"text": "这个我不知道,你听错了"})
    assert answer.status_code == 200
    body = answer.json()
    assert [(h["evidence"], h["start"], h["end"], h["suggestion"]) for h in body["hits"]] == [
        ("不知道", 3, 6, DONT_KNOW),
        ("你听错了", 7, 11, MISHEARD),
    ]
    first = body["hits"][0]
    assert first["set"] == "negative" and first["label"] and "004" in first["source"]
    assert body["corrected"] == f"这个我{DONT_KNOW},{MISHEARD}"

    traditional = client.post("/api/assist/check", json={"text": "這個我不知道"}).json()
    assert [(h["evidence"], h["suggestion"]) for h in traditional["hits"]] == [("不知道", DONT_KNOW)]
    polite = client.post("/api/assist/check", json={"text": "请您稍等一下"}).json()
    assert polite == {"hits": [], "corrected": "请您稍等一下"}
    assert client.post("/api/assist/check", json={"text": ""}).json() == {"hits": [], "corrected": ""}


def test_check_api_refuses_bad_input_clearly(app: FastAPI) -> None:
    client = client_for(app)
    too_long = client.post("/api/assist/check", json={"text": "您好" * 1001})
    assert (
        too_long.status_code == 422 and too_long.json()["detail"] == "文字过长:最多检查 2000 字,当前 2002 字,请分段输入"
    )
    assert client.post("/api/assist/check", json={"text": "好" * 2000}).status_code == 200
    missing = client.post("/api/assist/check", json={})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "text"

    no_csrf = client.post("/api/assist/check", json={"text": "不知道"}, headers={"X-CSRF-Token": ""})
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["detail"]


def test_not_logged_in_is_401(app: FastAPI) -> None:
    """A session with its CSRF token (from the login form) but nobody logged in."""
    client = TestClient(app)
    token = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    answer = client.post("/api/assist/check", json={"text": "不知道"}, headers={"X-CSRF-Token": token})
    assert answer.status_code == 401 and answer.json()["detail"] == "请先登录"
    assert client.get("/api/assist/context").status_code == 401


def test_every_role_may_use_it(app: FastAPI) -> None:
    for agent_no in ("10001", "20001", "40001"):
        client = client_for(app, agent_no)
        assert client.post("/api/assist/check", json={"text": "不知道"}).json()["hits"][0]["suggestion"] == DONT_KNOW
        assert client.get("/api/assist/context").status_code == 200


def test_context_api(app: FastAPI) -> None:
    client = client_for(app)
    rulebook = app.state.rulebook
    before = moment_greetings(rulebook.greetings, datetime.now(UTC))
    body = client.get("/api/assist/context", params={"scenario": "无声电话"}).json()
    after = moment_greetings(rulebook.greetings, datetime.now(UTC))
    assert (body["greeting"], body["opening"], body["closing"]) in {
        (m.greeting, m.opening, m.closing) for m in (before, after)
    }
    assert datetime.fromisoformat(body["moment"]).utcoffset() == before.moment.utcoffset()  # the centre's clock
    assert [s["id"] for s in body["stages"]] == ["opening", "gathering", "providing", "follow_up", "closing"]
    assert "无声电话" in body["stages"][0]["scenarios"] and "用户愤怒" in body["scenarios"]
    assert body["scenario"] == "无声电话" and body["stage"] is None
    [silent] = body["scripts"]
    assert silent["id"] == "silent_call" and silent["stage_name"] == "礼貌地开始通话的阶段"
    assert silent["url"] == "/knowledge/scripts?stage=opening#silent_call" and len(silent["steps"]) > 3

    gathering = client.get("/api/assist/context", params={"stage": "gathering"}).json()["scripts"]
    assert gathering and {s["stage"] for s in gathering} == {"gathering"}
    assert len(client.get("/api/assist/context").json()["scripts"]) == len(rulebook.scripts)
    unknown = client.get("/api/assist/context", params={"stage": "lunch"})
    assert unknown.status_code == 404 and unknown.json()["detail"] == "没有通话阶段「lunch」"
    assert client.get("/api/assist/context", params={"scenario": "吃午饭"}).status_code == 404


def test_assist_page_and_links(app: FastAPI) -> None:
    client = client_for(app)
    html = client.get("/assist").text
    assert '<a href="/assist"' in client.get("/").text  # top navigation
    assert 'id="reply"' in html and 'maxlength="2000"' in html and "/static/assist.js" in html
    assert html.count('type="checkbox"') == 5
    assert 'data-stage="opening">礼貌地开始通话的阶段</h3>' in html  # the first stage to start with
    assert 'id="silent_call"' in html and 'id="hn_angry_customer"' not in html
    angry = client.get("/assist", params={"stage": "", "scenario": "用户愤怒", "call": 7}).text
    assert 'id="hn_angry_customer"' in angry and 'id="silent_call"' not in angry
    assert 'href="/calls/7"' in angry and '<option value="用户愤怒" selected>' in angry
    wrong = client.get("/assist", params={"stage": "closing", "scenario": "用户愤怒"}).text
    assert '<option value="用户愤怒"' not in wrong and 'id="hn_inbound_closing"' in wrong  # the stage's, all
    assert TestClient(app).get("/assist", follow_redirects=False).headers["location"] == "/login?next=/assist"
