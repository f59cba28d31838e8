"""工作台: what an agent needs at the start of every call — the greeting for now, my open work
orders by deadline, today's calls and numbers, the latest knowledge changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from kefu.calls import service as calls
from kefu.calls.schemas import CallFilter
from kefu.core.db import utcnow
from kefu.core.privacy import Reader
from kefu.core.security import Permission, allowed
from kefu.http.deps import DB, ActiveRulebook, CustomerReader
from kefu.rulebook.calendar import moment_greetings
from kefu.web.pages.common import render
from kefu.web.pages.knowledge import latest_changes
from kefu.workorders import service as workorders
from kefu.workorders.presenting import summary as present_order

router = APIRouter(include_in_schema=False)

ORDERS_SHOWN = 8  # the rest are on /workorders, which lists the same orders in the same order
CALLS_SHOWN = 6  # the rest are on /calls


@dataclass(frozen=True)
class MyOrders:
    rows: list[dict[str, Any]]  # the first ones, as the work-order list presents them
    total: int  # open in all
    overdue: int  # of which past a deadline


def my_orders(session: Session, reader: Reader, now: datetime) -> MyOrders:
    """The user's open orders (owner or assignee), soonest deadline first."""
    pairs = workorders.open_orders_by_deadline(session, reader.user.id, now)
    return MyOrders(
        rows=[present_order(order, reader, now) for order, _ in pairs[:ORDERS_SHOWN]],
        total=len(pairs),
        overdue=sum(due is not None and due <= now for _, due in pairs),  # the earliest unmet deadline passed
    )


def my_day(session: Session, reader: Reader, now: datetime) -> tuple[calls.AgentDay, list[Any]]:
    """Today's numbers (the centre's calendar day) and the latest of today's calls."""
    start, end = calls.day_range(now)
    user_id = reader.user.id
    latest = calls.list_calls(session, CallFilter(agent_id=user_id, start=start, end=end), limit=CALLS_SHOWN)
    return calls.agent_today(session, user_id, now), [calls.present(c, reader) for c in latest]


@router.get("/")
def workbench(request: Request, reader: CustomerReader, session: DB, active: ActiveRulebook) -> HTMLResponse:
    user = reader.user
    now = utcnow()
    expected = moment_greetings(active.rulebook.greetings, datetime.now().astimezone())
    knowledge = latest_changes(request, session, user)
    context: dict[str, Any] = {}
    if allowed(user.role, Permission.CUSTOMER_VIEW):  # work orders and calls show customer data
        today, today_calls = my_day(session, reader, now)
        context.update(orders=my_orders(session, reader, now), today=today, today_calls=today_calls)
    return render(request, "workbench.html", user, expected=expected, knowledge=knowledge, **context)
