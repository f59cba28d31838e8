"""/api/quality/appeals: the agent's scorecards, appeals and their decision. Thin: see
kefu.quality.appeals (which also checks who may take each step)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from kefu.core.fields import CentreTime, Id
from kefu.core.security import Permission
from kefu.http.deps import DB, CurrentUser, CustomerReader, require
from kefu.quality import appeals
from kefu.quality.appeals import AppealIn, DecisionIn, LeadOpinionIn
from kefu.quality.models import Appeal, Inspection

router = APIRouter(prefix="/api/quality/appeals", tags=["质检"])


class AppealOut(BaseModel):
    id: int
    finding_id: int
    call_id: int
    inspection_id: int
    agent_id: int
    rule_name: str
    reason: str
    status: str
    status_label: str
    lead_supports: bool | None
    lead_opinion: str | None
    decision_note: str | None
    created_at: CentreTime
    history: list[dict[str, Any]]


class ScorecardOut(BaseModel):
    inspection_id: int
    call_id: int
    ring_at: CentreTime | None
    rulebook: str
    machine_score: float | None
    final_score: float | None
    passed: bool | None
    fatal: bool
    findings: int


class FindingOut(BaseModel):
    id: int
    rule: str
    rule_name: str
    category: str
    deduction: float
    fatal: bool
    message: str
    turn: int | None
    evidence: str | None
    standard: str | None
    suggestion: str | None
    manual: bool
    review: str
    counts: bool
    appealable: bool
    appeal: AppealOut | None


class ScorecardDetailOut(ScorecardOut):
    categories: dict[str, Any]
    finding_list: list[FindingOut]


def appeal_out(appeal: Appeal) -> AppealOut:
    finding = appeal.finding
    return AppealOut(
        id=appeal.id,
        finding_id=finding.id,
        call_id=finding.inspection.call_id,
        inspection_id=finding.inspection_id,
        agent_id=appeal.agent_id,
        rule_name=finding.rule_name,
        reason=appeal.reason,
        status=appeal.status.value,
        status_label=appeal.status.label,
        lead_supports=appeal.lead_supports,
        lead_opinion=appeal.lead_opinion,
        decision_note=appeal.decision_note,
        created_at=appeal.created_at,
        history=appeals.history_rows(appeal),
    )


def scorecard_out(inspection: Inspection) -> ScorecardOut:
    return ScorecardOut(
        inspection_id=inspection.id,
        call_id=inspection.call_id,
        ring_at=inspection.call.ring_at,
        rulebook=inspection.rulebook_label,
        machine_score=inspection.machine_score,
        final_score=inspection.final_score,
        passed=inspection.passed,
        fatal=inspection.fatal,
        findings=len([f for f in inspection.findings if not f.manual]),
    )


@router.get("/mine")
def my_scorecards(session: DB, user: CurrentUser) -> list[ScorecardOut]:
    return [scorecard_out(i) for i in appeals.my_scorecards(session, user.id)]


@router.get("/scorecards/{inspection_id:int}")
def scorecard(inspection_id: Id, session: DB, reader: CustomerReader) -> ScorecardDetailOut:
    card = appeals.scorecard(session, reader.user, inspection_id)
    customer_id = card.inspection.call.customer_id
    base = scorecard_out(card.inspection).model_dump()
    items = [
        FindingOut(
            id=item.finding.id,
            rule=item.finding.rule,
            rule_name=item.finding.rule_name,
            category=item.finding.category,
            deduction=item.finding.deduction,
            fatal=item.finding.fatal,
            message=item.finding.message,
            turn=item.finding.turn,
            evidence=reader.text(customer_id, item.finding.evidence),
            standard=item.finding.standard,
            suggestion=item.finding.suggestion,
            manual=item.finding.manual,
            review=item.finding.review.value,
            counts=item.counts,
            appealable=item.appealable,
            appeal=appeal_out(item.finding.appeal) if item.finding.appeal else None,
        )
        for item in card.findings
    ]
    return ScorecardDetailOut(**base, categories=card.inspection.categories or {}, finding_list=items)


@router.post("", status_code=201)
def appeal(data: AppealIn, session: DB, user: CurrentUser) -> AppealOut:
    return appeal_out(appeals.do_appeal(session, user.id, data.finding_id, data.reason))


@router.get("/queue")
def queue(session: DB, user: CurrentUser) -> list[AppealOut]:
    return [appeal_out(a) for a in appeals.appeal_queue(session, user)]


@router.post("/{appeal_id:int}/lead", dependencies=[require(Permission.APPEAL_LEAD)])
def lead_opinion(appeal_id: Id, data: LeadOpinionIn, session: DB, user: CurrentUser) -> AppealOut:
    return appeal_out(appeals.do_lead_opinion(session, user.id, appeal_id, data.supports, data.note))


@router.post("/{appeal_id:int}/decide", dependencies=[require(Permission.APPEAL_DECIDE)])
def decide(appeal_id: Id, data: DecisionIn, session: DB, user: CurrentUser) -> AppealOut:
    return appeal_out(appeals.do_decide(session, user.id, appeal_id, data.upheld, data.note))
