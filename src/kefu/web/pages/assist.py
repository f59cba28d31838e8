"""通话助手: the agent's screen while a call runs (SPEC §10) — the greeting and closing for now,
the call stages to tick off, the scripts of a stage and scenario, and a reply/note box checked
for 服务禁语 as it is typed (static/assist.js, against /api/assist/check)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from kefu.assist import service
from kefu.core.db import utcnow
from kefu.http.deps import ActiveRulebook, CurrentUser
from kefu.web.pages.common import render

router = APIRouter(include_in_schema=False)


@router.get("/assist")
def assist_page(
    request: Request,
    user: CurrentUser,
    active: ActiveRulebook,
    stage: str | None = None,
    scenario: str = "",
    call: int | None = None,
) -> HTMLResponse:
    """``stage`` left out: the first stage (a call starts there); empty: every stage. A scenario
    the stage has no scripts for is dropped, as on the knowledge scripts page."""
    rulebook = active.rulebook
    everything = service.context(rulebook, utcnow())
    stages = {item.stage.id: item for item in everything.stages}
    if stage is None or (stage and stage not in stages):
        stage = everything.stages[0].stage.id if everything.stages else ""
    offered = stages[stage].scenarios if stage else everything.scenarios
    chosen = scenario if scenario in offered else ""
    view = service.context(rulebook, utcnow(), stage=stage or None, scenario=chosen or None)
    groups = [
        (item.stage, scripts)
        for item in view.stages
        if (scripts := [s for s in view.scripts if s.stage == item.stage.id])
    ]
    return render(
        request,
        "assist.html",
        user,
        view=view,
        groups=groups,
        stage=stage,
        scenario=chosen,
        max_chars=service.MAX_CHARS,
        call_id=call,
    )
