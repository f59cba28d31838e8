"""/api/workforce: the forecast, rosters (draft, adjust, publish, revise), my schedule, leave and
shift swaps, adherence. Thin: who may see or decide what is kefu.workforce.service's."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from kefu.core.fields import Id
from kefu.flows import adherence as adherence_flow
from kefu.http.deps import DB, CurrentUser
from kefu.workforce import service
from kefu.workforce.schemas import (
    AdherenceRow,
    AdjustIn,
    AgreeIn,
    AttendanceFed,
    DecisionIn,
    DraftIn,
    ForecastOut,
    LeaveIn,
    LeaveOut,
    MyScheduleOut,
    PublishIn,
    RosterOut,
    SwapIn,
    SwapOut,
)

router = APIRouter(prefix="/api/workforce", tags=["workforce"])


@router.get("/forecast")
def forecast(
    user: CurrentUser,
    session: DB,
    week: Annotated[date, Query(description="周一(中心日历)")],
    minutes: Annotated[int, Query(description="时段:15、30 或 60 分钟")] = 30,
) -> ForecastOut:
    """The week's calls per interval with the backtest against「上周同时段」, and the actual calls
    of the days already over."""
    return service.forecast_view(session, user, week, minutes)


@router.post("/rosters", status_code=201)
def draft(body: DraftIn, user: CurrentUser, session: DB) -> RosterOut:
    """Forecast → requirement (Erlang) → roster (CP-SAT) for every active agent; again, with the
    draft's ``version``: redraft (hand adjustments are replaced)."""
    service.do_draft_roster(session, user, body.week_start, body.version)
    return service.roster_view(session, user, body.week_start)


@router.get("/rosters/{week}")
def roster(week: date, user: CurrentUser, session: DB, team: str | None = None) -> RosterOut:
    return service.roster_view(session, user, week, team)


@router.put("/rosters/{week}/cells")
def adjust(week: date, body: AdjustIn, user: CurrentUser, session: DB) -> RosterOut:
    """Hand adjustments; on a published roster a revision with ``reason`` (the agents are told)."""
    service.do_adjust_roster(session, user, week, body)
    return service.roster_view(session, user, week)


@router.post("/rosters/{week}/publish")
def publish(week: date, body: PublishIn, user: CurrentUser, session: DB) -> RosterOut:
    service.do_publish_roster(session, user, week, body)
    return service.roster_view(session, user, week)


@router.get("/me")
def my_schedule(user: CurrentUser, session: DB) -> MyScheduleOut:
    return service.my_schedule(session, user)


@router.post("/notices/read")
def read_notices(user: CurrentUser, session: DB) -> dict[str, int]:
    """Mark one's schedule notices read."""
    return {"read": service.do_read_notices(session, user)}


@router.get("/leave")
def leave_list(user: CurrentUser, session: DB, open_only: bool = False) -> list[LeaveOut]:
    return [service.leave_out(x) for x in service.leave_requests(session, user, open_only=open_only)]


@router.post("/leave", status_code=201)
def leave(body: LeaveIn, user: CurrentUser, session: DB) -> LeaveOut:
    return service.leave_out(service.do_request_leave(session, user, body))


@router.post("/leave/{leave_id}/decision")
def decide_leave(leave_id: Id, body: DecisionIn, user: CurrentUser, session: DB) -> LeaveOut:
    return service.leave_out(service.do_decide_leave(session, user, leave_id, body))


@router.post("/leave/{leave_id}/cancel")
def cancel_leave(leave_id: Id, user: CurrentUser, session: DB) -> LeaveOut:
    return service.leave_out(service.do_cancel_leave(session, user, leave_id))


@router.get("/swaps")
def swap_list(user: CurrentUser, session: DB, open_only: bool = False) -> list[SwapOut]:
    return [service.swap_out(session, x) for x in service.swap_requests(session, user, open_only=open_only)]


@router.post("/swaps", status_code=201)
def swap(body: SwapIn, user: CurrentUser, session: DB) -> SwapOut:
    return service.swap_out(session, service.do_request_swap(session, user, body))


@router.post("/swaps/{swap_id}/answer")
def answer_swap(swap_id: Id, body: AgreeIn, user: CurrentUser, session: DB) -> SwapOut:
    """The partner agrees (then the team lead decides) or declines."""
    return service.swap_out(session, service.do_answer_swap(session, user, swap_id, body))


@router.post("/swaps/{swap_id}/decision")
def decide_swap(swap_id: Id, body: DecisionIn, user: CurrentUser, session: DB) -> SwapOut:
    return service.swap_out(session, service.do_decide_swap(session, user, swap_id, body))


@router.get("/adherence/{week}")
def adherence(week: date, user: CurrentUser, session: DB) -> list[AdherenceRow]:
    """Scheduled vs working (logins and calls) per agent and day of a published week."""
    return service.adherence(session, user, week)


@router.post("/adherence/{week}/attendance")
def feed_attendance(week: date, user: CurrentUser, session: DB) -> AttendanceFed:
    """Write the week's adherence as the agents' attendance in the performance evaluation."""
    return adherence_flow.do_feed_attendance(session, user, week)
