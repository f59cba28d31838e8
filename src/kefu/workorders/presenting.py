"""A work order as the API answers and the pages and the export show it: typed answers
(kefu.workorders.schemas), times on the centre's clock, the customer's name and contact as the
reader may see them (kefu.core.privacy), the SLA deadlines in words."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kefu.accounts.models import User
from kefu.core.db import utcnow
from kefu.core.privacy import Reader
from kefu.workorders import service, sla
from kefu.workorders.models import WorkOrder, WorkOrderEvent
from kefu.workorders.schemas import DeadlineOut, EventOut, PersonOut, WorkOrderOut, WorkOrderSummary


def _person(user: User | None) -> PersonOut | None:
    return None if user is None else PersonOut.model_validate(user)


def present_deadline(deadline: sla.Deadline, now: datetime) -> DeadlineOut:
    remaining = deadline.remaining
    if deadline.met:
        state = "late" if deadline.late else "met"
        text = "已超时完成" if deadline.late else "已按时完成"
    elif deadline.overdue(now):
        state, text = "overdue", "已超时" + (f" {sla.describe_duration(-remaining)}" if remaining is not None else "")
    elif deadline.paused:
        state, text = "paused", "计时暂停(待客户回复)"
    elif remaining is not None:
        state, text = "running", f"剩余 {sla.describe_duration(remaining)}(工作时间)"
    elif deadline.due is not None:
        state, text = "running", f"剩余 {sla.describe_duration(deadline.due - now)}"
    else:
        state, text = "pending", "未开始计时"
    return DeadlineOut(
        name=deadline.name,
        limit=sla.describe_duration(deadline.limit) if deadline.limit is not None else None,
        due=deadline.due,
        met_at=deadline.met_at,
        remaining_minutes=int(remaining.total_seconds() // 60) if remaining is not None else None,
        state=state,  # type: ignore[arg-type]
        text=text,
    )


def present_event(event: WorkOrderEvent) -> EventOut:
    return EventOut(
        id=event.id,
        at=event.at,
        kind=event.kind,
        kind_label=event.kind.label,
        actor=_person(event.actor),
        note=event.note,
        from_status=event.from_status,
        to_status=event.to_status,
        data=event.data,
    )


def _fields(order: WorkOrder, reader: Reader, now: datetime, deadlines: list[sla.Deadline]) -> dict[str, Any]:
    return {
        "id": order.id,
        "number": order.number,
        "version": order.version,
        "type": order.type,
        "type_label": order.type.label,
        "priority": order.priority,
        "priority_label": order.priority.label,
        "status": order.status,
        "status_label": order.status.label,
        "title": order.title,
        "customer_id": order.customer_id,
        "customer_name": reader.name(order.customer_id, order.customer.name) if order.customer else None,
        "contact": reader.contact(order.customer_id, order.contact),
        "description": order.description,
        "handling_suggestion": order.handling_suggestion,
        "measures_taken": order.measures_taken,
        "promised_at": order.promised_at,
        "follow_up_plan": order.follow_up_plan,
        "departments": list(order.departments or []),
        "complaint_category": order.complaint_category,
        "owner": _person(order.owner),
        "assignee": _person(order.assignee),
        "department": order.department,
        "call_id": order.call_id,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "resolved_at": order.resolved_at,
        "closed_at": order.closed_at,
        "satisfaction": order.satisfaction,
        "callback_comment": order.callback_comment,
        "escalated": order.escalated,
        "overdue": any(d.overdue(now) for d in deadlines),
        "next_due": sla.earliest_due(deadlines),
        # The actions the status allows, if the reader may change this order at all.
        "allowed_actions": service.allowed_actions(order) if service.may_write(reader.user, order) else [],
    }


def summary(order: WorkOrder, reader: Reader, now: datetime | None = None) -> WorkOrderSummary:
    """An order in a list."""
    now = now or utcnow()
    return WorkOrderSummary(**_fields(order, reader, now, sla.deadlines(order, now)))


def present(order: WorkOrder, reader: Reader, now: datetime | None = None) -> WorkOrderOut:
    """One order with its deadlines and timeline."""
    now = now or utcnow()
    deadlines = sla.deadlines(order, now)
    return WorkOrderOut(
        **_fields(order, reader, now, deadlines),
        deadlines=[present_deadline(d, now) for d in deadlines],
        timeline=[present_event(e) for e in service.timeline(order)],
    )


EXPORT_COLUMNS = [
    ("number", "工单编号"),
    ("type_label", "工单类型"),
    ("priority_label", "优先级"),
    ("status_label", "状态"),
    ("title", "标题"),
    ("customer_name", "客户"),
    ("contact", "联系方式"),
    ("description", "问题描述"),
    ("measures_taken", "已采取的处理措施"),
    ("owner_name", "首问负责人"),
    ("assignee_name", "处理人"),
    ("department", "处理部门"),
    ("created_at", "创建时间"),
    ("next_due", "下一时限"),
    ("overdue_label", "是否超时"),
    ("resolved_at", "解决时间"),
    ("satisfaction", "满意度"),
]


def export_row(order: WorkOrder, reader: Reader, now: datetime) -> dict[str, Any]:
    """One row of the work-order export (``EXPORT_COLUMNS``)."""
    shown = summary(order, reader, now)
    return {
        **shown.model_dump(),
        "owner_name": shown.owner.name if shown.owner else None,
        "assignee_name": shown.assignee.name if shown.assignee else None,
        "overdue_label": "是" if shown.overdue else "否",
    }
