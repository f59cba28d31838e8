"""排班 pages: the forecast against the actual calls, the week's roster (requirement vs scheduled
as a heat map, the grid by team, hand adjustments, publish, revisions), my schedule, leave and
swap requests, adherence. Each form posts the API's body to the same service function."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from kefu.core.db import attempt
from kefu.core.errors import Conflict, Forbidden, Invalid, NotFound
from kefu.core.fields import Id
from kefu.core.security import Permission, Role, allowed
from kefu.flows import adherence as adherence_flow
from kefu.http.deps import DB, CurrentUser
from kefu.inspection.charts import heat_map, trend_lines
from kefu.web.pages.common import Body, form_problems, redirect, submit_form
from kefu.web.pages.common import render as render_page
from kefu.workforce import service
from kefu.workforce.models import LeaveKind, RequestStatus
from kefu.workforce.roster import SLOTS
from kefu.workforce.schemas import AdjustIn, AgreeIn, DecisionIn, DraftIn, LeaveIn, PublishIn, SwapIn

router = APIRouter(include_in_schema=False)
WEEKDAYS = "一二三四五六日"
LABELS = {
    "week_start": "周一日期",
    "first_day": "开始日期",
    "last_day": "结束日期",
    "kind": "假别",
    "reason": "原因",
    "note": "说明",
    "partner_id": "换班同事",
    "day": "日期",
    "late_reason": "晚发布原因",
    "version": "版本",
    "cells": "排班格子",
    "agent_id": "话务员",
    "shift": "班次",
}


def render(request: Request, name: str, user: Any, **context: Any) -> HTMLResponse:
    """A workforce page, with this week for the tabs' roster link."""
    return render_page(request, name, user, week_of_today=service.week_of(service.today()), **context)


def _week(value: str | None, default: date) -> date:
    if not value:
        return default
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"日期应为 年-月-日,而不是「{value}」") from None
    if day.year not in service.YEARS:
        raise Invalid(f"日期应在 {service.YEARS.start}–{service.YEARS.stop - 1} 年之间")
    return service.week_of(day)


def _day_names(days: list[date]) -> list[str]:
    return [f"周{WEEKDAYS[d.weekday()]} {d:%m-%d}" for d in days]


async def _submit(
    request: Request, session: DB, model: type[Body], default: str, action: Callable[[Body], object], done: str
) -> RedirectResponse:
    return await submit_form(request, session, model, default, action, done, LABELS, "/workforce")


@router.get("/workforce")
def home(user: CurrentUser) -> RedirectResponse:
    if user.role is Role.AGENT:
        return RedirectResponse("/workforce/me", status_code=303)
    return RedirectResponse(f"/workforce/rosters/{service.week_of(service.today()):%Y-%m-%d}", status_code=303)


# ---------------------------------------------------------------- forecast vs actual


@router.get("/workforce/forecast")
def forecast_page(
    request: Request, user: CurrentUser, session: DB, week: str | None = None, day: int = 0
) -> HTMLResponse:
    chosen = _week(week, service.week_of(service.today()) - timedelta(days=7))
    view, problem = None, None
    try:
        view = service.forecast_view(session, user, chosen)
    except Invalid as error:
        problem = str(error)
    charts = {}
    if view is not None:
        names = _day_names(view.days)
        actual = view.actual
        series = [("预测", [round(sum(d), 1) for d in view.forecast], "series-agent")]
        if actual is not None:
            over = [float(sum(a)) if d < service.today() else None for d, a in zip(view.days, actual, strict=True)]
            series.append(("实际", over, "series-team"))
        charts["days"] = trend_lines(names, series, label="每日来电:预测与实际")
        day = min(max(day, 0), 6)
        slots = [service.slot_label(s) for s in range(SLOTS)]
        one = [("预测", [round(v, 1) for v in view.forecast[day]], "series-agent")]
        if actual is not None and view.days[day] < service.today():
            one.append(("实际", [float(v) for v in actual[day]], "series-team"))
        charts["intervals"] = trend_lines(slots, one, label=f"{names[day]} 各半小时来电:预测与实际")
        charts["day"] = day
        charts["names"] = names
    return render(
        request, "workforce_forecast.html", user, view=view, problem=problem, week=chosen, charts=charts,
        previous=chosen - timedelta(days=7), following=chosen + timedelta(days=7),
    )  # fmt: skip


# ---------------------------------------------------------------- the roster


@router.get("/workforce/rosters/{week}")
def roster_page(request: Request, week: str, user: CurrentUser, session: DB, team: str | None = None) -> HTMLResponse:
    chosen = _week(week, service.week_of(service.today()))
    team = team or None
    may_plan = service.may_plan(user)
    view, unpublished = None, False
    try:
        view = service.roster_view(session, user, chosen, team)
    except NotFound:
        pass
    except Forbidden:
        service.visible_agents(session, user)  # refuses those who see no schedules at all
        unpublished = True  # a draft the user may not see yet: said so, not a refusal page
    heat = None
    if view is not None:
        heat = heat_map(
            _day_names(view.days), [service.slot_label(s) for s in range(SLOTS)], view.requirement, view.scheduled,
            label="需求与已排人数(按天 × 半小时)",
        )  # fmt: skip
    teams = sorted({a.team for a in service.visible_agents(session, user) if a.team})
    return render(
        request, "workforce_roster.html", user, view=view, week=chosen, team=team, teams=teams, heat=heat,
        unpublished=unpublished,
        may_plan=may_plan, editable=may_plan and view is not None and chosen + timedelta(days=7) > service.today(),
        draftable=may_plan and chosen > service.today(), today=service.today(),
        day_names=_day_names(service.week_days(chosen)), previous=chosen - timedelta(days=7),
        following=chosen + timedelta(days=7), notice=service.get_settings().roster_notice_days,
        may_view=allowed(user.role, Permission.WORKFORCE_VIEW),
    )  # fmt: skip


@router.post("/workforce/rosters")
async def draft_form(request: Request, user: CurrentUser, session: DB) -> RedirectResponse:
    form = await request.form()
    week = str(form.get("week_start") or "")

    def draft(body: DraftIn) -> object:
        return service.do_draft_roster(session, user, body.week_start, body.version)

    return await _submit(request, session, DraftIn, f"/workforce/rosters/{week}", draft, "排班草稿已生成")


@router.post("/workforce/rosters/{week}/cells")
async def adjust_form(request: Request, week: str, user: CurrentUser, session: DB) -> RedirectResponse:
    """The grid posts every cell it shows as ``cell-<agent id>-<day>``; only changed ones change."""
    chosen = _week(week, service.today())
    back = f"/workforce/rosters/{chosen:%Y-%m-%d}"
    form = await request.form()
    cells = []
    for name, value in form.items():
        if name.startswith("cell-"):
            agent_id, _, day = name.removeprefix("cell-").partition("-")
            cells.append({"agent_id": agent_id, "day": day, "shift": str(value) or None})
    try:
        body = AdjustIn.model_validate(
            {"version": form.get("version"), "cells": cells, "reason": str(form.get("reason") or "") or None}
        )
    except ValidationError as problem:
        return redirect(back, "没有保存:" + form_problems(problem, LABELS), request)
    try:
        with attempt(session):
            done = service.do_adjust_roster(session, user, chosen, body)
    except (Invalid, Conflict, Forbidden, NotFound) as error:
        return redirect(back, str(error), request)
    return redirect(back, f"已保存 {len(done)} 处调整" if done else "没有改动", request)


@router.post("/workforce/rosters/{week}/publish")
async def publish_form(request: Request, week: str, user: CurrentUser, session: DB) -> RedirectResponse:
    chosen = _week(week, service.today())

    def publish(body: PublishIn) -> object:
        return service.do_publish_roster(session, user, chosen, body)

    return await _submit(
        request, session, PublishIn, f"/workforce/rosters/{chosen:%Y-%m-%d}", publish, "排班已发布,话务员已收到通知"
    )


# ---------------------------------------------------------------- my schedule and requests


@router.get("/workforce/me")
def my_page(request: Request, user: CurrentUser, session: DB) -> HTMLResponse:
    mine = service.my_schedule(session, user)
    colleagues = [a for a in service.visible_agents(session, user) if a.id != user.id and a.team == user.team]
    swaps = service.swap_requests(session, user)
    return render(
        request, "workforce_me.html", user, mine=mine, kinds=list(LeaveKind),
        leave=[service.leave_out(x) for x in service.leave_requests(session, user) if x.agent_id == user.id],
        swaps=[service.swap_out(session, x) for x in swaps if user.id in (x.requester_id, x.partner_id)],
        colleagues=colleagues, earliest=service.today() + timedelta(days=service.get_settings().leave_notice_days),
        notice=service.get_settings().leave_notice_days, today=service.today(), weekdays=WEEKDAYS,
    )  # fmt: skip


@router.post("/workforce/notices/read")
async def notices_read_form(request: Request, user: CurrentUser, session: DB) -> RedirectResponse:
    count = service.do_read_notices(session, user)
    return redirect("/workforce/me", f"{count} 条通知已标为已读", request)


@router.get("/workforce/requests")
def requests_page(request: Request, user: CurrentUser, session: DB) -> HTMLResponse:
    leave = service.leave_requests(session, user)
    swaps = service.swap_requests(session, user)
    return render(
        request, "workforce_requests.html", user,
        leave=[(service.leave_out(x), service.may_decide(user, x.agent)) for x in leave],
        swaps=[(service.swap_out(session, x), service.may_decide(user, x.requester, x.partner)) for x in swaps],
        pending=RequestStatus.PENDING, may_override=service.may_plan(user),
        notice=service.get_settings().leave_notice_days,
    )  # fmt: skip


@router.post("/workforce/leave")
async def leave_form(request: Request, user: CurrentUser, session: DB) -> RedirectResponse:
    def ask(body: LeaveIn) -> object:
        return service.do_request_leave(session, user, body)

    return await _submit(request, session, LeaveIn, "/workforce/me", ask, "请假申请已提交")


@router.post("/workforce/leave/{leave_id}/decision")
async def leave_decision_form(request: Request, leave_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    def decide(body: DecisionIn) -> object:
        return service.do_decide_leave(session, user, leave_id, body)

    return await _submit(request, session, DecisionIn, "/workforce/requests", decide, "已审批")


@router.post("/workforce/leave/{leave_id}/cancel")
async def leave_cancel_form(request: Request, leave_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    try:
        with attempt(session):
            service.do_cancel_leave(session, user, leave_id)
    except (Conflict, Forbidden, NotFound) as error:
        return redirect("/workforce/me", str(error), request)
    return redirect("/workforce/me", "请假申请已撤回", request)


@router.post("/workforce/swaps")
async def swap_form(request: Request, user: CurrentUser, session: DB) -> RedirectResponse:
    def ask(body: SwapIn) -> object:
        return service.do_request_swap(session, user, body)

    return await _submit(request, session, SwapIn, "/workforce/me", ask, "换班申请已发给对方")


@router.post("/workforce/swaps/{swap_id}/answer")
async def swap_answer_form(request: Request, swap_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    def answer(body: AgreeIn) -> object:
        return service.do_answer_swap(session, user, swap_id, body)

    return await _submit(request, session, AgreeIn, "/workforce/me", answer, "已回复")


@router.post("/workforce/swaps/{swap_id}/decision")
async def swap_decision_form(request: Request, swap_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    def decide(body: DecisionIn) -> object:
        return service.do_decide_swap(session, user, swap_id, body)

    return await _submit(request, session, DecisionIn, "/workforce/requests", decide, "已审批")


# ---------------------------------------------------------------- adherence


@router.get("/workforce/adherence")
def adherence_page(request: Request, user: CurrentUser, session: DB, week: str | None = None) -> Response:
    chosen = _week(week, service.week_of(service.today()) - timedelta(days=7))
    rows, problem = [], None
    try:
        rows = service.adherence(session, user, chosen)
    except (Invalid, NotFound) as error:
        problem = str(error)
    return render(
        request, "workforce_adherence.html", user, rows=rows, problem=problem, week=chosen,
        day_names=_day_names(service.week_days(chosen)), previous=chosen - timedelta(days=7),
        following=chosen + timedelta(days=7), may_feed=user.role is not Role.AGENT and user.role is not Role.TRAINER,
    )  # fmt: skip


@router.post("/workforce/adherence/{week}/attendance")
async def feed_form(request: Request, week: str, user: CurrentUser, session: DB) -> RedirectResponse:
    chosen = _week(week, service.today())
    back = f"/workforce/adherence?week={chosen:%Y-%m-%d}"
    try:
        with attempt(session):
            fed = adherence_flow.do_feed_attendance(session, user, chosen)
    except (Invalid, Conflict, Forbidden, NotFound) as error:
        return redirect(back, str(error), request)
    return redirect(back, f"已写入绩效出勤:{fed.agents} 人、{fed.days} 个班次", request)
