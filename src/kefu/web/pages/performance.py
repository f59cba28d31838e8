"""绩效 pages: the team lead's / supervisor's board, the month's evaluation (comment, publish,
export), one agent's month down to the calls behind it with the trend against the team, and
coaching plans. Each form posts the API's body to the same service function."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.core.access import Record, Scope, scope_of
from kefu.core.db import utcnow
from kefu.core.errors import Forbidden, Invalid
from kefu.core.fields import Id
from kefu.core.security import Permission, allowed
from kefu.http.deps import DB, CurrentUser
from kefu.inspection.charts import interval_columns, trend_lines
from kefu.overviews import performance_board as boards
from kefu.performance import service
from kefu.performance.schemas import AttendanceIn, CoachingCloseIn, CoachingIn, CommentIn, ErrorIn, PublishIn
from kefu.web.pages.common import Body, render, submit_form

router = APIRouter(include_in_schema=False)
SHOWN_INSPECTIONS = 500  # the scorecards listed under an agent's month, lowest score first

LABELS = {
    "text": "评语",
    "reason": "修订原因",
    "day": "日期",
    "scheduled_minutes": "排班分钟",
    "present_minutes": "出勤分钟",
    "note": "差错内容",
    "occurred_at": "发生时间",
    "goals": "改进目标",
    "actions": "辅导措施",
    "review_on": "复查日期",
    "outcome": "辅导结果",
    "call_id": "通话编号",
}


def _parse_day(value: str | None) -> date | None:
    try:
        return service.checked_day(date.fromisoformat(value)) if value else None
    except ValueError:
        raise Invalid(f"日期应为 年-月-日,而不是「{value}」") from None


@router.get("/performance")
def board_page(request: Request, user: CurrentUser, session: DB, day: str | None = None) -> Response:
    """The board for those who see a team or more; an agent goes to their own month."""
    scope = scope_of(user, Record.PERFORMANCE)
    if scope is None:
        raise Forbidden(f"{user.role.label}无权查看绩效")
    today = service.today()
    if scope is Scope.OWN:
        return RedirectResponse(f"/performance/months/{today:%Y-%m}/agents/{user.id}", status_code=303)
    chosen = _parse_day(day) or today
    board = boards.board(session, user, chosen)
    latest = boards.latest_day_with_calls(session, utcnow()) if not board.day_figures else None
    chart = interval_columns(board.intervals, board.target, label=f"{chosen:%m-%d} 各半小时服务水平")
    return render(
        request, "performance_board.html", user, board=board, chart=chart, latest=latest, today=today,
        previous=chosen - timedelta(days=1), following=chosen + timedelta(days=1),
    )  # fmt: skip


@router.get("/performance/months/{month}")
def month_page(request: Request, month: str, user: CurrentUser, session: DB) -> HTMLResponse:
    view = service.month_view(session, user, month)
    first, ready = service.first_day(month), service.publishable_on(month)
    return render(
        request, "performance_month.html", user, view=view,
        may_publish=allowed(user.role, Permission.PERFORMANCE_PUBLISH),
        publishable=ready <= service.today(), publishable_on=ready,
        previous=service.previous_month(month), following=service.next_month(month),
        quarter=(first.year, (first.month - 1) // 3 + 1),
    )  # fmt: skip


@router.get("/performance/months/{month}/agents/{agent_id}")
def agent_page(request: Request, month: str, agent_id: Id, user: CurrentUser, session: DB) -> HTMLResponse:
    agent = service.readable_agent(session, user, agent_id)
    try:
        row = service.agent_month(session, user, month, agent_id)
    except Invalid as error:
        row, empty = None, str(error)
    else:
        empty = None
    scored, scored_total = service.qa_behind(session, user, month, agent_id, SHOWN_INSPECTIONS)
    trend = boards.agent_trend(session, agent, min(service.today(), service.Period.month(month).last))
    return render(
        request, "performance_agent.html", user, agent=agent, month=month, row=row, empty=empty,
        scored=scored, scored_total=scored_total,
        published=service.published(session, month), trend=_trend_charts(agent, trend),
        plans=service.coaching_plans(session, user, agent.id),
        errors=service.errors_behind(session, user, month, agent_id),
        may_write=service.may_write(user, agent), default_review=service.today() + timedelta(days=14),
    )  # fmt: skip


def _trend_charts(agent: Any, trend: boards.Trend) -> dict[str, Any]:
    def limits(points: list[Any], attr: str) -> list[float | None]:
        by_label = {p.label: getattr(p, attr) for p in points}
        return [by_label.get(label) for label in trend.labels]

    series = [(agent.name, trend.scores, "series-agent"), ("班组平均", trend.team_scores, "series-team")]
    quality = trend_lines(
        trend.labels, series, label="每日质检得分",
        lower=limits(trend.quality.points, "lower"), upper=limits(trend.quality.points, "upper"),
    )  # fmt: skip
    csat = trend_lines(
        trend.labels, [(agent.name, trend.satisfaction, "series-agent")], label="每日满意度",
        lower=limits(trend.csat.points, "lower"), upper=limits(trend.csat.points, "upper"), percent=True,
    )  # fmt: skip
    return {"quality": trend.quality, "csat": trend.csat, "quality_chart": quality, "csat_chart": csat}


async def _submit(
    request: Request, session: DB, model: type[Body], default: str, action: Callable[[Body], object], done: str
) -> RedirectResponse:
    return await submit_form(request, session, model, default, action, done, LABELS, "/performance/")


@router.post("/performance/months/{month}/agents/{agent_id}/comment")
async def comment_form(request: Request, month: str, agent_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    def save(body: CommentIn) -> object:
        return service.do_comment(session, user, month, agent_id, body.text)

    done = "评语已保存" + (",将在下一修订版中生效" if service.published(session, month) else "")
    return await _submit(request, session, CommentIn, f"/performance/months/{month}/agents/{agent_id}", save, done)


@router.post("/performance/months/{month}/publish")
async def publish_form(request: Request, month: str, user: CurrentUser, session: DB) -> RedirectResponse:
    done = "已发布修订版" if service.published(session, month) else "已发布,本月考核结果已冻结"

    def publish(body: PublishIn) -> object:
        return service.do_publish_month(session, user, month, body.reason)

    return await _submit(request, session, PublishIn, f"/performance/months/{month}", publish, done)


@router.post("/performance/errors")
async def error_form(request: Request, user: CurrentUser, session: DB) -> RedirectResponse:
    def record(body: ErrorIn) -> object:
        return service.do_record_error(session, user, body)

    return await _submit(request, session, ErrorIn, "/performance", record, "业务差错已记录")


@router.post("/performance/attendance")
async def attendance_form(request: Request, user: CurrentUser, session: DB) -> RedirectResponse:
    def record(body: AttendanceIn) -> object:
        return service.do_record_attendance(session, user, body)

    return await _submit(request, session, AttendanceIn, "/performance", record, "出勤已记录")


@router.post("/performance/coaching")
async def coaching_form(request: Request, user: CurrentUser, session: DB) -> RedirectResponse:
    def create(body: CoachingIn) -> object:
        return service.do_create_coaching(session, user, body)

    return await _submit(request, session, CoachingIn, "/performance/coaching", create, "辅导计划已建立")


@router.get("/performance/coaching")
def coaching_page(request: Request, user: CurrentUser, session: DB) -> HTMLResponse:
    plans = service.coaching_plans(session, user)
    return render(
        request, "performance_coaching.html", user, plans=plans, may_write=lambda a: service.may_write(user, a)
    )


@router.post("/performance/coaching/{plan_id}/close")
async def close_coaching_form(request: Request, plan_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    def close(body: CoachingCloseIn) -> object:
        return service.do_close_coaching(session, user, plan_id, body)

    return await _submit(request, session, CoachingCloseIn, "/performance/coaching", close, "辅导计划已结束")
