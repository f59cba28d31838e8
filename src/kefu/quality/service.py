"""Every call inspected: the scorecard of a call is stored, with its findings and the rulebook
version that produced it, as soon as the call arrives with a transcript.

Inspection never blocks or loses the call: if the engine fails on it, the call is saved all the
same and its inspection is stored as failed (待重检), to be re-inspected (``do_reinspect``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.calls import service as calls
from kefu.calls.models import CallRecord
from kefu.calls.schemas import CallCreate
from kefu.core import audit
from kefu.core.bulk import insert_rows
from kefu.core.db import get_or_404, utcnow
from kefu.inspection.scorecard import Report
from kefu.quality.models import Finding, Inspection, InspectionStatus, Review, ReviewStatus
from kefu.quality.rulebooks import Active, source_for
from kefu.quality.scoring import score

log = logging.getLogger(__name__)

ENTITY = audit.AuditEntity.INSPECTION


def current_inspection(session: Session, call_id: int) -> Inspection | None:
    return session.scalar(select(Inspection).where(Inspection.call_id == call_id, Inspection.current.is_(True)))


def recently_inspected(session: Session, limit: int) -> list[CallRecord]:
    """The calls most recently rung whose current inspection is done (calibration's choices)."""
    query = (
        select(CallRecord)
        .join(Inspection, Inspection.call_id == CallRecord.id)
        .where(Inspection.current.is_(True), Inspection.status == InspectionStatus.DONE)
        .order_by(CallRecord.ring_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def get_inspection(session: Session, inspection_id: int) -> Inspection:
    inspection = get_or_404(session, Inspection, inspection_id, "质检记录")
    return inspection


def _finding_values(report: Report) -> list[dict[str, Any]]:
    return [
        {
            "rule": f.rule,
            "rule_name": f.rule_name,
            "category": f.category,
            "deduction": f.deduction,
            "fatal": f.fatal,
            "message": f.message[:500],
            "standard": (f.standard or "")[:500] or None,
            "source": (f.source or "")[:200] or None,
            "turn": f.turn,
            "speaker": f.speaker,
            "start": f.start,
            "end": f.end,
            "evidence": f.evidence[:500] if f.evidence else None,
            "evidence_span": list(f.evidence_span) if f.evidence_span else None,
            "suggestion": f.suggestion[:500] if f.suggestion else None,
        }
        for f in report.findings
    ]


@dataclass(frozen=True)
class Scorecard:
    """One call's inspection, computed and not yet stored: an import computes every call's
    before its write transaction begins (``score_call``), and stores them all at once with the calls
    (``store_scorecards``), so the database is locked for the writing only."""

    rulebook_id: int | None
    rulebook_label: str
    values: dict[str, Any]  # the Inspection's columns: status, error or the scores
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def final_score(self) -> float | None:
        return self.values.get("final_score")  # type: ignore[no-any-return]

    @property
    def passed(self) -> bool | None:
        return self.values.get("passed")  # type: ignore[no-any-return]


def active_rulebook(session: Session) -> Active | None:
    """The published rulebook, or None when it cannot be built (calls are then kept, their
    inspection stored as failed, for re-inspection)."""
    try:
        return source_for(session).active(session)
    except Exception:
        log.exception("the rulebook could not be built; calls are kept for re-inspection")
        return None


def score_call(call: CallRecord, active: Active | None) -> Scorecard:
    """Inspect ``call`` (stored or not yet) with ``active``; never raises for the engine."""
    transcript_error: str | None = None
    report: Report | None = None
    if active is None:
        transcript_error = "规则无法加载"
    else:
        try:
            transcript = call.to_transcript()
            assert transcript is not None
            report = active.inspector.inspect(transcript)
        except Exception as error:  # the call is kept whatever the engine does
            log.exception("inspection of call %s failed", call.id or call.external_id)
            transcript_error = f"{type(error).__name__}: {error}"[:500]
    version_id = active.version_id if active else None
    label = active.rulebook.version if active else "-"
    if report is None:
        return Scorecard(version_id, label, {"status": InspectionStatus.FAILED, "error": transcript_error})
    values = {
        "status": InspectionStatus.DONE,
        "machine_score": report.score,
        "final_score": report.score,
        "passed": report.passed,
        "fatal": report.fatal,
        "pass_line": report.pass_line,
        "categories": {key: {"name": c.name, "score": c.score, "max": c.max} for key, c in report.categories.items()},
        "not_applicable": [
            {"rule": na.rule, "rule_name": na.rule_name, "missing": na.missing} for na in report.not_applicable_reasons
        ],
    }
    return Scorecard(version_id, label, values, _finding_values(report))


def _record(session: Session, call: CallRecord, active: Active | None, now: datetime) -> Inspection:
    """Inspect ``call`` with ``active`` (None: the rulebook itself could not be built) and add the
    inspection as the call's current one."""
    card = score_call(call, active)
    session.execute(
        update(Inspection).where(Inspection.call_id == call.id, Inspection.current.is_(True)).values(current=False)
    )
    inspection = Inspection(
        call_id=call.id,
        agent_id=call.agent_id,
        rulebook_id=card.rulebook_id,
        rulebook_label=card.rulebook_label,
        current=True,
        inspected_at=now,
        **card.values,
    )
    inspection.findings = [Finding(**values) for values in card.findings]
    session.add(inspection)
    calls.copy_qa_result(session, call.id, inspection.final_score, inspection.passed, now)
    return inspection


def score_new_calls(
    session: Session, items: Sequence[CallCreate], progress: Callable[[int], None] | None = None
) -> list[Scorecard | None]:
    """Every new call's scorecard (None without a transcript) with the published rulebook,
    computed before the calls are stored: an import does it before its write transaction.
    ``progress`` hears how many are done, now and then."""
    active = active_rulebook(session)
    agent_ids = {item.agent_id for item in items if item.agent_id is not None}
    agents = {user.id: user for user in session.scalars(select(User).where(User.id.in_(agent_ids)))}
    cards: list[Scorecard | None] = []
    for done, item in enumerate(items, start=1):
        if item.transcript:
            call = calls.new_call(item)  # never added to the session: only read by the engine
            call.agent = agents.get(item.agent_id) if item.agent_id is not None else None
            cards.append(score_call(call, active))
        else:
            cards.append(None)
        if progress is not None and done % 100 == 0:
            progress(done)
    return cards


def store_scorecards(
    session: Session, calls: Sequence[tuple[int, int | None]], cards: Sequence[Scorecard | None], now: datetime
) -> None:
    """The scorecards of new calls — (call id, agent id) each, None for a call without a
    transcript — in two statements (inspections, then their findings). The calls carry their
    copy of the score already (``Scorecard.final_score``/``passed``, written with the call)."""
    kept = [(call, card) for call, card in zip(calls, cards, strict=True) if card is not None]
    if not kept:
        return
    base = {column.name: None for column in Inspection.__table__.columns if column.name != "id"}
    rows = [
        {
            **base,
            "call_id": call_id,
            "agent_id": agent_id,
            "rulebook_id": card.rulebook_id,
            "rulebook_label": card.rulebook_label,
            "current": True,
            "inspected_at": now,
            "fatal": False,
            **card.values,
        }
        for (call_id, agent_id), card in kept
    ]
    ids = insert_rows(session, Inspection.__table__, rows)
    findings = [
        {**values, "inspection_id": inspection_id}
        for inspection_id, (_, card) in zip(ids, kept, strict=True)
        for values in card.findings
    ]
    if findings:
        insert_rows(session, Finding.__table__, findings)


def inspect_calls(session: Session, records: Iterable[CallRecord], *, now: datetime | None = None) -> list[Inspection]:
    """Inspect the calls that have a transcript with the published rulebook (kefu.flows.intake:
    when a call arrives or what the rules read of it is corrected). Never raises for the engine."""
    now = now or utcnow()
    with_text = [call for call in records if call.transcript]
    if not with_text:
        return []
    active = active_rulebook(session)
    inspections = [_record(session, call, active, now) for call in with_text]
    session.flush()
    return inspections


def do_reinspect(
    session: Session,
    actor_id: int | None,
    *,
    call_ids: Sequence[int] | None = None,
    failed_only: bool = True,
    now: datetime | None = None,
) -> list[Inspection]:
    """重新质检 with the published rulebook: the calls given, or every call whose current
    inspection failed. Reviews, appeals and manual findings stay with the inspection they were
    made on."""
    query = select(CallRecord).where(CallRecord.transcript.is_not(None))
    if call_ids is not None:
        query = query.where(CallRecord.id.in_(call_ids))
    if failed_only:
        failed = select(Inspection.call_id).where(
            Inspection.current.is_(True), Inspection.status == InspectionStatus.FAILED
        )
        query = query.where(CallRecord.id.in_(failed))
    chosen = list(session.scalars(query.order_by(CallRecord.id)))
    inspections = inspect_calls(session, chosen, now=now)
    if inspections:
        audit.record(
            session,
            actor_id,
            "reinspect",
            ENTITY,
            None,
            {"calls": [None, [call.id for call in chosen]]},
            detail=f"重新质检 {len(chosen)} 通",
        )
    return inspections


def latest_review(session: Session, inspection: Inspection) -> Review | None:
    """The completed sampling review that counts for the call (calibration reviews never do)."""
    return session.scalar(
        select(Review)
        .where(
            Review.inspection_id == inspection.id,
            Review.status == ReviewStatus.DONE,
            Review.calibration_id.is_(None),
        )
        .order_by(Review.completed_at.desc(), Review.id.desc())
        .limit(1)
    )


def counted_findings(session: Session, inspection: Inspection) -> list[Finding]:
    """What costs points now: the rule findings not overturned, the manual findings of the review
    that counts, minus the findings whose appeal was upheld."""
    review = latest_review(session, inspection)
    return [
        f
        for f in inspection.findings
        if f.counts and (not f.manual or (review is not None and f.review_id == review.id))
    ]


def refresh_final_score(session: Session, inspection: Inspection) -> float | None:
    """Recompute the final score after a review or an appeal decision (and the call's copy, which
    the 通话质量 KPI reads)."""
    if inspection.status != InspectionStatus.DONE or inspection.categories is None:
        return None
    final = score(inspection.categories, counted_findings(session, inspection))
    inspection.final_score = final.total
    inspection.passed = final.passed(inspection.pass_line or 0)
    session.flush()
    if inspection.current:
        calls.copy_qa_result(session, inspection.call_id, final.total, inspection.passed)
    return final.total
