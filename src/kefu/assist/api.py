"""/api/assist: the agent's live help during a call (SPEC §10). Any logged-in user; thin, see
service.py."""

from __future__ import annotations

from fastapi import APIRouter

from kefu.assist import service
from kefu.assist.schemas import CheckIn, CheckOut, ContextOut, HitOut, StageOut
from kefu.core.db import utcnow
from kefu.http.deps import ActiveRulebook, CurrentUser
from kefu.knowledge.service import script_out

router = APIRouter(prefix="/api/assist", tags=["assist"])


@router.post("/check")
def check(body: CheckIn, user: CurrentUser, active: ActiveRulebook) -> CheckOut:
    """The forbidden and negative phrases in a reply or note as typed so far, each with the
    recommended wording and its source; empty text has none, over 2,000 characters is a 422."""
    checked = service.check(active.checker, body.text)
    return CheckOut(
        hits=[
            HitOut(
                set=h.set,
                label=h.label,
                evidence=h.evidence,
                start=h.start,
                end=h.end,
                suggestion=h.suggestion,
                source=h.source,
            )
            for h in checked.hits
        ],
        corrected=checked.corrected,
    )


@router.get("/context")
def context(
    user: CurrentUser, active: ActiveRulebook, stage: str | None = None, scenario: str | None = None
) -> ContextOut:
    """The greeting and closing for now (the centre's clock), the call stages (the checklist),
    every scenario, and the scripts of ``stage`` and ``scenario`` (either left out: all)."""
    view = service.context(active.rulebook, utcnow(), stage=stage or None, scenario=scenario or None)
    return ContextOut(
        moment=view.moment.moment,
        holiday=view.moment.holiday,
        greeting=view.moment.greeting,
        opening=view.moment.opening,
        closing=view.moment.closing,
        stages=[
            StageOut(id=item.stage.id, name=item.stage.name, source=item.stage.source, scenarios=item.scenarios)
            for item in view.stages
        ],
        scenarios=view.scenarios,
        stage=view.stage,
        scenario=view.scenario,
        scripts=[script_out(s, active.rulebook) for s in view.scripts],
    )
