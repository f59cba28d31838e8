"""Work-order tables and their choice sets (seed 004: 工单类型、优先级、状态)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.accounts.models import User
from kefu.core.choices import ChoiceSet, enum_column
from kefu.core.db import Base, Timestamped, Versioned, utcnow
from kefu.customers.models import Customer


class OrderType(ChoiceSet, title="工单类型"):
    # Values match kefu.calls.reasons.WorkOrderHint, so a call's reason suggests the type.
    CONSULTATION = "consultation", "咨询类", "info"
    COMPLAINT = "complaint", "投诉类", "danger"
    FAULT = "fault", "故障类", "warning"
    SUGGESTION = "suggestion", "建议类", "success"


class Priority(ChoiceSet, title="优先级"):
    URGENT = "urgent", "紧急", "danger"
    HIGH = "high", "高", "warning"
    MEDIUM = "medium", "中", "info"
    LOW = "low", "低", "secondary"


class Status(ChoiceSet, title="工单状态"):
    NEW = "new", "待处理", "secondary"
    IN_PROGRESS = "in_progress", "处理中", "primary"
    WAITING = "waiting_customer", "待客户回复", "warning"  # the SLA clock stands still
    RESOLVED = "resolved", "已解决", "success"
    CLOSED = "closed", "已关闭", "dark"


class EventKind(ChoiceSet, title="事件类型"):
    CREATE = "create", "创建"
    UPDATE = "update", "修改"
    START = "start", "开始处理"
    WAIT = "wait", "等待客户回复"
    RESUME = "resume", "恢复处理"
    CLASSIFY = "classify", "分类定级"
    RESOLVE = "resolve", "解决"
    CLOSE = "close", "关闭"
    REOPEN = "reopen", "重新打开"
    ASSIGN = "assign", "指派"
    TRANSFER = "transfer", "转派"
    NOTE = "note", "跟进"
    CALLBACK = "callback", "回访"
    ESCALATE = "escalate", "升级"


OPEN_STATUSES = frozenset({Status.NEW, Status.IN_PROGRESS, Status.WAITING})


class WorkOrder(Versioned, Timestamped, Base):
    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # 工单编号 GD20261123-0001
    type: Mapped[OrderType] = mapped_column(enum_column(OrderType), index=True)
    priority: Mapped[Priority] = mapped_column(enum_column(Priority), default=Priority.MEDIUM)
    status: Mapped[Status] = mapped_column(enum_column(Status), default=Status.NEW, index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)  # None: anonymous
    contact: Mapped[str | None] = mapped_column(String(64))  # how to reach the caller for this order
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(2000))  # 问题描述
    handling_suggestion: Mapped[str | None] = mapped_column(String(1000))  # 处理建议
    measures_taken: Mapped[str | None] = mapped_column(String(2000))  # 已采取的处理措施
    promised_at: Mapped[datetime | None]  # 承诺的解决时间
    follow_up_plan: Mapped[str | None] = mapped_column(String(1000))  # 后续跟进计划
    departments: Mapped[list[str]] = mapped_column(JSON, default=list)  # 涉及部门
    complaint_category: Mapped[str | None] = mapped_column(String(32))  # 投诉分类 (分类与分级)
    # 首问负责制: the first agent owns the order until it is closed; the assignee does the work.
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    department: Mapped[str | None] = mapped_column(String(64))  # the department handling it now
    # The call it came from. A plain column: the calls domain owns the link (no foreign key here).
    call_id: Mapped[int | None] = mapped_column(index=True)
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    satisfaction: Mapped[int | None]  # the latest callback (回访), 1–5
    callback_comment: Mapped[str | None] = mapped_column(String(500))
    callback_at: Mapped[datetime | None]

    customer: Mapped[Customer | None] = relationship(lazy="joined")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    events: Mapped[list[WorkOrderEvent]] = relationship(
        back_populates="order",
        order_by="[WorkOrderEvent.at, WorkOrderEvent.id]",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def escalations(self) -> list[WorkOrderEvent]:
        return [event for event in self.events if event.kind == EventKind.ESCALATE]

    @property
    def escalation_level(self) -> int:
        return len(self.escalations)

    @property
    def escalated(self) -> bool:
        """Flagged: escalated by hand or for a missed deadline (kept as events, so an automatic
        escalation does not bump ``version`` under an agent's open edit)."""
        return any(event.kind == EventKind.ESCALATE for event in self.events)

    def __repr__(self) -> str:
        return f"<WorkOrder {self.number} {self.type.value} {self.status.value}>"


class WorkOrderEvent(Base):
    """One line of the order's timeline: every action writes one."""

    __tablename__ = "work_order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system (SLA escalation)
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind))
    note: Mapped[str | None] = mapped_column(String(2000))
    from_status: Mapped[Status | None] = mapped_column(enum_column(Status))
    to_status: Mapped[Status | None] = mapped_column(enum_column(Status))
    # Details of the action: transfer target, satisfaction, the missed deadline of an escalation, …
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    order: Mapped[WorkOrder] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(lazy="joined")

    @property
    def changes_status(self) -> bool:
        return self.to_status is not None and self.to_status != self.from_status

    def __repr__(self) -> str:
        return f"<WorkOrderEvent {self.order_id} {self.kind.value} {self.at:%Y-%m-%d %H:%M}>"


class WorkOrderCounter(Base):
    """The last 工单编号 sequence handed out per day of the centre's clock. Taking a number is one
    atomic upsert on this row, so concurrent creates queue on it instead of clashing."""

    __tablename__ = "work_order_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)  # 20261123
    last: Mapped[int]
