"""Workforce in the platform (SPEC §8): the week's roster (drafted, adjusted, published, revised),
leave and shift-swap requests, and the notices that tell agents their schedule changed.

A roster is a week (Monday to Sunday on the centre's calendar) of shifts per agent. It is a
draft until a planner publishes it; after that every change is a numbered revision with its
reason, and each agent it touches gets a notice."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.accounts.models import User
from kefu.core.choices import ChoiceSet, enum_column
from kefu.core.db import Base, Timestamped, Versioned, utcnow


class RosterStatus(ChoiceSet, title="排班状态"):
    DRAFT = "draft", "草稿", "secondary"
    PUBLISHED = "published", "已发布", "success"


class Roster(Versioned, Timestamped, Base):
    __tablename__ = "workforce_rosters"

    id: Mapped[int] = mapped_column(primary_key=True)
    week_start: Mapped[date] = mapped_column(unique=True)  # a Monday on the centre's calendar
    status: Mapped[RosterStatus] = mapped_column(enum_column(RosterStatus), default=RosterStatus.DRAFT)
    revision: Mapped[int] = mapped_column(default=0)  # 0 while a draft, 1 when published, +1 per revision
    requirement: Mapped[list[list[int]]] = mapped_column(JSON)  # agents on the roster per day × half hour
    basis: Mapped[dict[str, Any]] = mapped_column(JSON)  # forecast, settings and solver outcome, for people
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    late_reason: Mapped[str | None] = mapped_column(String(500))  # published less than the notice ahead

    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="roster", cascade="all, delete-orphan", order_by="Assignment.day", lazy="selectin"
    )


class Assignment(Base):
    """One agent's shift on one day of a roster (no row: resting or on leave)."""

    __tablename__ = "workforce_assignments"
    __table_args__ = (UniqueConstraint("roster_id", "agent_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    roster_id: Mapped[int] = mapped_column(ForeignKey("workforce_rosters.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    day: Mapped[date] = mapped_column(index=True)
    shift: Mapped[str] = mapped_column(String(16))  # a shift code (kefu.workforce.roster.SHIFTS)

    roster: Mapped[Roster] = relationship(back_populates="assignments")


class RosterRevision(Base):
    """A change to a published roster: what changed, by whom, why."""

    __tablename__ = "workforce_revisions"
    __table_args__ = (UniqueConstraint("roster_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    roster_id: Mapped[int] = mapped_column(ForeignKey("workforce_rosters.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # agent, day, before, after

    author: Mapped[User] = relationship(lazy="joined")


class LeaveKind(ChoiceSet, title="假别"):
    ANNUAL = "annual", "年假"
    PERSONAL = "personal", "事假"
    SICK = "sick", "病假"
    COMPENSATORY = "compensatory", "调休"
    OTHER = "other", "其他"


class RequestStatus(ChoiceSet, title="申请状态"):
    AWAITING_PARTNER = "awaiting_partner", "待对方同意", "info"
    PENDING = "pending", "待审批", "warning"
    APPROVED = "approved", "已批准", "success"
    REFUSED = "refused", "已拒绝", "danger"
    CANCELLED = "cancelled", "已撤回", "secondary"


OPEN_REQUESTS = (RequestStatus.AWAITING_PARTNER, RequestStatus.PENDING)


class LeaveRequest(Versioned, Timestamped, Base):
    __tablename__ = "workforce_leave"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    first_day: Mapped[date] = mapped_column(index=True)
    last_day: Mapped[date]
    kind: Mapped[LeaveKind] = mapped_column(enum_column(LeaveKind))
    reason: Mapped[str] = mapped_column(Text)
    late: Mapped[bool] = mapped_column(default=False)  # asked inside the notice: only a supervisor's override
    status: Mapped[RequestStatus] = mapped_column(enum_column(RequestStatus), default=RequestStatus.PENDING)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(String(500))

    agent: Mapped[User] = relationship(foreign_keys=[agent_id], lazy="joined")
    decider: Mapped[User | None] = relationship(foreign_keys=[decided_by], lazy="joined")


class SwapRequest(Versioned, Timestamped, Base):
    """Two agents exchange their shifts of one day (one of them may be resting: the other then
    takes the shift over). The partner agrees first, then the team lead decides."""

    __tablename__ = "workforce_swaps"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    day: Mapped[date] = mapped_column(index=True)
    note: Mapped[str] = mapped_column(String(500))
    requester_shift: Mapped[str | None] = mapped_column(String(16))  # the shifts as they were when asked
    partner_shift: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[RequestStatus] = mapped_column(enum_column(RequestStatus), default=RequestStatus.AWAITING_PARTNER)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(String(500))

    requester: Mapped[User] = relationship(foreign_keys=[requester_id], lazy="joined")
    partner: Mapped[User] = relationship(foreign_keys=[partner_id], lazy="joined")


class Notice(Base):
    """A message to an agent about their schedule (a revision, a decided request)."""

    __tablename__ = "workforce_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    text: Mapped[str] = mapped_column(String(500))
    read_at: Mapped[datetime | None]
