"""/api/workorders: list, create from the type's template, read with timeline and SLA deadlines,
optimistic-locking edits, the state machine's actions, and the CSV/Excel export. Thin: see
service.py (the pages in kefu.web.pages.workorders use the same services and ``present``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.core.clock import on_centre_clock
from kefu.core.db import utcnow
from kefu.core.errors import Invalid
from kefu.core.fields import Id, Version
from kefu.core.privacy import Reader
from kefu.core.security import Permission
from kefu.http.deps import DB, CustomerReader, require
from kefu.workorders import service, sla
from kefu.workorders.models import OrderType, Priority, Status, WorkOrder, WorkOrderEvent
from kefu.workorders.schemas import Callback, Transfer, WorkOrderCreate, WorkOrderUpdate

router = APIRouter(prefix="/api/workorders", tags=["workorders"])

# Reading an order shows customer data: whoever may look customers up may read orders (QA too).
READ = require(Permission.CUSTOMER_VIEW)
EDIT = require(Permission.WORKORDER_EDIT)
ASSIGN = require(Permission.WORKORDER_ASSIGN)


# ---------------------------------------------------------------- presenting


def _local(moment: datetime | None) -> datetime | None:
    """On the centre's clock: ISO 8601 with the offset in the API, 2026-11-23 14:30 on the pages
    (kefu.web.templating) and in the export."""
    return None if moment is None else on_centre_clock(moment)


def _person(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.id, "agent_no": user.agent_no, "name": user.name}


def present_deadline(deadline: sla.Deadline, now: datetime) -> dict[str, Any]:
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
    return {
        "name": deadline.name,
        "limit": sla.describe_duration(deadline.limit) if deadline.limit is not None else None,
        "due": _local(deadline.due),
        "met_at": _local(deadline.met_at),
        "remaining_minutes": int(remaining.total_seconds() // 60) if remaining is not None else None,
        "state": state,
        "text": text,
    }


def present_event(event: WorkOrderEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": _local(event.at),
        "kind": event.kind.value,
        "kind_label": event.kind.label,
        "actor": _person(event.actor),
        "note": event.note,
        "from_status": event.from_status.value if event.from_status else None,
        "to_status": event.to_status.value if event.to_status else None,
        "data": event.data,
    }


def present(order: WorkOrder, reader: Reader, now: datetime | None = None, *, full: bool = True) -> dict[str, Any]:
    """The order as the API answers and the pages show it (times on the centre's clock), the
    customer's name and contact as ``reader`` may see them (kefu.core.privacy)."""
    now = now or utcnow()
    deadlines = sla.deadlines(order, now)
    overdue = any(d.overdue(now) for d in deadlines)
    due = sla.earliest_due(deadlines)
    out: dict[str, Any] = {
        "id": order.id,
        "number": order.number,
        "version": order.version,
        "type": order.type.value,
        "type_label": order.type.label,
        "priority": order.priority.value,
        "priority_label": order.priority.label,
        "status": order.status.value,
        "status_label": order.status.label,
        "title": order.title,
        "customer_id": order.customer_id,
        "customer_name": reader.name(order.customer_id, order.customer.name) if order.customer else None,
        "contact": reader.contact(order.customer_id, order.contact),
        "description": order.description,
        "handling_suggestion": order.handling_suggestion,
        "measures_taken": order.measures_taken,
        "promised_at": _local(order.promised_at),
        "follow_up_plan": order.follow_up_plan,
        "departments": list(order.departments or []),
        "complaint_category": order.complaint_category,
        "owner": _person(order.owner),
        "assignee": _person(order.assignee),
        "department": order.department,
        "call_id": order.call_id,
        "created_at": _local(order.created_at),
        "updated_at": _local(order.updated_at),
        "resolved_at": _local(order.resolved_at),
        "closed_at": _local(order.closed_at),
        "satisfaction": order.satisfaction,
        "callback_comment": order.callback_comment,
        "escalated": order.escalated,
        "overdue": overdue,
        "next_due": _local(due),
        # The actions the status allows, if the reader may change this order at all.
        "allowed_actions": service.allowed_actions(order) if service.may_write(reader.user, order) else [],
    }
    if full:
        out["deadlines"] = [present_deadline(d, now) for d in deadlines]
        out["timeline"] = [present_event(e) for e in service.timeline(order)]
    return out


def _answer(session: Session, reader: Reader, order: WorkOrder) -> dict[str, Any]:
    """After an action: the relationships (assignee, customer) follow the changed ids."""
    session.flush()
    session.expire(order, ["assignee", "owner", "customer"])
    return present(order, reader)


# ---------------------------------------------------------------- bodies


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str | None = Field(default=None, max_length=2000)
    version: Version | None = None


class Wait(Step):
    note: str = Field(max_length=2000, description="what is awaited from the customer")


class Resolve(Step):
    measures_taken: str | None = Field(default=None, max_length=2000)


class Reopen(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(max_length=2000)
    version: Version | None = None


class Classify(Step):
    category: str = Field(max_length=32)
    priority: str | None = None


class Assign(Step):
    assignee_id: Id


class TransferAction(Transfer):
    version: Version | None = None


class CallbackAction(Callback):
    version: Version | None = None


# ---------------------------------------------------------------- listing


def find_orders(
    session: Session,
    user: User,
    *,
    status: Status | None = None,
    order_type: OrderType | None = None,
    priority: Priority | None = None,
    mine: bool = False,
    overdue: bool = False,
    text: str | None = None,
    now: datetime | None = None,
    limit: int = 200,
) -> list[WorkOrder]:
    """The list behind both the API and the page: filters, then (for ``overdue``) the SLA check."""
    now = now or utcnow()
    orders = service.list_orders(
        session,
        status=status,
        order_type=order_type,
        priority=priority,
        involving=user.id if mine else None,
        text=text,
        limit=1000 if overdue else limit,
    )
    if overdue:
        orders = [o for o in orders if o.status != Status.CLOSED and sla.overdue(o, now)][:limit]
    return orders


def _choice(cls: Any, value: str | None) -> Any:
    if value is None or not value.strip():
        return None
    try:
        return cls.parse(value)
    except ValueError as error:
        raise Invalid(str(error)) from None


@router.get("", dependencies=[READ])
def list_workorders(
    reader: CustomerReader,
    session: DB,
    status: str | None = None,
    type: str | None = None,
    priority: str | None = None,
    mine: bool = False,
    overdue: bool = False,
    q: str | None = Query(default=None, description="text in the number, title or description"),
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[dict[str, Any]]:
    now = utcnow()
    found = find_orders(
        session,
        reader.user,
        status=_choice(Status, status),
        order_type=_choice(OrderType, type),
        priority=_choice(Priority, priority),
        mine=mine,
        overdue=overdue,
        text=q,
        now=now,
        limit=limit,
    )
    return [present(o, reader, now, full=False) for o in found]


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
    row = present(order, reader, now, full=False)
    row["owner_name"] = row["owner"]["name"] if row["owner"] else None
    row["assignee_name"] = row["assignee"]["name"] if row["assignee"] else None
    row["overdue_label"] = "是" if row["overdue"] else "否"
    return row


# POST /api/workorders/export (kefu.dataio.api) exports this list as a background job.


# ---------------------------------------------------------------- one order


def missing_fields(data: WorkOrderCreate) -> list[str]:
    values = data.model_dump()
    return [
        service.FIELD_LABELS[name] for name in service.TEMPLATES[data.type].create if values.get(name) in (None, "", [])
    ]


@router.post("", status_code=201, dependencies=[EDIT])
def create(body: WorkOrderCreate, reader: CustomerReader, session: DB) -> Any:
    """From the type's template: a 422 names every missing field (``missing``)."""
    missing = missing_fields(body)
    if missing:
        message = f"{body.type.label}工单缺少必填项:{'、'.join(missing)}"
        return JSONResponse({"detail": message, "missing": missing}, status_code=422)
    return _answer(session, reader, service.do_create(session, reader.user.id, body))


@router.get("/{order_id}", dependencies=[READ])
def get(order_id: Id, reader: CustomerReader, session: DB) -> dict[str, Any]:
    return present(service.get_order(session, order_id), reader)


@router.patch("/{order_id}", dependencies=[EDIT])
def update(order_id: Id, body: WorkOrderUpdate, reader: CustomerReader, session: DB) -> dict[str, Any]:
    """``version`` is required: a change based on an older version is refused with 409."""
    return _answer(session, reader, service.do_update(session, reader.user.id, order_id, body))


@router.post("/{order_id}/start", dependencies=[EDIT])
def start(order_id: Id, reader: CustomerReader, session: DB, body: Step | None = None) -> dict[str, Any]:
    body = body or Step()
    return _answer(
        session, reader, service.do_start(session, reader.user.id, order_id, note=body.note, version=body.version)
    )


@router.post("/{order_id}/wait", dependencies=[EDIT])
def wait(order_id: Id, body: Wait, reader: CustomerReader, session: DB) -> dict[str, Any]:
    return _answer(
        session,
        reader,
        service.do_wait_for_customer(session, reader.user.id, order_id, body.note, version=body.version),
    )


@router.post("/{order_id}/resume", dependencies=[EDIT])
def resume(order_id: Id, reader: CustomerReader, session: DB, body: Step | None = None) -> dict[str, Any]:
    body = body or Step()
    return _answer(
        session, reader, service.do_resume(session, reader.user.id, order_id, note=body.note, version=body.version)
    )


@router.post("/{order_id}/classify", dependencies=[EDIT])
def classify(order_id: Id, body: Classify, reader: CustomerReader, session: DB) -> dict[str, Any]:
    order = service.do_classify(
        session,
        reader.user.id,
        order_id,
        category=body.category,
        priority=body.priority,
        note=body.note,
        version=body.version,
    )
    return _answer(session, reader, order)


@router.post("/{order_id}/transfer", dependencies=[EDIT])
def transfer(order_id: Id, body: TransferAction, reader: CustomerReader, session: DB) -> dict[str, Any]:
    move = Transfer(**body.model_dump(exclude={"version"}))
    return _answer(session, reader, service.do_transfer(session, reader.user.id, order_id, move, version=body.version))


@router.post("/{order_id}/assign", dependencies=[ASSIGN])
def assign(order_id: Id, body: Assign, reader: CustomerReader, session: DB) -> dict[str, Any]:
    order = service.do_assign(session, reader.user.id, order_id, body.assignee_id, note=body.note, version=body.version)
    return _answer(session, reader, order)


@router.post("/{order_id}/resolve", dependencies=[EDIT])
def resolve(order_id: Id, body: Resolve, reader: CustomerReader, session: DB) -> dict[str, Any]:
    order = service.do_resolve(
        session, reader.user.id, order_id, measures_taken=body.measures_taken, note=body.note, version=body.version
    )
    return _answer(session, reader, order)


@router.post("/{order_id}/callback", dependencies=[EDIT])
def callback(order_id: Id, body: CallbackAction, reader: CustomerReader, session: DB) -> dict[str, Any]:
    answer = Callback(satisfaction=body.satisfaction, comment=body.comment)
    return _answer(
        session, reader, service.do_callback(session, reader.user.id, order_id, answer, version=body.version)
    )


@router.post("/{order_id}/reopen", dependencies=[EDIT])
def reopen(order_id: Id, body: Reopen, reader: CustomerReader, session: DB) -> dict[str, Any]:
    return _answer(
        session, reader, service.do_reopen(session, reader.user.id, order_id, body.reason, version=body.version)
    )


@router.post("/{order_id}/close", dependencies=[EDIT])
def close(order_id: Id, reader: CustomerReader, session: DB, body: Step | None = None) -> dict[str, Any]:
    body = body or Step()
    return _answer(
        session, reader, service.do_close(session, reader.user.id, order_id, note=body.note, version=body.version)
    )


@router.post("/{order_id}/notes", status_code=201, dependencies=[EDIT])
def add_note(order_id: Id, body: Wait, reader: CustomerReader, session: DB) -> dict[str, Any]:
    """跟进: a follow-up note on the timeline."""
    return present_event(service.do_add_note(session, reader.user.id, order_id, body.note))
