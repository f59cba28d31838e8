"""Human review of a call's scorecard (复核): the inspector confirms or overturns each rule
finding, adds findings of their own (tone, accuracy…) and completes the review; the inspector's
score is kept apart from the machine's. Completing a sampling review writes the verdicts onto the
findings and updates the call's final score; a calibration review changes nothing on the call.

Also: an inspector's task list and the agreement between the machine and the inspectors per rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.core import audit
from kefu.core.clock import on_centre_clock
from kefu.core.db import get_or_404, utcnow
from kefu.core.errors import Conflict, Forbidden, Invalid
from kefu.core.fields import MAX_ID, CentreTime, Version
from kefu.core.privacy import Reader
from kefu.core.security import Permission, Role, allowed
from kefu.quality.models import (
    Finding,
    FindingReview,
    Inspection,
    InspectionStatus,
    Review,
    ReviewStatus,
)
from kefu.quality.rulebooks import source_for
from kefu.quality.scoring import Score, score
from kefu.quality.service import current_inspection, refresh_final_score

ENTITY = audit.AuditEntity.REVIEW
VERDICTS = (FindingReview.CONFIRMED.value, FindingReview.OVERTURNED.value)
MANUAL_RULE = "manual"
# Who may work on a review besides the inspector it is assigned to.
OVERSEERS = (Role.SUPERVISOR, Role.ADMIN)


def get_review(session: Session, review_id: int) -> Review:
    review = get_or_404(session, Review, review_id, "复核任务")
    return review


def may_work_on(user: User, review: Review) -> bool:
    return user.id == review.inspector_id or user.role in OVERSEERS


def read_review(session: Session, user: User, review_id: int) -> Review:
    """A task is shown to the inspector it belongs to and to supervisors (a calibration task must
    not show an inspector their colleagues' verdicts)."""
    review = get_review(session, review_id)
    if not may_work_on(user, review):
        raise Forbidden(f"复核任务 {review.id} 已分配给 {review.inspector.name}")
    return review


def _workable(session: Session, actor_id: int | None, review_id: int, version: int | None = None) -> Review:
    """The review, if ``actor_id`` may change it now (``None``: the system, e.g. a script)."""
    review = get_review(session, review_id)
    if actor_id is not None:
        actor = session.get(User, actor_id)
        if actor is None or not may_work_on(actor, review):
            raise Forbidden(f"复核任务 {review.id} 已分配给 {review.inspector.name},只有该质检员或主管可以操作")
    if review.status == ReviewStatus.DONE:
        raise Conflict(f"复核任务 {review.id} 已完成,不能再修改")
    if version is not None and version != review.version:
        raise Conflict(
            f"复核任务 {review.id} 已被修改(您看到的是第 {version} 版,现在是第 {review.version} 版),请刷新后重试"
        )
    return review


def create_review(
    session: Session,
    call_id: int,
    inspector_id: int,
    *,
    run_id: int | None = None,
    calibration_id: int | None = None,
    actor_id: int | None = None,
) -> Review:
    """A review task on the call's current, done inspection."""
    inspection = current_inspection(session, call_id)
    if inspection is None or inspection.status != InspectionStatus.DONE:
        raise Invalid(f"通话 {call_id} 没有完成的质检结果,不能复核")
    inspector = session.get(User, inspector_id)
    if inspector is None or not inspector.active or not allowed(inspector.role, Permission.QA_REVIEW):
        raise Invalid(f"用户 {inspector_id} 不是在岗的质检人员")
    same = select(Review.id).where(Review.inspection_id == inspection.id)
    if calibration_id is None:
        same = same.where(Review.calibration_id.is_(None), Review.status == ReviewStatus.OPEN)
        if session.scalar(same.limit(1)) is not None:
            raise Conflict(f"通话 {call_id} 已在复核中")
    else:
        same = same.where(Review.calibration_id == calibration_id, Review.inspector_id == inspector_id)
        if session.scalar(same.limit(1)) is not None:
            raise Conflict(f"{inspector.name} 已有通话 {call_id} 的校准任务")
    review = Review(
        call_id=call_id,
        inspection_id=inspection.id,
        inspector_id=inspector_id,
        run_id=run_id,
        calibration_id=calibration_id,
        verdicts={},
        verdict_notes={},
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        actor_id,
        "create",
        ENTITY,
        review.id,
        {"call_id": [None, call_id], "inspector_id": [None, inspector_id]},
        detail=f"通话 {call_id} 的复核任务分给 {inspector.name}",
    )
    return review


def rule_findings(review: Review) -> list[Finding]:
    return [f for f in review.inspection.findings if not f.manual]


def do_judge_finding(
    session: Session,
    actor_id: int | None,
    review_id: int,
    finding_id: int,
    verdict: str,
    note: str | None = None,
) -> Review:
    """确认 / 推翻 one rule finding (kept on the review while it is open)."""
    review = _workable(session, actor_id, review_id)
    if verdict not in VERDICTS:
        raise Invalid("复核结论应为「确认」(confirmed)或「推翻」(overturned)")
    finding = next((f for f in rule_findings(review) if f.id == finding_id), None)
    if finding is None:
        raise Invalid(f"问题 {finding_id} 不属于本复核任务的质检结果")
    note = (note or "").strip() or None
    if note is not None and len(note) > 500:
        raise Invalid("复核说明不能超过 500 字")
    key = str(finding_id)
    verdicts, notes = dict(review.verdicts or {}), dict(review.verdict_notes or {})
    changes = {"verdict": [verdicts.get(key), verdict]}
    if notes.get(key) != note:
        changes["note"] = [notes.get(key), note]
    verdicts[key] = verdict
    if note is None:
        notes.pop(key, None)
    else:
        notes[key] = note
    review.verdicts, review.verdict_notes = verdicts, notes
    session.flush()
    label = "确认" if verdict == FindingReview.CONFIRMED else "推翻"
    audit.record(session, actor_id, "judge", ENTITY, review.id, changes, detail=f"{label}「{finding.rule_name}」")
    return review


def categories(session: Session, inspection: Inspection) -> dict[str, str]:
    """{key: name}: the scorecard's categories, then any other of the active rulebook."""
    names = {key: str(value.get("name", key)) for key, value in (inspection.categories or {}).items()}
    for key, category in source_for(session).active(session).rulebook.categories.items():
        names.setdefault(key, category.name)
    return names


def do_add_manual_finding(
    session: Session,
    actor_id: int | None,
    review_id: int,
    *,
    category: str,
    deduction: float,
    message: str,
    turn: int | None = None,
    fatal: bool = False,
) -> Finding:
    """An inspector's own finding (tone, accuracy…) on the review's inspection."""
    review = _workable(session, actor_id, review_id)
    inspection = review.inspection
    names = categories(session, inspection)
    if category not in names:
        raise Invalid(f"类别「{category}」不存在,可选:{'、'.join(names.values())}")
    if not 0 <= deduction <= 100 or (deduction == 0 and not fatal):
        raise Invalid("扣分应大于 0 且不超过 100")
    message = (message or "").strip()
    if not message:
        raise Invalid("请说明问题所在")
    if len(message) > 500:
        raise Invalid("问题说明不能超过 500 字")
    turns = review.call.transcript or []
    if turn is not None and not 0 <= turn < len(turns):
        raise Invalid(f"第 {turn + 1} 句不存在(本通话共 {len(turns)} 句)")
    spoken = turns[turn] if turn is not None else {}
    finding = Finding(
        rule=MANUAL_RULE,
        rule_name="人工发现",
        category=category,
        deduction=float(deduction),
        fatal=fatal,
        message=message,
        turn=turn,
        speaker=spoken.get("speaker"),
        start=spoken.get("start"),
        end=spoken.get("end"),
        evidence=str(spoken.get("text", ""))[:500] or None,
        manual=True,
        review_id=review.id,
    )
    inspection.findings.append(finding)
    session.flush()
    session.expire(review, ["manual_findings"])
    audit.record(
        session,
        actor_id,
        "add_finding",
        ENTITY,
        review.id,
        {"finding": [None, {"id": finding.id, "category": category, "deduction": deduction, "message": message}]},
        detail=f"人工发现:{names[category]} −{finding.deduction:g}",
    )
    return finding


def do_remove_manual_finding(session: Session, actor_id: int | None, review_id: int, finding_id: int) -> None:
    """Take back one of this open review's own findings."""
    review = _workable(session, actor_id, review_id)
    finding = next((f for f in review.inspection.findings if f.id == finding_id and f.review_id == review.id), None)
    if finding is None:
        raise Invalid(f"问题 {finding_id} 不是本复核任务添加的")
    review.inspection.findings.remove(finding)
    session.flush()
    session.expire(review, ["manual_findings"])
    audit.record(
        session,
        actor_id,
        "remove_finding",
        ENTITY,
        review.id,
        {"finding": [{"id": finding_id, "message": finding.message}, None]},
        detail="删除人工发现",
    )


def verdict_of(review: Review, finding: Finding) -> str | None:
    return (review.verdicts or {}).get(str(finding.id))


def _kept(review: Review) -> list[Finding]:
    """The rule findings this review did not overturn, and its own findings."""
    kept = [f for f in rule_findings(review) if verdict_of(review, f) != FindingReview.OVERTURNED]
    return kept + [f for f in review.inspection.findings if f.manual and f.review_id == review.id]


def review_score(review: Review) -> Score:
    """The inspector's score: the machine's findings not overturned plus their own (unjudged
    findings count as confirmed), on the scorecard of the inspection."""
    return score(review.inspection.categories or {}, _kept(review))


def do_complete_review(
    session: Session,
    actor_id: int | None,
    review_id: int,
    *,
    comment: str | None = None,
    version: int | None = None,
) -> Review:
    """Finish the review: unjudged findings are taken as confirmed, the inspector's score is
    stored, and (not for calibration) the verdicts go onto the findings and the call's final
    score is recomputed. A completed review is frozen."""
    review = _workable(session, actor_id, review_id, version)
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > 1000:
        raise Invalid("复核意见不能超过 1000 字")
    verdicts = dict(review.verdicts or {})
    for finding in rule_findings(review):
        verdicts.setdefault(str(finding.id), FindingReview.CONFIRMED.value)
    review.verdicts = verdicts
    result = review_score(review)
    now = utcnow()
    review.manual_score = result.total
    review.category_scores = result.categories
    review.comment = comment
    review.status = ReviewStatus.DONE
    review.completed_at = now
    session.flush()
    final: float | None = None
    if review.calibration_id is None:
        notes = review.verdict_notes or {}
        for finding in rule_findings(review):
            finding.review = FindingReview(verdicts[str(finding.id)])
            finding.review_note = notes.get(str(finding.id))
            finding.reviewed_by = review.inspector_id
            finding.reviewed_at = now
        session.flush()
        final = refresh_final_score(session, review.inspection)
    overturned = sum(1 for v in verdicts.values() if v == FindingReview.OVERTURNED)
    audit.record(
        session,
        actor_id,
        "complete",
        ENTITY,
        review.id,
        {"status": ["open", "done"], "manual_score": [None, result.total], "final_score": [None, final]},
        detail=f"完成复核:人工评分 {result.total},推翻 {overturned} 项",
    )
    return review


def my_reviews(session: Session, inspector_id: int, status: ReviewStatus | str | None = None) -> list[Review]:
    """An inspector's tasks: open ones first (oldest first), then the completed (latest first)."""
    query = select(Review).where(Review.inspector_id == inspector_id)
    if status:
        query = query.where(Review.status == ReviewStatus(status))
    reviews = list(session.scalars(query.order_by(Review.id)))
    open_ = [r for r in reviews if r.status == ReviewStatus.OPEN]
    done = sorted(
        (r for r in reviews if r.status == ReviewStatus.DONE),
        key=lambda r: (r.completed_at or r.created_at, r.id),
        reverse=True,
    )
    return open_ + done


def count_reviews(session: Session, status: ReviewStatus) -> int:
    """Review tasks in ``status``, everyone's (the supervisor's board: what QA has waiting)."""
    return session.scalar(select(func.count(Review.id)).where(Review.status == status)) or 0


# ---------------------------------------------------------------- agreement


@dataclass(frozen=True)
class RuleAgreement:
    rule: str
    rule_name: str
    confirmed: int
    overturned: int

    @property
    def judged(self) -> int:
        return self.confirmed + self.overturned

    @property
    def precision(self) -> float:
        """Confirmed / judged: how often the inspectors agree the rule was right to fire."""
        return self.confirmed / self.judged if self.judged else 0.0


def agreement(session: Session, since: datetime | None = None, until: datetime | None = None) -> list[RuleAgreement]:
    """Per rule, the verdicts of the completed sampling reviews (``since`` ≤ completion < ``until``)
    on its findings, worst precision first."""
    query = select(Review).where(Review.status == ReviewStatus.DONE, Review.calibration_id.is_(None))
    if since is not None:
        query = query.where(Review.completed_at >= since)
    if until is not None:
        query = query.where(Review.completed_at < until)
    tally: dict[str, list[Any]] = {}
    for review in session.scalars(query):
        for finding in rule_findings(review):
            verdict = verdict_of(review, finding)
            if verdict not in VERDICTS:
                continue
            entry = tally.setdefault(finding.rule, [finding.rule_name, 0, 0])
            entry[1 if verdict == FindingReview.CONFIRMED else 2] += 1
    rows = [RuleAgreement(rule, name, confirmed, overturned) for rule, (name, confirmed, overturned) in tally.items()]
    return sorted(rows, key=lambda r: (r.precision, -r.judged, r.rule))


# ---------------------------------------------------------------- the review page's view of a task


class JudgeIn(BaseModel):
    verdict: Literal["confirmed", "overturned"]
    note: str | None = Field(default=None, max_length=500)


class ManualFindingIn(BaseModel):
    category: str = Field(min_length=1, max_length=32)
    deduction: float = Field(ge=0, le=100)
    message: str = Field(min_length=1, max_length=500)
    turn: int | None = Field(default=None, ge=0, le=MAX_ID)
    fatal: bool = False


class CompleteIn(BaseModel):
    version: Version
    comment: str | None = Field(default=None, max_length=1000)


class FindingView(BaseModel):
    id: int
    rule: str | None
    rule_name: str | None
    category: str
    deduction: float
    fatal: bool
    message: str
    standard: str | None
    suggestion: str | None
    turn: int | None
    evidence: str | None
    evidence_span: list[int] | None
    marked: list[str] | None = Field(description="the turn's text before, in and after the evidence")
    manual: bool
    verdict: str | None
    note: str | None


class TurnView(BaseModel):
    index: int
    speaker: str | None
    text: str
    start: float | None
    end: float | None
    findings: list[FindingView]


class CategoryView(BaseModel):
    key: str
    name: str
    max: float | None
    machine: float | None
    inspector: float | None


class CategoryChoice(BaseModel):
    key: str
    name: str


class ReviewDetail(BaseModel):
    """A review task as its page and ``GET /api/quality/reviews/{id}`` show it."""

    id: int
    version: int
    status: ReviewStatus
    status_label: str
    call_id: int
    call_external_id: str | None
    agent: str | None
    agent_no: str | None
    inspector_id: int
    inspector: str
    calibration_id: int | None
    run_id: int | None
    rulebook: str | None
    channel: str
    turns: list[TurnView]
    call_findings: list[FindingView] = Field(description="findings of the call as a whole (no turn)")
    rule_findings: list[FindingView]
    manual_findings: list[FindingView]
    machine_score: float | None
    final_score: float | None
    pass_line: float | None
    inspector_score: float | None
    inspector_fatal: bool
    categories: list[CategoryView]
    category_choices: list[CategoryChoice]
    comment: str | None
    completed_at: CentreTime | None
    completed_label: str


def _finding_view(review: Review, finding: Finding, text: str | None, evidence: str | None) -> FindingView:
    span = finding.evidence_span
    marked: tuple[str, str, str] | None = None
    if text is not None and span and 0 <= span[0] < span[1] <= len(text):
        marked = (text[: span[0]], text[span[0] : span[1]], text[span[1] :])
    elif text is not None and evidence and not finding.manual and evidence in text:
        at = text.index(evidence)
        marked = (text[:at], evidence, text[at + len(evidence) :])
    return FindingView(
        id=finding.id,
        rule=finding.rule,
        rule_name=finding.rule_name,
        category=finding.category,
        deduction=finding.deduction,
        fatal=finding.fatal,
        message=finding.message,
        standard=finding.standard,
        suggestion=finding.suggestion,
        turn=finding.turn,
        evidence=evidence,
        evidence_span=list(span) if span else None,
        marked=list(marked) if marked else None,
        manual=finding.manual,
        verdict=None if finding.manual else verdict_of(review, finding),
        note=None if finding.manual else (review.verdict_notes or {}).get(str(finding.id)),
    )


def review_view(session: Session, review: Review, reader: Reader) -> ReviewDetail:
    """Everything the review page and ``GET /api/quality/reviews/{id}`` show: the transcript with
    each finding in its turn (evidence span marked), the verdicts so far, the manual findings,
    the machine's score beside the inspector's. Customer data as ``reader`` may see it."""
    inspection = review.inspection
    customer_id = review.call.customer_id
    turns = reader.turns(customer_id, review.call.transcript) or []
    own = [f for f in inspection.findings if f.manual and f.review_id == review.id]
    by_turn: dict[int, list[FindingView]] = {}
    loose: list[FindingView] = []
    for finding in rule_findings(review) + own:
        text = (
            str(turns[finding.turn].get("text", "")) if finding.turn is not None and finding.turn < len(turns) else None
        )
        view = _finding_view(review, finding, text, reader.text(customer_id, finding.evidence))
        (by_turn.setdefault(finding.turn, []) if text is not None else loose).append(view)  # type: ignore[arg-type]
    names = categories(session, inspection)
    inspector_score = review_score(review)
    machine = inspection.categories or {}
    return ReviewDetail.model_validate(
        {
            "id": review.id,
            "version": review.version,
            "status": review.status.value,
            "status_label": review.status.label,
            "call_id": review.call_id,
            "call_external_id": review.call.external_id,
            "agent": review.call.agent.name if review.call.agent else None,
            "agent_no": review.call.agent.agent_no if review.call.agent else None,
            "inspector_id": review.inspector_id,
            "inspector": review.inspector.name,
            "calibration_id": review.calibration_id,
            "run_id": review.run_id,
            "rulebook": inspection.rulebook_label,
            "channel": review.call.channel.value,
            "turns": [
                {
                    "index": n,
                    "speaker": t.get("speaker"),
                    "text": t.get("text", ""),
                    "start": t.get("start"),
                    "end": t.get("end"),
                    "findings": by_turn.get(n, []),
                }
                for n, t in enumerate(turns)
            ],
            "call_findings": loose,  # findings of the call as a whole (no turn)
            "rule_findings": [
                _finding_view(review, f, None, reader.text(customer_id, f.evidence)) for f in rule_findings(review)
            ],
            "manual_findings": [_finding_view(review, f, None, reader.text(customer_id, f.evidence)) for f in own],
            "machine_score": inspection.machine_score,
            "final_score": inspection.final_score,
            "pass_line": inspection.pass_line,
            "inspector_score": review.manual_score if review.status == ReviewStatus.DONE else inspector_score.total,
            "inspector_fatal": inspector_score.fatal,
            "categories": [
                {
                    "key": key,
                    "name": value.get("name", key),
                    "max": value.get("max"),
                    "machine": value.get("score"),
                    "inspector": (review.category_scores or inspector_score.categories).get(key),
                }
                for key, value in machine.items()
            ],
            "category_choices": [{"key": k, "name": v} for k, v in names.items()],
            "comment": review.comment,
            "completed_at": review.completed_at,
            "completed_label": ""
            if review.completed_at is None
            else f"{on_centre_clock(review.completed_at):%Y-%m-%d %H:%M}",
        }
    )
