"""The stored scorecard of a call as its page and ``/api/calls/{id}/inspection`` show it: the
current inspection (never a fresh one), the rulebook version that produced it, the findings
with their evidence marked in the transcript; a failed inspection with its error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from kefu.calls.models import CallRecord
from kefu.core.fields import CentreTime
from kefu.core.privacy import Reader
from kefu.inspection.html_report import _segments
from kefu.quality.models import AppealStatus, Finding, FindingReview, Inspection, InspectionStatus, RulebookVersion
from kefu.quality.service import counted_findings, current_inspection

NO_TRANSCRIPT = "该通话没有转写,无法质检"
FAILED = "质检失败,待重新质检"


@dataclass
class Mark:
    """A run of a turn's text; ``hits``: the numbers (1-based) of the findings on it."""

    text: str
    hits: list[int]


@dataclass
class Card:
    call_id: int
    applicable: bool  # the call has a transcript
    inspection: Inspection | None
    status: str  # none | done | failed
    message: str | None
    version: str  # 第 2 版(2026.11+r2)
    findings: list[dict[str, Any]] = field(default_factory=list)
    turns: dict[int, list[Mark]] = field(default_factory=dict)  # turn index → marked runs

    def public(self) -> CallScorecardOut:
        inspection = self.inspection
        call_id = self.call_id
        if inspection is None:
            return CallScorecardOut(
                call_id=call_id, applicable=self.applicable, status=self.status, message=self.message
            )
        report = None
        if inspection.status == InspectionStatus.DONE:
            report = ScorecardReport(
                score=inspection.final_score,
                machine_score=inspection.machine_score,
                final_score=inspection.final_score,
                passed=inspection.passed,
                fatal=inspection.fatal,
                pass_line=inspection.pass_line,
                categories=inspection.categories or {},
                not_applicable=inspection.not_applicable or [],
                findings=self.findings,
            )
        return CallScorecardOut(
            call_id=call_id,
            applicable=self.applicable,
            status=self.status,
            message=self.message,
            inspection_id=inspection.id,
            rulebook_id=inspection.rulebook_id,
            rulebook_label=inspection.rulebook_label,
            rulebook_version=self.version,
            inspected_at=inspection.inspected_at,
            error=inspection.error,
            report=report,
        )


class ScorecardReport(BaseModel):
    score: float | None
    machine_score: float | None
    final_score: float | None
    passed: bool | None
    fatal: bool | None
    pass_line: float | None
    categories: dict[str, Any] = Field(description="{key: {name, score, max}}")
    not_applicable: list[dict[str, Any]]
    findings: list[dict[str, Any]]


class CallScorecardOut(BaseModel):
    """A call's stored scorecard (``report`` None: no transcript, or the inspection failed)."""

    call_id: int
    applicable: bool = Field(description="false for a call without a transcript")
    status: str = Field(description="none | done | failed")
    message: str | None
    inspection_id: int | None = None
    rulebook_id: int | None = None
    rulebook_label: str | None = None
    rulebook_version: str | None = None
    inspected_at: CentreTime | None = None
    error: str | None = None
    report: ScorecardReport | None = None


def version_label(session: Session, inspection: Inspection) -> str:
    if inspection.rulebook_id is None:
        return f"默认规则({inspection.rulebook_label})" if inspection.rulebook_label != "-" else "规则无法加载"
    version = session.get(RulebookVersion, inspection.rulebook_id)
    name = version.label if version is not None else f"版本 #{inspection.rulebook_id}"
    return f"{name}({inspection.rulebook_label})"


def _state(finding: Finding) -> str | None:
    if finding.review == FindingReview.OVERTURNED:
        return "复核推翻"
    if finding.appeal is not None and finding.appeal.status == AppealStatus.UPHELD:
        return "申诉成立"
    return None


def scorecard(session: Session, call: CallRecord, reader: Reader) -> Card:
    """Evidence and transcript as ``reader`` may see them (numbers masked, same length, so the
    marked spans stay where they were)."""
    inspection = current_inspection(session, call.id)
    if inspection is None:
        message = NO_TRANSCRIPT if not call.transcript else "尚未质检"
        return Card(call.id, bool(call.transcript), None, "none", message, "")
    version = version_label(session, inspection)
    if inspection.status == InspectionStatus.FAILED:
        return Card(call.id, bool(call.transcript), inspection, "failed", FAILED, version)
    counted = {f.id for f in counted_findings(session, inspection)}
    shown = [f for f in inspection.findings if not f.manual or f.id in counted]
    turns = reader.turns(call.customer_id, call.transcript) or []
    spans: dict[int, list[tuple[int, int, int]]] = {}
    findings = []
    for number, f in enumerate(shown, start=1):
        findings.append(
            {
                "number": number,
                "id": f.id,
                "rule": f.rule,
                "rule_name": f.rule_name,
                "category": (inspection.categories or {}).get(f.category, {}).get("name", f.category),
                "deduction": f.deduction,
                "fatal": f.fatal,
                "manual": f.manual,
                "message": f.message,
                "standard": f.standard,
                "turn": f.turn,
                "evidence": reader.text(call.customer_id, f.evidence),
                "evidence_span": f.evidence_span,
                "suggestion": f.suggestion,
                "counts": f.id in counted,
                "state": _state(f),
            }
        )
        if f.turn is not None and 0 <= f.turn < len(turns):
            length = len(str(turns[f.turn].get("text", "")))
            start, end = f.evidence_span or (0, length)
            start, end = max(0, min(start, length)), max(0, min(end, length))
            if start < end:
                spans.setdefault(f.turn, []).append((start, end, number))
    marked = {
        turn: [Mark(s.text, s.hits) for s in _segments(str(turns[turn].get("text", "")), found)]
        for turn, found in spans.items()
    }
    return Card(call.id, bool(call.transcript), inspection, "done", None, version, findings, marked)
