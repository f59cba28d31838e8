"""Quality inspection inside the platform (SPEC §2 "Workflow"): rulebook versions, the stored
scorecard of every call, sampling plans, review tasks, appeals and calibration sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.accounts.models import User
from kefu.calls.models import CallRecord
from kefu.core.choices import ChoiceSet, enum_column
from kefu.core.db import Base, Timestamped, Versioned, utcnow


class RulebookStatus(ChoiceSet, title="规则库状态"):
    DRAFT = "draft", "草稿", "warning"
    PUBLISHED = "published", "已发布", "success"
    RETIRED = "retired", "已停用", "secondary"  # an earlier published version, kept for old scorecards


class InspectionStatus(ChoiceSet, title="质检状态"):
    DONE = "done", "已质检", "success"
    FAILED = "failed", "质检失败(待重检)", "danger"


class FindingReview(ChoiceSet, title="复核结论"):
    PENDING = "pending", "待复核", "secondary"
    CONFIRMED = "confirmed", "确认", "success"
    OVERTURNED = "overturned", "推翻", "warning"


class Period(ChoiceSet, title="周期"):
    DAILY = "daily", "每日"
    WEEKLY = "weekly", "每周"
    MONTHLY = "monthly", "每月"


class ReviewStatus(ChoiceSet, title="复核任务状态"):
    OPEN = "open", "待复核", "primary"
    DONE = "done", "已完成", "success"


class AppealStatus(ChoiceSet, title="申诉状态"):
    PENDING = "pending", "待班组长审核", "primary"
    LEAD_REVIEWED = "lead_reviewed", "待质检裁定", "warning"
    UPHELD = "upheld", "申诉成立", "success"  # the finding no longer counts
    REJECTED = "rejected", "申诉驳回", "dark"


class RulebookVersion(Versioned, Base):
    """One version of the centre's rulebook: the YAML laid over the shipped default files
    (the same format as ``kefu qa --rules``; empty = the defaults). Drafts are edited, then
    published; a published version is never changed, so every stored scorecard can name the
    rules that produced it."""

    __tablename__ = "quality_rulebooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int | None] = mapped_column(unique=True)  # 1, 2, … given at publication
    status: Mapped[RulebookStatus] = mapped_column(
        enum_column(RulebookStatus), default=RulebookStatus.DRAFT, index=True
    )
    overlay: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str | None] = mapped_column(String(500))  # what changed and why
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]

    @property
    def label(self) -> str:
        return f"第 {self.number} 版" if self.number is not None else f"草稿 #{self.id}"


class Inspection(Base):
    """The scorecard of one call by one rulebook version. A re-inspection adds a row and moves
    ``current``; the old rows stay, so a score can always be traced to its rules."""

    __tablename__ = "quality_inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    rulebook_id: Mapped[int | None] = mapped_column(ForeignKey("quality_rulebooks.id"), index=True)
    rulebook_label: Mapped[str] = mapped_column(String(64))  # Rulebook.version, e.g. 2026.11+r2
    current: Mapped[bool] = mapped_column(default=True, index=True)
    status: Mapped[InspectionStatus] = mapped_column(enum_column(InspectionStatus), index=True)
    error: Mapped[str | None] = mapped_column(String(500))  # why it failed
    inspected_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # the call's agent
    machine_score: Mapped[float | None]
    passed: Mapped[bool | None]
    fatal: Mapped[bool] = mapped_column(default=False)
    pass_line: Mapped[float | None]
    categories: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {key: {name, score, max}}
    not_applicable: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # [{rule, rule_name, missing}]
    # After review and appeals: the score the 通话质量 KPI uses (== machine_score until then).
    final_score: Mapped[float | None]

    call: Mapped[CallRecord] = relationship(lazy="joined")
    agent: Mapped[User | None] = relationship(lazy="joined")
    findings: Mapped[list[Finding]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan", order_by="Finding.id", lazy="selectin"
    )


class Finding(Base):
    """One finding: by a rule (``manual`` False) or added by an inspector in a review."""

    __tablename__ = "quality_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("quality_inspections.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(64), index=True)  # rule id; "manual" for an inspector's own
    rule_name: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    deduction: Mapped[float]
    fatal: Mapped[bool] = mapped_column(default=False)
    message: Mapped[str] = mapped_column(String(500))
    standard: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str | None] = mapped_column(String(200))
    turn: Mapped[int | None]  # 0-based index into the call's transcript
    speaker: Mapped[str | None] = mapped_column(String(16))
    start: Mapped[float | None]
    end: Mapped[float | None]
    evidence: Mapped[str | None] = mapped_column(String(500))
    evidence_span: Mapped[list[int] | None] = mapped_column(JSON)
    suggestion: Mapped[str | None] = mapped_column(String(500))
    manual: Mapped[bool] = mapped_column(default=False)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("quality_reviews.id", ondelete="CASCADE"), index=True)
    # The inspector's verdict on a rule's finding (the latest completed review of the call).
    review: Mapped[FindingReview] = mapped_column(enum_column(FindingReview), default=FindingReview.PENDING)
    review_note: Mapped[str | None] = mapped_column(String(500))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]

    inspection: Mapped[Inspection] = relationship(back_populates="findings")
    appeal: Mapped[Appeal | None] = relationship(back_populates="finding", lazy="selectin", uselist=False)

    @property
    def counts(self) -> bool:
        """Whether it still costs points: not overturned in review, no upheld appeal."""
        if self.review == FindingReview.OVERTURNED:
            return False
        return not (self.appeal is not None and self.appeal.status == AppealStatus.UPHELD)


class SamplingPlan(Versioned, Timestamped, Base):
    """抽检方案: which calls go to human review each period. Seed 004: 通话质量 … 每周抽检."""

    __tablename__ = "quality_sampling_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    period: Mapped[Period] = mapped_column(enum_column(Period), default=Period.WEEKLY)
    per_agent_count: Mapped[int | None]  # this many calls per agent per period …
    per_agent_percent: Mapped[float | None]  # … or this share of each agent's calls
    # Filters: score_min, score_max, rules (any of these rule ids fired), directions, channels, reasons,
    # min_seconds, max_seconds (talk time).
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    inspector_ids: Mapped[list[int] | None] = mapped_column(JSON)  # None: every active QA inspector
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SamplingRun(Base):
    """One period of one plan, drawn once: running the plan again for the same period adds nothing."""

    __tablename__ = "quality_sampling_runs"
    __table_args__ = (UniqueConstraint("plan_id", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("quality_sampling_plans.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    calls: Mapped[int] = mapped_column(default=0)  # how many were sampled

    plan: Mapped[SamplingPlan] = relationship(lazy="joined")


class CalibrationSession(Timestamped, Base):
    """校准: several inspectors score the same calls; compared with the reference inspector."""

    __tablename__ = "quality_calibrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    reference_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # the reference inspector
    inspector_ids: Mapped[list[int]] = mapped_column(JSON)  # everyone who scores, the reference included
    call_ids: Mapped[list[int]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    reference: Mapped[User] = relationship(lazy="joined", foreign_keys=[reference_id])


class Review(Versioned, Timestamped, Base):
    """A human review task: one inspector, one call (its current inspection). Sampling and
    calibration both create them; a calibration review does not change the call's score."""

    __tablename__ = "quality_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("quality_inspections.id", ondelete="CASCADE"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("quality_sampling_runs.id", ondelete="SET NULL"), index=True)
    calibration_id: Mapped[int | None] = mapped_column(
        ForeignKey("quality_calibrations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ReviewStatus] = mapped_column(enum_column(ReviewStatus), default=ReviewStatus.OPEN, index=True)
    # The inspector's score, kept apart from the machine's: total and per category ({key: score}).
    manual_score: Mapped[float | None]
    category_scores: Mapped[dict[str, float] | None] = mapped_column(JSON)
    # A calibration review keeps its verdicts here ({finding_id: "confirmed"|"overturned"}) instead of
    # on the findings, so the inspectors do not see or change each other's.
    verdicts: Mapped[dict[str, str] | None] = mapped_column(JSON)
    verdict_notes: Mapped[dict[str, str] | None] = mapped_column(JSON)  # {finding_id: the inspector's note}
    comment: Mapped[str | None] = mapped_column(String(1000))
    completed_at: Mapped[datetime | None]

    call: Mapped[CallRecord] = relationship(lazy="joined")
    inspection: Mapped[Inspection] = relationship(lazy="joined")
    inspector: Mapped[User] = relationship(lazy="joined", foreign_keys=[inspector_id])
    manual_findings: Mapped[list[Finding]] = relationship(
        foreign_keys=[Finding.review_id], order_by="Finding.id", lazy="selectin", viewonly=True
    )


class Appeal(Timestamped, Base):
    """申诉: the agent disputes one finding, once, with a reason. The team lead gives an opinion,
    QA decides. Every step is kept in ``history``."""

    __tablename__ = "quality_appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("quality_findings.id", ondelete="CASCADE"), unique=True
    )  # once per finding
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(String(1000))
    status: Mapped[AppealStatus] = mapped_column(enum_column(AppealStatus), default=AppealStatus.PENDING, index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lead_opinion: Mapped[str | None] = mapped_column(String(1000))
    lead_supports: Mapped[bool | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_note: Mapped[str | None] = mapped_column(String(1000))
    decided_at: Mapped[datetime | None]
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{at, actor_id, action, note}]

    finding: Mapped[Finding] = relationship(back_populates="appeal")
    agent: Mapped[User] = relationship(lazy="joined", foreign_keys=[agent_id])
