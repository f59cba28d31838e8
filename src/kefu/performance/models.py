"""Performance (SPEC §7): the records beside the calls (surveys, sales, business errors,
attendance), the published monthly evaluations, and coaching plans.

A month is evaluated live from the records until a supervisor publishes it; publishing stores
every agent's figures, scores and grade as a revision that later records never change. A
correction publishes the next revision, with its reason; the earlier ones stay."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.accounts.models import User
from kefu.core.choices import ChoiceSet, enum_column
from kefu.core.db import Base, Timestamped, Versioned, utcnow


class Survey(Base):
    """The post-call survey of one call (满意/一般/不满意 or 1–5)."""

    __tablename__ = "performance_surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    answer: Mapped[str] = mapped_column(String(16))  # as given: "5", "满意"
    satisfied: Mapped[bool] = mapped_column(index=True)
    answered_at: Mapped[datetime] = mapped_column(index=True)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Sale(Base):
    """A product offered on a call (推荐) and whether the customer took it (销售业绩)."""

    __tablename__ = "performance_sales"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    product: Mapped[str] = mapped_column(String(64))
    converted: Mapped[bool]
    amount: Mapped[float] = mapped_column(default=0.0)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BusinessError(Base):
    """An error a team lead recorded by hand (业务差错). Confirmed QA findings of the 业务处理
    category count too; they are read from the quality tables, not copied here."""

    __tablename__ = "performance_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    note: Mapped[str] = mapped_column(String(500))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agent: Mapped[User] = relationship(foreign_keys=[agent_id], lazy="joined")


class Attendance(Base):
    """One agent's day: minutes scheduled and present (imported or entered until the workforce
    domain schedules them)."""

    __tablename__ = "performance_attendance"
    __table_args__ = (UniqueConstraint("agent_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    day: Mapped[date] = mapped_column(index=True)  # on the centre's calendar
    scheduled_minutes: Mapped[float]
    present_minutes: Mapped[float]
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class EvaluationComment(Timestamped, Base):
    """The team lead's qualitative comment on an agent's month (定性评价), written before the
    month is published and copied into it."""

    __tablename__ = "performance_comments"
    __table_args__ = (UniqueConstraint("month", "agent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # 2026-11
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")


class PublishedMonth(Base):
    """One published revision of a month's evaluation; the highest revision is the one in force."""

    __tablename__ = "performance_months"
    __table_args__ = (UniqueConstraint("month", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    revision: Mapped[int]
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(String(500))  # why a revision corrects the one before
    basis: Mapped[dict[str, Any]] = mapped_column(JSON)  # the settings it was computed with, for people

    publisher: Mapped[User] = relationship(lazy="joined")
    evaluations: Mapped[list[AgentEvaluation]] = relationship(
        back_populates="published", cascade="all, delete-orphan", order_by="AgentEvaluation.agent_no", lazy="selectin"
    )


class AgentEvaluation(Base):
    """One agent's month as published: frozen figures, the dimension scores, the grade."""

    __tablename__ = "performance_evaluations"
    __table_args__ = (UniqueConstraint("month_id", "agent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month_id: Mapped[int] = mapped_column(ForeignKey("performance_months.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    agent_no: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(64))
    calls: Mapped[int]  # answered calls: the volume behind the figures
    total: Mapped[float | None]
    grade: Mapped[str | None] = mapped_column(String(4))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)  # every KPI with what it was computed from
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # per dimension: raw, score, weight, points
    comment: Mapped[str | None] = mapped_column(Text)
    inspections: Mapped[list[int]] = mapped_column(JSON, default=list)  # the QA scores counted, by inspection id

    published: Mapped[PublishedMonth] = relationship(back_populates="evaluations")


class CoachingStatus(ChoiceSet, title="辅导计划状态"):
    OPEN = "open", "进行中", "primary"
    CLOSED = "closed", "已结束", "secondary"


class CoachingPlan(Versioned, Timestamped, Base):
    """专项辅导和改进计划 for an agent whose results stay poor: goals, actions, when to review."""

    __tablename__ = "performance_coaching"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    month: Mapped[str | None] = mapped_column(String(7))  # the month whose results called for it
    reason: Mapped[str | None] = mapped_column(String(200))
    goals: Mapped[str] = mapped_column(Text)
    actions: Mapped[str] = mapped_column(Text)
    review_on: Mapped[date]
    status: Mapped[CoachingStatus] = mapped_column(enum_column(CoachingStatus), default=CoachingStatus.OPEN)
    outcome: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))

    agent: Mapped[User] = relationship(foreign_keys=[agent_id], lazy="joined")
    author: Mapped[User] = relationship(foreign_keys=[created_by], lazy="joined")
