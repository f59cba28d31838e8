"""申诉: the agent's scorecards and the appeals against their findings.

An agent appeals a finding of their own call once, with a reason; the team lead gives an opinion
(their own team only), then QA decides. An upheld appeal takes the finding out of the score
(``Finding.counts``) and the final score, the one the 通话质量 KPI reads, is recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.calls.models import CallRecord
from kefu.core import access, audit
from kefu.core.db import get_or_404, utcnow
from kefu.core.errors import Conflict, Forbidden, Invalid
from kefu.core.fields import Id, api_time
from kefu.core.security import Permission, Role, allowed
from kefu.quality.models import Appeal, AppealStatus, Finding, Inspection, InspectionStatus
from kefu.quality.service import counted_findings, get_inspection, latest_review, refresh_final_score

ENTITY = audit.AuditEntity.APPEAL
REASON_MAX = 1000
NOTE_MAX = 1000


class AppealIn(BaseModel):
    """申诉: the finding and why it is wrong (the agent)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    finding_id: Id
    reason: str = Field(min_length=1, max_length=REASON_MAX)


class LeadOpinionIn(BaseModel):
    """The team lead's opinion: supports the appeal or not."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    supports: bool
    note: str | None = Field(default=None, max_length=NOTE_MAX)


class DecisionIn(BaseModel):
    """QA's decision: the appeal is upheld (the finding no longer counts) or rejected."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    upheld: bool
    note: str | None = Field(default=None, max_length=NOTE_MAX)


ACTION_LABELS = {
    "appeal": "提出申诉",
    "lead_support": "班组长支持申诉",
    "lead_oppose": "班组长不支持申诉",
    "upheld": "质检裁定:申诉成立",
    "rejected": "质检裁定:申诉驳回",
}


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise Forbidden("账号不存在或已停用")
    return user


def get_appeal(session: Session, appeal_id: int) -> Appeal:
    appeal = get_or_404(session, Appeal, appeal_id, "申诉")
    return appeal


def _note(value: str | None, label: str, *, required: bool = False) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise Invalid(f"请填写{label}")
    if len(text) > NOTE_MAX:
        raise Invalid(f"{label}不能超过 {NOTE_MAX} 字(现 {len(text)} 字)")
    return text or None


def _step(appeal: Appeal, actor: User, action: str, note: str | None, at: datetime) -> None:
    # A new list: JSON columns only notice a change when the value is replaced.
    appeal.history = [
        *(appeal.history or []),
        {"at": at.isoformat(), "actor_id": actor.id, "actor_name": actor.name, "action": action, "note": note},
    ]


def appealable(session: Session, finding: Finding) -> bool:
    """Whether the finding may still be appealed: it costs points now on the call's current
    scorecard and nobody appealed it yet."""
    inspection = finding.inspection
    if finding.appeal is not None or not inspection.current or inspection.status != InspectionStatus.DONE:
        return False
    return any(f.id == finding.id for f in counted_findings(session, inspection))


def do_appeal(session: Session, agent_id: int, finding_id: int, reason: str) -> Appeal:
    agent = _user(session, agent_id)
    finding = get_or_404(session, Finding, finding_id, "扣分项")
    inspection = finding.inspection
    if inspection.call.agent_id != agent.id:
        raise Forbidden("只能申诉自己通话的扣分项")
    if finding.appeal is not None:
        raise Conflict("该扣分项已申诉过,每项只能申诉一次")
    text = (reason or "").strip()
    if not text:
        raise Invalid("请填写申诉理由")
    if len(text) > REASON_MAX:
        raise Invalid(f"申诉理由不能超过 {REASON_MAX} 字(现 {len(text)} 字)")
    if not inspection.current or inspection.status != InspectionStatus.DONE:
        raise Conflict("该评分卡已被重新质检替代,请对当前评分卡的扣分项申诉")
    if not appealable(session, finding):
        raise Conflict("该扣分项已不再扣分(已被复核推翻),无需申诉")
    now = utcnow()
    appeal = Appeal(finding_id=finding.id, agent_id=agent.id, reason=text, status=AppealStatus.PENDING, history=[])
    _step(appeal, agent, "appeal", text, now)
    session.add(appeal)
    session.flush()
    audit.record(
        session,
        agent.id,
        "create",
        ENTITY,
        appeal.id,
        {"status": [None, AppealStatus.PENDING.value], "reason": [None, text]},
        detail=f"申诉通话 {inspection.call_id} 的扣分项「{finding.rule_name}」",
    )
    session.refresh(finding, ["appeal"])
    return appeal


def _may_lead(user: User, appeal: Appeal) -> bool:
    if not allowed(user.role, Permission.APPEAL_LEAD):
        return False
    # A team lead speaks for their own team; supervisors and admins for everyone.
    return user.role != Role.TEAM_LEAD or (user.team is not None and appeal.agent.team == user.team)


def do_lead_opinion(session: Session, lead_id: int, appeal_id: int, supports: bool, note: str | None) -> Appeal:
    lead = _user(session, lead_id)
    appeal = get_appeal(session, appeal_id)
    if not allowed(lead.role, Permission.APPEAL_LEAD):
        raise Forbidden(f"{lead.role.label}无权审核申诉")
    if not _may_lead(lead, appeal):
        raise Forbidden("只能审核本班组话务员的申诉")
    if appeal.status != AppealStatus.PENDING:
        raise Conflict(f"该申诉已是「{appeal.status.label}」,班组长意见只能给一次")
    text = _note(note, "班组长意见")
    appeal.status = AppealStatus.LEAD_REVIEWED
    appeal.lead_id = lead.id
    appeal.lead_supports = supports
    appeal.lead_opinion = text
    _step(appeal, lead, "lead_support" if supports else "lead_oppose", text, utcnow())
    session.flush()
    audit.record(
        session,
        lead.id,
        "lead_opinion",
        ENTITY,
        appeal.id,
        {
            "status": [AppealStatus.PENDING.value, AppealStatus.LEAD_REVIEWED.value],
            "lead_supports": [None, supports],
            "lead_opinion": [None, text],
        },
        detail=ACTION_LABELS["lead_support" if supports else "lead_oppose"],
    )
    return appeal


def do_decide(session: Session, qa_id: int, appeal_id: int, upheld: bool, note: str | None) -> Appeal:
    qa = _user(session, qa_id)
    appeal = get_appeal(session, appeal_id)
    if not allowed(qa.role, Permission.APPEAL_DECIDE):
        raise Forbidden(f"{qa.role.label}无权裁定申诉")
    if appeal.status == AppealStatus.PENDING:
        raise Conflict("须先由班组长给出意见,才能裁定该申诉")
    if appeal.status != AppealStatus.LEAD_REVIEWED:
        raise Conflict(f"该申诉已裁定(「{appeal.status.label}」),不能再次裁定")
    text = _note(note, "裁定说明")
    now = utcnow()
    status = AppealStatus.UPHELD if upheld else AppealStatus.REJECTED
    appeal.status = status
    appeal.decided_by = qa.id
    appeal.decided_at = now
    appeal.decision_note = text
    _step(appeal, qa, status.value, text, now)
    session.flush()
    inspection = appeal.finding.inspection
    before = inspection.final_score
    after = refresh_final_score(session, inspection)
    audit.record(
        session,
        qa.id,
        "decide",
        ENTITY,
        appeal.id,
        {
            "status": [AppealStatus.LEAD_REVIEWED.value, status.value],
            "decision_note": [None, text],
            "final_score": [before, after],
        },
        detail=ACTION_LABELS[status.value],
    )
    return appeal


# ------------------------------------------------------------------------- reading


def my_scorecards(session: Session, agent_id: int, limit: int = 200) -> list[Inspection]:
    """The agent's current scorecards, newest call first."""
    query = (
        select(Inspection)
        .join(CallRecord, CallRecord.id == Inspection.call_id)
        .where(
            CallRecord.agent_id == agent_id,
            Inspection.current.is_(True),
            Inspection.status == InspectionStatus.DONE,
        )
        .order_by(CallRecord.ring_at.desc(), Inspection.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def may_view(user: User, inspection: Inspection) -> bool:
    """A scorecard is read as its call is (kefu.core.access): the agent's own, the team's for a
    team lead, all for QA, trainers and supervisors."""
    return access.within(user, access.scope_of(user, access.Record.CALL), [inspection.call.agent])


@dataclass(frozen=True)
class ScorecardFinding:
    finding: Finding
    counts: bool
    appealable: bool  # by the user looking at it


@dataclass(frozen=True)
class Scorecard:
    inspection: Inspection
    findings: list[ScorecardFinding]
    appeals: int  # how many of its findings were appealed


def scorecard(session: Session, user: User, inspection_id: int) -> Scorecard:
    """One scorecard as its agent (or a QA_REPORT role) sees it: the rule findings and the manual
    findings of the review that counts (not those of calibration reviews)."""
    inspection = get_inspection(session, inspection_id)
    if not may_view(user, inspection):
        raise Forbidden("只能查看自己通话的质检结果")
    review = latest_review(session, inspection)
    counted = {f.id for f in counted_findings(session, inspection)}
    own = inspection.call.agent_id == user.id
    shown = [f for f in inspection.findings if not f.manual or (review is not None and f.review_id == review.id)]
    items = [
        ScorecardFinding(f, f.id in counted, own and appealable(session, f) if f.id in counted else False)
        for f in shown
    ]
    return Scorecard(inspection, items, sum(1 for f in shown if f.appeal is not None))


def appeal_queue(session: Session, user: User) -> list[Appeal]:
    """What waits for ``user``: a team lead the pending appeals of their team, QA the ones the
    team lead has seen; a supervisor or admin both."""
    statuses: list[AppealStatus] = []
    if allowed(user.role, Permission.APPEAL_LEAD):
        statuses.append(AppealStatus.PENDING)
    if allowed(user.role, Permission.APPEAL_DECIDE):
        statuses.append(AppealStatus.LEAD_REVIEWED)
    if not statuses:
        raise Forbidden(f"{user.role.label}无权处理申诉")
    query = select(Appeal).where(Appeal.status.in_(statuses)).order_by(Appeal.created_at, Appeal.id)
    if user.role == Role.TEAM_LEAD:
        if user.team is None:
            return []
        query = query.join(User, User.id == Appeal.agent_id).where(User.team == user.team)
    return list(session.scalars(query))


def recent_decided(session: Session, user: User, limit: int = 50) -> list[Appeal]:
    """The latest appeals that went past ``user``'s step (for the queue page's history)."""
    query = select(Appeal).where(Appeal.status != AppealStatus.PENDING)
    if user.role == Role.TEAM_LEAD:
        query = query.join(User, User.id == Appeal.agent_id).where(User.team == user.team)
    return list(session.scalars(query.order_by(Appeal.updated_at.desc(), Appeal.id.desc()).limit(limit)))


def history_rows(appeal: Appeal) -> list[dict[str, Any]]:
    """The steps, each time on the centre's clock (stored as UTC)."""
    return [
        {
            **step,
            "at": _on_clock(step.get("at")),
            "label": ACTION_LABELS.get(step.get("action", ""), step.get("action")),
        }
        for step in appeal.history
    ]


def _on_clock(stored: Any) -> Any:
    try:
        return api_time(datetime.fromisoformat(stored))
    except (TypeError, ValueError):  # an odd stored value is shown as it is
        return stored
