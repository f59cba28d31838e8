"""工作台: what an agent needs at the start of every call — the greeting for now, my open work
orders by deadline, today's calls and numbers, the latest knowledge changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from kefu.core.db import utcnow
from kefu.core.security import Permission, allowed
from kefu.http.deps import DB, ActiveRulebook, CustomerReader
from kefu.knowledge.queries import latest_changes
from kefu.overviews.workbench import my_day, my_orders
from kefu.rulebook.calendar import moment_greetings
from kefu.web.pages.common import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def workbench(request: Request, reader: CustomerReader, session: DB, active: ActiveRulebook) -> HTMLResponse:
    user = reader.user
    now = utcnow()
    expected = moment_greetings(active.rulebook.greetings, datetime.now().astimezone())
    knowledge = latest_changes(session, user.id)
    context: dict[str, Any] = {}
    if allowed(user.role, Permission.CUSTOMER_VIEW):  # work orders and calls show customer data
        today, today_calls = my_day(session, reader, now)
        context.update(orders=my_orders(session, reader, now), today=today, today_calls=today_calls)
    return render(request, "workbench.html", user, expected=expected, knowledge=knowledge, **context)
