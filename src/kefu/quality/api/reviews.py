"""/api/quality/reviews: an inspector's review tasks, one task with its transcript and findings,
verdicts, manual findings, completion; and the machine-vs-inspector agreement per rule. Thin: see
kefu.quality.review (which also checks who may work on a task)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from kefu.core.fields import CentreTime, Id
from kefu.core.security import Permission
from kefu.http.deps import DB, CurrentUser, CustomerReader, require
from kefu.quality import review as reviews
from kefu.quality.models import Review, ReviewStatus
from kefu.quality.review import CompleteIn, JudgeIn, ManualFindingIn, ReviewDetail

router = APIRouter(prefix="/api/quality/reviews", tags=["质检"], dependencies=[require(Permission.QA_REVIEW)])


class ReviewOut(BaseModel):
    id: int
    version: int
    call_id: int
    inspection_id: int
    inspector_id: int
    run_id: int | None
    calibration_id: int | None
    status: str
    status_label: str
    agent: str | None
    machine_score: float | None
    manual_score: float | None
    created_at: CentreTime
    completed_at: CentreTime | None

    @classmethod
    def of(cls, review: Review) -> ReviewOut:
        return cls(
            id=review.id,
            version=review.version,
            call_id=review.call_id,
            inspection_id=review.inspection_id,
            inspector_id=review.inspector_id,
            run_id=review.run_id,
            calibration_id=review.calibration_id,
            status=review.status.value,
            status_label=review.status.label,
            agent=review.call.agent.name if review.call.agent else None,
            machine_score=review.inspection.machine_score,
            manual_score=review.manual_score,
            created_at=review.created_at,
            completed_at=review.completed_at,
        )


class AgreementOut(BaseModel):
    rule: str
    rule_name: str
    confirmed: int
    overturned: int
    precision: float


class AddedFinding(BaseModel):
    id: int = Field(description="the new manual finding")
    review: ReviewDetail


@router.get("")
def my_tasks(user: CurrentUser, session: DB, status: ReviewStatus | None = None) -> list[ReviewOut]:
    return [ReviewOut.of(r) for r in reviews.my_reviews(session, user.id, status)]


@router.get("/agreement")
def agreement(session: DB, since: datetime | None = None, until: datetime | None = None) -> list[AgreementOut]:
    return [
        AgreementOut(
            rule=r.rule, rule_name=r.rule_name, confirmed=r.confirmed, overturned=r.overturned, precision=r.precision
        )
        for r in reviews.agreement(session, since, until)
    ]


@router.get("/{review_id}")
def detail(review_id: Id, reader: CustomerReader, session: DB) -> ReviewDetail:
    return reviews.review_view(session, reviews.read_review(session, reader.user, review_id), reader)


@router.post("/{review_id}/findings/{finding_id}/verdict")
def judge(review_id: Id, finding_id: Id, data: JudgeIn, reader: CustomerReader, session: DB) -> ReviewDetail:
    review = reviews.do_judge_finding(session, reader.user.id, review_id, finding_id, data.verdict, data.note)
    return reviews.review_view(session, review, reader)


@router.post("/{review_id}/findings", status_code=201)
def add_finding(review_id: Id, data: ManualFindingIn, reader: CustomerReader, session: DB) -> AddedFinding:
    finding = reviews.do_add_manual_finding(session, reader.user.id, review_id, **data.model_dump())
    return AddedFinding(
        id=finding.id, review=reviews.review_view(session, reviews.get_review(session, review_id), reader)
    )


@router.delete("/{review_id}/findings/{finding_id}")
def remove_finding(review_id: Id, finding_id: Id, reader: CustomerReader, session: DB) -> ReviewDetail:
    reviews.do_remove_manual_finding(session, reader.user.id, review_id, finding_id)
    return reviews.review_view(session, reviews.get_review(session, review_id), reader)


@router.post("/{review_id}/complete")
def complete(review_id: Id, data: CompleteIn, reader: CustomerReader, session: DB) -> ReviewDetail:
    review = reviews.do_complete_review(session, reader.user.id, review_id, comment=data.comment, version=data.version)
    return reviews.review_view(session, review, reader)
