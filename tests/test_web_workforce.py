"""The workforce pages on the demo centre in a real browser: the forecast against the actual calls
with its backtest, next week's draft as a heat map and a grid adjusted by hand and published,
an agent's schedule and leave request, the team lead's approvals, and adherence written into
the performance attendance."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from browser_helpers import login
from conftest import live_server
from kefu.core.settings import Settings
from kefu.demo import seed_demo
from kefu.performance.models import Attendance
from kefu.web.app import create_app
from kefu.workforce import service


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, str]]:
    folder = tmp_path_factory.mktemp("kefu-workforce")
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


def test_an_agent_sees_the_teams_published_week_but_not_a_draft(page, centre) -> None:  # type: ignore[no-untyped-def]
    this_week = service.week_of(service.today())
    login(page, centre[1], "10001")
    page.goto(f"/workforce/rosters/{this_week}")
    rows = page.locator("#grid tbody tr")
    assert rows.count() == 8 and page.locator("#grid select").count() == 0  # 一组 (8 agents), read only
    assert page.locator("#heat svg").count() == 1
    page.goto(f"/workforce/rosters/{this_week + timedelta(days=7)}")  # drafted by the solver, not published
    assert "编排中" in page.locator("#no-roster").inner_text() and page.locator("#grid").count() == 0


def test_the_forecast_against_the_actual_calls(page, centre) -> None:  # type: ignore[no-untyped-def]
    login(page, centre[1], "50001")
    page.goto("/workforce/forecast")
    assert page.locator("h1").inner_text().startswith("话务预测与实际")
    assert page.locator("#model-wape").inner_text().endswith("%")
    assert page.locator("#baseline-wape").inner_text().endswith("%")
    assert page.locator("#week-wape").inner_text().endswith("%")  # last week is over: its error is known
    days = page.locator("figure svg").first
    assert days.locator('[data-series="预测"]').count() == 1 and days.locator('[data-series="实际"]').count() == 1
    assert page.locator("figure svg").count() == 2


def test_next_weeks_draft_adjusted_by_hand_and_published(page, centre) -> None:  # type: ignore[no-untyped-def]
    week = service.week_of(service.today()) + timedelta(days=7)
    login(page, centre[1], "50001")
    page.goto("/workforce")
    page.wait_for_url(f"**/workforce/rosters/{service.week_of(service.today())}")
    assert "已发布" in page.locator("#roster-status").inner_text()
    page.goto(f"/workforce/rosters/{week}")
    assert "草稿" in page.locator("#roster-status").inner_text()
    cells = page.locator("#heat svg rect.heat")
    assert cells.count() == 7 * 48
    assert "07:30" in page.locator("#gap-note").inner_text()
    assert page.locator("#grid tbody tr").count() == 25
    row = page.locator('#grid tr[data-agent="10001"]')
    first = row.locator("select").first
    was = first.input_value()
    first.select_option("" if was else "middle")
    page.locator("#save-grid").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "已保存 1 处调整"
    assert page.locator('#grid tr[data-agent="10001"] select').first.input_value() == ("" if was else "middle")
    late = page.locator('#publish-form input[name="late_reason"]')
    if late.count():  # less than a week ahead: the reason is asked for
        late.fill("演示:本周排班晚了")
    page.locator("#publish-form button").click()
    page.wait_for_load_state()
    assert "已发布" in page.locator("#roster-status").inner_text()
    assert "排班已发布" in page.locator(".flash").inner_text()


def test_an_agents_schedule_and_leave(page, centre) -> None:  # type: ignore[no-untyped-def]
    login(page, centre[1], "10003")
    page.goto("/workforce")
    page.wait_for_url("**/workforce/me")
    this_week = page.locator(f'.my-week[data-week="{service.week_of(service.today())}"] td')
    assert this_week.count() == 7
    texts = [this_week.nth(i).inner_text() for i in range(7)]
    assert sum(1 for t in texts if t.startswith(("早班", "中班", "晚班"))) == 5 and texts.count("休息") == 2
    assert page.locator("#my-leave tbody tr[data-status=pending]").count() == 1  # the demo's request
    tomorrow = service.today() + timedelta(days=1)
    page.locator('#leave-form input[name="first_day"]').fill(str(tomorrow))
    page.locator('#leave-form input[name="last_day"]').fill(str(tomorrow))
    page.locator("#leave-form select[name=kind]").select_option("sick")
    page.locator('#leave-form input[name="reason"]').fill("发烧")
    page.locator("#leave-form button").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "请假申请已提交"
    assert "需主管特批" in page.locator("#my-leave tbody").inner_text()


def test_the_team_lead_approves_in_time_but_not_late_leave(page, centre) -> None:  # type: ignore[no-untyped-def]
    login(page, centre[1], "20001")
    page.goto("/workforce/requests")
    rows = page.locator("#leave-requests tbody tr[data-status=pending]")
    assert rows.count() == 2
    late = rows.filter(has_text="不足 3 天")
    assert late.get_by_role("button", name="批准").count() == 0 and "需主管特批" in late.inner_text()
    in_time = rows.filter(has_text="回老家办事")
    in_time.get_by_role("button", name="批准").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "已审批"
    assert page.locator("#leave-requests tbody tr[data-status=approved]").count() == 1


def test_adherence_written_into_the_attendance(page, centre) -> None:  # type: ignore[no-untyped-def]
    application, url = centre
    last_week = service.week_of(service.today()) - timedelta(days=7)
    login(page, url, "50001")
    page.goto(f"/workforce/adherence?week={last_week}")
    rows = page.locator("#adherence tbody tr")
    assert rows.count() == 25
    total = rows.first.locator("td.total").inner_text()
    assert total.endswith("%") and 80 <= float(total[:-1]) <= 100  # the demo's agents log in for their shifts
    page.locator("#feed-form button").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text().startswith("已写入绩效出勤:25 人")
    with application.state.sessions() as session:  # type: ignore[attr-defined]
        days = session.scalars(select(Attendance).where(Attendance.day >= last_week)).all()
        assert len([d for d in days if d.day < last_week + timedelta(days=7)]) >= 25 * 5
