"""The main flows in a real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from browser_helpers import login
from conftest import live_server
from kefu.core.settings import Settings
from kefu.demo import seed_demo
from kefu.web.app import create_app


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("kefu")
    app = create_app(Settings(data_dir=folder, secret_key="browser-test"))
    seed_demo(app.state.sessions, must_change_password=False)
    with live_server(app) as url:
        yield url


@pytest.fixture
def page(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=server)
    yield context.new_page()
    context.close()


def test_login_shows_the_workbench_with_the_right_greeting(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    assert page.url.endswith("/login?next=/")
    login(page, server, "10001", "wrong-password1")
    assert "工号或密码错误" in page.locator(".error").inner_text()
    login(page, server, "10001")
    assert page.locator("h1").inner_text() == "工作台"
    assert "很高兴为您服务" in page.locator("#opening").inner_text()
    assert "李晓" in page.locator(".me").inner_text()


def test_customer_lookup_verification_and_read_back_edit(page, server) -> None:  # type: ignore[no-untyped-def]
    login(page, server, "10001")
    page.keyboard.press("/")  # the shortcut focuses the search box
    page.keyboard.type("13812345678")
    page.keyboard.press("Enter")
    page.wait_for_url("**/customers?q=13812345678")
    row = page.locator("table.list tbody tr")
    assert row.count() == 1 and "138********" in row.inner_text() and "未验证" in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_url("**/customers/*")
    assert page.locator("dd[data-field=phone]").inner_text() == "138********"
    assert page.locator("form[action$=edit]").count() == 0  # no editing before the identity check

    page.get_by_label("手机号后四位").fill("0000")
    page.get_by_role("button", name="验证").click()
    assert "不符" in page.locator("[role=alert]").inner_text()
    page.get_by_label("手机号后四位").fill("5678")
    page.get_by_role("button", name="验证").click()
    assert "身份验证通过" in page.locator(".flash").inner_text()
    assert page.locator("dd[data-field=phone]").inner_text() == "13812345678"

    page.locator("form[action$=edit]").get_by_label("地址").fill("上海市浦东新区世纪大道1号")
    page.get_by_role("button", name="下一步:复述确认").click()
    read_back = page.locator(".script").inner_text()
    assert "地址由「北京市海淀区科技路100号」改为「上海市浦东新区世纪大道1号」" in read_back
    page.get_by_role("button", name="客户已确认,保存").click()
    assert "客户资料已保存" in page.locator(".flash").inner_text()
    assert page.locator("dd[data-field=address]").inner_text() == "上海市浦东新区世纪大道1号"


def test_pages_check_permissions_and_logout_ends_the_session(page, server) -> None:  # type: ignore[no-untyped-def]
    login(page, server, "10002")
    page.goto("/audit")
    assert "无权" in page.locator("[role=alert]").inner_text()
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login")
    page.goto("/customers")
    assert "/login" in page.url
    login(page, server, "50001")  # a supervisor sees the audit log, including the lookups above
    page.goto("/audit")
    assert page.locator("table.list tbody tr").count() > 0
    assert "查询" in page.locator("table.list").inner_text()  # the lookups above, in Chinese
