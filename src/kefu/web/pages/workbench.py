"""工作台: what an agent needs at the start of every call."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from kefu.rulebook.calendar import moment_greetings
from kefu.web.deps import DB, CurrentUser
from kefu.web.pages.common import render
from kefu.web.pages.knowledge import latest_changes

router = APIRouter(include_in_schema=False)


@router.get("/")
def workbench(request: Request, user: CurrentUser, session: DB) -> HTMLResponse:
    expected = moment_greetings(request.app.state.rulebook.greetings, datetime.now().astimezone())
    knowledge = latest_changes(request, session, user)
    return render(request, "workbench.html", user, expected=expected, knowledge=knowledge)
