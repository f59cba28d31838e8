"""通话助手 in real Chromium: the forbidden-phrase warning appears while the agent types, the
recommended wording goes in with one click (or the keyboard), scenarios switch without losing
what was typed, the greeting is the rulebook's for now, and the page fits 1366×768."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from playwright.sync_api import expect
from sqlalchemy import select

from browser_helpers import login
from conftest import live_server
from kefu.calls.models import CallRecord
from kefu.core.settings import Settings
from kefu.demo import seed_demo
from kefu.rulebook.calendar import moment_greetings
from kefu.web.app import create_app

DONT_KNOW = "我需要查询后告诉您"  # seed 004: 不知道 → 我需要查询后告诉您


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    application = create_app(Settings(data_dir=tmp_path_factory.mktemp("kefu-assist"), secret_key="browser-test"))
    seed_demo(application.state.sessions, must_change_password=False)
    with live_server(application) as url:
        yield application, url
    application.state.engine.dispose()


@pytest.fixture
def page(browser, served):  # type: ignore[no-untyped-def]
    _, url = served
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=url)
    page = context.new_page()
    login(page, url, "10001")
    yield page
    context.close()


def test_the_warning_appears_while_typing_and_the_suggestion_goes_in(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("link", name="通话助手").first.click()  # top navigation
    page.wait_for_url("**/assist")
    reply = page.get_by_label("回复 / 备注")
    expect(reply).to_be_focused()
    reply.press_sequentially("这个我不知道")  # key by key; no button pressed
    warning = page.locator("#warning-list li")
    expect(warning).to_have_count(1)
    expect(warning).to_contain_text("「不知道」")
    expect(warning).to_contain_text(f"建议改为:{DONT_KNOW}")
    expect(warning).to_contain_text("来源:004")

    warning.get_by_role("button", name="采用建议").click()
    expect(reply).to_have_value(f"这个我{DONT_KNOW}")
    expect(page.locator("#check-state")).to_have_text("未发现服务禁语")
    expect(warning).to_have_count(0)

    reply.press("End")  # by keyboard: type on, Tab to the button, Enter
    reply.press_sequentially(",等一下")
    expect(warning).to_contain_text("建议改为:请您稍等片刻")
    page.keyboard.press("Tab")
    expect(warning.get_by_role("button", name="采用建议")).to_be_focused()
    page.keyboard.press("Enter")
    expect(reply).to_have_value(f"这个我{DONT_KNOW},请您稍等片刻")
    expect(reply).to_be_focused()

    reply.fill("")
    reply.press_sequentially("请您稍等一下")  # the polite form is fine
    expect(page.locator("#warnings")).to_have_attribute("data-checked", "请您稍等一下")
    expect(page.locator("#check-state")).to_have_text("未发现服务禁语")
    expect(warning).to_have_count(0)

    reply.fill("我不知道,你听错了")
    expect(warning).to_have_count(2)
    page.get_by_role("button", name="全部采用建议").click()
    expect(reply).to_have_value(f"我{DONT_KNOW},可能我的表达不够清楚")
    expect(warning).to_have_count(0)
    expect(page.get_by_role("button", name="全部采用建议")).to_be_hidden()


def test_scenarios_switch_without_losing_the_text_or_the_ticks(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/assist")
    cards = page.locator("#script-list .kb-script")
    expect(page.locator("#script-list h3")).to_have_text(["礼貌地开始通话的阶段"])  # a call starts there
    page.get_by_label("回复 / 备注").fill("您好,请问有什么可以帮您?")
    page.locator("#checklist input").first.check()
    expect(page.locator("#checklist-progress")).to_have_text("1 / 5")

    page.get_by_label("通话阶段").select_option("providing")
    expect(page.locator("#script-list h3")).to_have_text(["信息提供阶段"])
    page.get_by_label("场景").select_option("用户愤怒")
    expect(cards.filter(has_not_text="用户愤怒")).to_have_count(0)  # waits for the column to be replaced
    expect(cards.filter(has_text="用户愤怒")).not_to_have_count(0)
    expect(page.locator("#scenario")).to_have_value("用户愤怒")
    assert page.url.endswith("/assist?stage=providing&scenario=%E7%94%A8%E6%88%B7%E6%84%A4%E6%80%92")

    expect(page.get_by_label("回复 / 备注")).to_have_value("您好,请问有什么可以帮您?")  # no reload
    expect(page.locator("#checklist input").first).to_be_checked()
    page.locator("#checklist li[data-stage=closing] a").click()
    expect(page.locator("#script-list h3")).to_have_text(["以追求效果的结束语结束通话的阶段"])
    expect(page.locator("#scenario")).to_have_value("")

    page.get_by_role("button", name="新通话").click()
    expect(page.locator("#checklist-progress")).to_have_text("0 / 5")
    expect(page.get_by_label("回复 / 备注")).to_have_value("")


def test_the_greeting_is_the_rulebooks_for_now_and_the_page_fits(page, served) -> None:  # type: ignore[no-untyped-def]
    application, _ = served
    greetings = application.state.rulebook.greetings
    before = moment_greetings(greetings, datetime.now(UTC))
    page.goto("/assist")
    after = moment_greetings(greetings, datetime.now(UTC))
    shown = (page.locator("#assist-opening").inner_text(), page.locator("#assist-closing").inner_text())
    assert shown in {(m.opening, m.closing) for m in (before, after)}
    assert before.greeting in shown[0] or after.greeting in shown[0]

    for part in ("#assist-times", "#checklist", "#assist-scripts", "#reply", "#warnings"):
        box = page.locator(part).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1366, part
        assert box["y"] < 768, part
    reply = page.locator("#reply").bounding_box()
    assert reply is not None and reply["y"] + reply["height"] <= 768
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366  # no sideways scrolling


def test_the_call_page_links_to_the_assistant(page, served) -> None:  # type: ignore[no-untyped-def]
    application, _ = served
    with application.state.sessions() as session:
        call_id = session.scalars(select(CallRecord.id).order_by(CallRecord.id)).first()
    assert call_id is not None
    page.goto(f"/calls/{call_id}")
    page.get_by_role("link", name="通话助手", exact=True).last.click()
    page.wait_for_url(f"**/assist?call={call_id}")
    page.get_by_label("场景").select_option("无声电话")
    expect(page.locator("#script-list .kb-script")).to_have_count(1)
    assert page.url.endswith(f"call={call_id}")
    page.get_by_role("link", name="← 返回通话").click()
    page.wait_for_url(f"**/calls/{call_id}")
