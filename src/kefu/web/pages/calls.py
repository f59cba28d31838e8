"""Call pages (通话记录, one call with its scorecard); the import page is kefu.web.pages.imports."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from kefu.accounts import service as accounts
from kefu.calls import service as calls
from kefu.calls.api import call_filters
from kefu.calls.models import Channel, Direction
from kefu.calls.reasons import current_reasons
from kefu.calls.schemas import CallFilter
from kefu.core.errors import Invalid
from kefu.core.fields import Id
from kefu.core.security import Permission
from kefu.http.deps import DB, CustomerReader, require
from kefu.quality.card import scorecard
from kefu.web.pages.common import render

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------------------- calls


def _page_filters(params: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The form's values (dates, end inclusive) → the query of /api/calls (end exclusive)."""
    form = {k: params.get(k, "").strip() for k in ("start", "end", "reason", "direction", "agent_id")}
    query = {k: v for k, v in form.items() if v}
    if form["end"]:
        with contextlib.suppress(ValueError):  # else left as typed: call_filters explains the problem
            query["end"] = (date.fromisoformat(form["end"]) + timedelta(days=1)).isoformat()
    return form, query


@router.get("/calls", dependencies=[require(Permission.CUSTOMER_VIEW)])
def call_list(request: Request, reader: CustomerReader, session: DB) -> HTMLResponse:
    user = reader.user
    form, query = _page_filters(dict(request.query_params))
    error = None
    try:
        filters = call_filters(**query)
    except Invalid as problem:
        error, filters, query = str(problem), CallFilter(), {}
    found = [calls.present(c, reader) for c in calls.list_calls(session, filters, limit=200, viewer=user)]
    total = calls.count_calls(session, filters, viewer=user)
    start, end = calls.day_range(datetime.now().astimezone())
    today = CallFilter(agent_id=user.id, start=start, end=end)
    mine = [calls.present(c, reader) for c in calls.list_calls(session, today, viewer=user)]
    agents = accounts.list_users(session)
    return render(
        request,
        "calls.html",
        user,
        status_code=422 if error else 200,
        form=form,
        error=error,
        found=found,
        total=total,
        mine=mine,
        today=calls.agent_today(session, user.id),
        agents=agents,
        reasons=current_reasons().choices(),
        directions=[(d.value, d.label) for d in Direction],
        export_query=urlencode(query),
    )


@router.get("/calls/{call_id:int}", dependencies=[require(Permission.CUSTOMER_VIEW)])
def call_page(request: Request, call_id: Id, reader: CustomerReader, session: DB) -> HTMLResponse:
    record = calls.read_call(session, reader.user, call_id)
    card = scorecard(session, record, reader)  # the stored inspection, never a fresh one
    flagged: dict[int, list[Any]] = {}
    for finding in card.findings:
        if finding["turn"] is not None:
            flagged.setdefault(finding["turn"], []).append(finding)
    return render(
        request,
        "call.html",
        reader.user,
        call=calls.present(record, reader),
        customer=record.customer,
        card=card,
        flagged=flagged,
        chat=record.channel == Channel.CHAT,
    )
