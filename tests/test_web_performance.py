"""The demo centre and the performance pages in a real browser: the supervisor's board with the
half-hour service level, targets and the planted drop; an agent's month down to the scorecards
and the trend against the team; the month's evaluation published from its page; a team lead
seeing the team only; an agent sent to their own month."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from browser_helpers import login
from conftest import live_server
from kefu.accounts.models import User
from kefu.calls.models import CallRecord
from kefu.core.security import Role
from kefu.core.settings import Settings
from kefu.demo import seed_demo
from kefu.performance import service
from kefu.performance.models import Attendance, PublishedMonth, Sale, Survey
from kefu.quality.models import Inspection
from kefu.web.app import create_app

DROPPING = "10006"  # the demo agent whose last week goes badly (kefu.flows.demo_centre)


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, str]]:
    folder = tmp_path_factory.mktemp("kefu-performance")
    application = create_app(Settings(data_dir=folder, secret_key="browser-test"))
    seed_demo(application.state.sessions, must_change_password=False, centre=True)
    with live_server(application) as url:
        yield application, url
    application.state.engine.dispose()


@pytest.fixture
def page(browser, centre):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=centre[1])
    yield context.new_page()
    context.close()


def test_the_demo_is_sized_like_a_small_centre(centre) -> None:  # type: ignore[no-untyped-def]
    application, _ = centre
    with application.state.sessions() as session:
        agents = session.scalars(select(User).where(User.role == Role.AGENT)).all()
        assert len(agents) == 25 and {a.team for a in agents} == {"一组", "二组", "三组"}
        calls = session.scalar(select(func.count(CallRecord.id)))
        abandoned = session.scalar(select(func.count(CallRecord.id)).where(CallRecord.answered_at.is_(None)))
        assert calls > 20_000 and 0.02 < abandoned / calls < 0.2
        for model, least in ((Survey, 1000), (Sale, 300), (Attendance, 500), (Inspection, 1000)):
            assert session.scalar(select(func.count(model.id))) > least, model.__tablename__
        assert session.scalar(select(func.count(PublishedMonth.id))) == 1  # last month, by the supervisor
        boss = session.scalars(select(User).where(User.agent_no == "50001")).one()
        last = service.month_view(session, boss, service.latest_publishable(service.today()))
        grades = {r.grade for r in last.rows}
        assert last.published and len(last.rows) == 25 and len(grades) >= 3  # a spread, not one grade


def test_the_supervisors_board(page, centre) -> None:  # type: ignore[no-untyped-def]
    _, url = centre
    yesterday = service.today() - timedelta(days=1)  # a whole day, whatever the time now
    login(page, url, "50001")
    page.goto(f"/performance?day={yesterday}")
    assert page.locator("h1").inner_text().startswith("绩效看板")
    columns = page.locator("#service-level svg g.interval")
    assert columns.count() == 48
    values = [columns.nth(i).get_attribute("data-value") for i in range(48)]
    assert sum(1 for v in values if v) >= 24  # calls in most half hours of a day
    assert page.locator("#service-level svg .target-line").count() == 1
    morning = page.locator('#service-level svg g.interval[data-label="10:00"] title').text_content()
    assert morning and "服务水平" in morning and "20 秒内接听" in morning
    assert page.locator("#targets .pf-targets tbody tr").count() == 6
    assert page.locator("#teams tbody tr").count() == 3
    dropped = page.locator(f'#alerts li[data-agent="{DROPPING}"]')
    assert dropped.count() == 1 and "低于控制下限" in dropped.inner_text()
    assert int(page.locator("#reviews-waiting").inner_text()) >= 0

    dropped.get_by_role("link").click()
    page.wait_for_url("**/performance/months/*/agents/*")
    assert DROPPING in page.locator("h1").inner_text()
    trend = page.locator("#trend svg").first
    assert trend.locator('[data-series="班组平均"]').count() == 1 and trend.locator(".limits").count() == 1
    assert page.locator("#trend .pf-alert").count() >= 1


def test_an_agents_month_down_to_the_scorecards(page, centre) -> None:  # type: ignore[no-untyped-def]
    _, url = centre
    login(page, url, "50001")
    last = service.latest_publishable(service.today())
    page.goto(f"/performance/months/{last}")
    assert "已发布第 1 版" in page.locator("#status").inner_text()
    rows = page.locator("#evaluations tbody tr")
    assert rows.count() == 25
    assert page.locator("#stars li").count() >= 1
    rows.first.get_by_role("link").click()
    page.wait_for_url("**/agents/*")
    assert page.locator("#evaluation table tbody tr").count() == 5  # the five dimensions of seed 004
    points = sum(float(t) for t in page.locator("#evaluation table tbody tr td:last-child").all_inner_texts())
    assert points == pytest.approx(float(page.locator("#total").inner_text()), abs=0.05)
    scorecard = page.locator("#scorecards tbody tr").first
    scorecard.get_by_role("link").click()
    page.wait_for_url("**/calls/*")


def test_publishing_from_the_month_page(page, centre) -> None:  # type: ignore[no-untyped-def]
    """The month under way cannot be published (first-contact resolution looks at the days after
    it); the published month takes a correction as its next revision, with the reason."""
    _, url = centre
    login(page, url, "50001")
    current = service.today().strftime("%Y-%m")
    page.goto(f"/performance/months/{current}")
    assert "未发布" in page.locator("#status").inner_text()
    assert page.locator("#publish-form").count() == 0
    assert str(service.publishable_on(current)) in page.locator("#publishable-on").inner_text()
    page.goto(f"/performance/months/{service.latest_publishable(service.today())}")
    assert "已发布第 1 版" in page.locator("#status").inner_text()
    page.get_by_label("修订原因(必填)").fill("补录出勤")
    with page.expect_navigation():
        page.get_by_role("button", name="发布修订版").click()
    status = page.locator("#status").inner_text()
    assert "已发布第 2 版" in status and "补录出勤" in status


def test_a_team_lead_sees_the_team_and_an_agent_their_own_month(page, centre) -> None:  # type: ignore[no-untyped-def]
    _, url = centre
    login(page, url, "20001")
    page.goto("/performance")
    assert page.locator("#teams tbody tr").count() <= 1  # 一组 only (none when it has no calls yet today)
    last = service.latest_publishable(service.today())
    page.goto(f"/performance/months/{last}")
    teams = set(page.locator("#evaluations tbody tr td:nth-child(3)").all_inner_texts())
    assert teams == {"一组"}
    page.context.clear_cookies()
    login(page, url, "10001")
    page.goto("/performance")
    page.wait_for_url("**/performance/months/*/agents/*")
    assert "10001" in page.locator("h1").inner_text()


def test_a_team_lead_records_attendance_and_an_error_from_the_agents_page(page, centre) -> None:  # type: ignore[no-untyped-def]
    application, url = centre
    with application.state.sessions() as session:
        agent = session.scalars(select(User).where(User.agent_no == "10002")).one()
    login(page, url, "20001")
    month = service.today().strftime("%Y-%m")
    page.goto(f"/performance/months/{month}/agents/{agent.id}")
    form = page.locator("#record-attendance form")
    form.get_by_label("日期").fill(str(service.today()))
    form.get_by_label("出勤分钟").fill("9999")  # more than a day: the browser will not send it
    assert form.evaluate("f => f.checkValidity()") is False
    form.get_by_label("出勤分钟").fill("470")
    with page.expect_navigation():
        form.get_by_role("button", name="保存").click()
    assert page.locator(".flash").inner_text() == "出勤已记录"
    error = page.locator("#record-error form")
    error.get_by_label("发生时间").fill(f"{service.today()}T09:30")
    error.get_by_label("差错内容").fill("套餐变更规则解释错误")
    with page.expect_navigation():
        error.get_by_role("button", name="记录").click()
    assert "套餐变更规则解释错误" in page.locator("#errors").inner_text()
    comment = page.locator("#comment-form")
    comment.get_by_label("评语").fill("本周接通及时,注意结束语。")
    with page.expect_navigation():
        comment.get_by_role("button", name="保存评语").click()
    assert page.locator(".flash").inner_text() == "评语已保存"
    assert page.locator("#comment").inner_text() == "本周接通及时,注意结束语。"
