"""我的质检 (an agent's scorecards), one scorecard with its findings and the 申诉 form, and the
申诉处理 queue of team leads and QA."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from kefu.calls import service as calls
from kefu.core.db import attempt
from kefu.core.errors import Conflict, Invalid
from kefu.core.fields import Id
from kefu.http.deps import DB, CurrentUser, CustomerReader
from kefu.quality import appeals
from kefu.quality.appeals import AppealIn, DecisionIn, LeadOpinionIn
from kefu.quality.models import AppealStatus, FindingReview
from kefu.web.pages.common import Body, form_body, redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/quality/mine")
def my_scorecards(request: Request, reader: CustomerReader, session: DB) -> HTMLResponse:
    cards = [(i, calls.present(i.call, reader)) for i in appeals.my_scorecards(session, reader.user.id)]
    return render(request, "quality_appeals_mine.html", reader.user, cards=cards)


@router.get("/quality/inspections/{inspection_id:int}")
def scorecard_page(request: Request, inspection_id: Id, reader: CustomerReader, session: DB) -> HTMLResponse:
    user = reader.user
    card = appeals.scorecard(session, user, inspection_id)
    call = card.inspection.call
    flagged: dict[int, list[Any]] = {}
    for item in card.findings:
        if item.finding.turn is not None:
            flagged.setdefault(item.finding.turn, []).append(item)
    return render(
        request,
        "quality_appeals_scorecard.html",
        user,
        card=card,
        inspection=card.inspection,
        call=calls.present(card.inspection.call, reader),
        evidence={i.finding.id: reader.text(call.customer_id, i.finding.evidence) for i in card.findings},
        flagged=flagged,
        history=appeals.history_rows,
        FindingReview=FindingReview,
    )


@router.post("/quality/inspections/{inspection_id:int}/appeal")
async def appeal_form(request: Request, inspection_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    form = await request.form()
    back = f"/quality/inspections/{inspection_id}"
    try:
        body = form_body(AppealIn, form)
    except ValidationError:
        return redirect(back, "请选择要申诉的扣分项,并写明申诉理由", request)
    try:
        with attempt(session):
            appeals.do_appeal(session, user.id, body.finding_id, body.reason)
    except (Invalid, Conflict) as error:
        return redirect(f"{back}#finding-{body.finding_id}", str(error), request)
    return redirect(f"{back}#finding-{body.finding_id}", "申诉已提交,等待班组长审核", request)


@router.get("/quality/appeals")
def appeal_queue(request: Request, reader: CustomerReader, session: DB) -> HTMLResponse:
    user = reader.user
    queue = appeals.appeal_queue(session, user)
    return render(
        request,
        "quality_appeals_queue.html",
        user,
        queue=[(a, calls.present(a.finding.inspection.call, reader)) for a in queue],
        evidence={a.finding.id: reader.text(a.finding.inspection.call.customer_id, a.finding.evidence) for a in queue},
        done=appeals.recent_decided(session, user),
        history=appeals.history_rows,
        PENDING=AppealStatus.PENDING,
        LEAD_REVIEWED=AppealStatus.LEAD_REVIEWED,
    )


async def _step(request: Request, session: Any, body: type[Body], run: Callable[[Body], Any], done: str) -> Response:
    """A team lead's opinion or QA's decision from its form: the API's body, the same service."""
    try:
        chosen = form_body(body, await request.form())
    except ValidationError:
        return redirect("/quality/appeals", "请选择处理结论", request)
    try:
        with attempt(session):
            run(chosen)
    except (Invalid, Conflict) as error:
        return redirect("/quality/appeals", str(error), request)
    return redirect("/quality/appeals", done, request)


@router.post("/quality/appeals/{appeal_id:int}/lead")
async def lead_form(request: Request, appeal_id: Id, user: CurrentUser, session: DB) -> Response:
    return await _step(
        request,
        session,
        LeadOpinionIn,
        lambda body: appeals.do_lead_opinion(session, user.id, appeal_id, body.supports, body.note),
        "已提交班组长意见,等待质检裁定",
    )


@router.post("/quality/appeals/{appeal_id:int}/decide")
async def decide_form(request: Request, appeal_id: Id, user: CurrentUser, session: DB) -> Response:
    return await _step(
        request,
        session,
        DecisionIn,
        lambda body: appeals.do_decide(session, user.id, appeal_id, body.upheld, body.note),
        "已裁定,最终得分已更新",
    )
