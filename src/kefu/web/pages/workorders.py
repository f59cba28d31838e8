"""Work-order pages: my open orders by deadline, a new order from a call, one order with its SLA
deadlines, timeline and the actions its status allows. Forms post back (PRG) the API's bodies to
the same service functions; a refused action is answered on the same page with the service's
message."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from kefu.calls import service as calls
from kefu.calls.schemas import WorkOrderDraft
from kefu.core.db import attempt, utcnow
from kefu.core.errors import KefuError, NotFound
from kefu.core.fields import Id
from kefu.core.privacy import Reader
from kefu.core.security import Permission
from kefu.customers import service as customers
from kefu.http.deps import DB, CustomerReader, require
from kefu.web.pages.common import form_body, form_int, form_problems, redirect, render
from kefu.workorders import service
from kefu.workorders.models import OrderType, Priority, Status
from kefu.workorders.presenting import present, summary
from kefu.workorders.schemas import ACTIONS, WorkOrderCreate, WorkOrderFilter

router = APIRouter(include_in_schema=False)

FORM_FIELDS = (
    "type",
    "priority",
    "title",
    "customer_id",
    "contact",
    "description",
    "handling_suggestion",
    "measures_taken",
    "promised_at",
    "follow_up_plan",
    "departments",
    "call_id",
)


def _message(problem: Exception) -> str:
    return form_problems(problem, service.FIELD_LABELS) if isinstance(problem, ValidationError) else str(problem)


def _templates() -> dict[str, dict[str, list[str]]]:
    """Which fields each type needs (the form marks them and switches them with the type)."""
    return {
        t.value: {"create": list(tpl.create), "forbidden": list(tpl.forbidden)} for t, tpl in service.TEMPLATES.items()
    }


# ---------------------------------------------------------------- list


@router.get("/workorders", dependencies=[require(Permission.CUSTOMER_VIEW)])
def workorder_list(
    request: Request,
    reader: CustomerReader,
    session: DB,
    status: str = "",
    type: str = "",
    q: str = "",
    scope: str = "",
) -> HTMLResponse:
    """Default: my open orders, soonest deadline first. A search or ``scope=all`` looks at all."""
    now = utcnow()
    scope = scope or ("all" if q.strip() else "mine")
    by_deadline = scope == "mine" and not q.strip()
    error = None
    try:
        filters = WorkOrderFilter(
            status=status, type=type, q=q, mine=scope == "mine", sort="deadline" if by_deadline else "recent"
        )
    except ValidationError as problem:
        error = _message(problem)
        filters = WorkOrderFilter(q=q, mine=scope == "mine", sort="deadline" if by_deadline else "recent")
    rows = [summary(o, reader, now) for o in service.find_orders(session, reader.user, filters, now)]
    return render(
        request,
        "workorders.html",
        reader.user,
        rows=rows,
        q=q,
        status=status,
        type=type,
        scope=scope,
        statuses=Status.choices(),
        types=OrderType.choices(),
        error=error,
    )


# ---------------------------------------------------------------- new


def _new_page(
    request: Request, reader: Reader, session: Session, values: dict[str, Any], status_code: int = 200, **extra: Any
) -> HTMLResponse:
    customer_name = None
    customer_id = form_int(values.get("customer_id"))
    if customer_id is not None:
        try:
            customer = customers.get_customer(session, customer_id)
            customer_name = reader.name(customer.id, customer.name)
        except NotFound:
            pass
    return render(
        request,
        "workorder_new.html",
        reader.user,
        status_code=status_code,
        values=values,
        customer_name=customer_name,
        types=OrderType.choices(),
        priorities=Priority.choices(),
        templates=_templates(),
        labels=service.FIELD_LABELS,
        **extra,
    )


@router.get("/workorders/new", dependencies=[require(Permission.WORKORDER_EDIT)])
def new_workorder(
    request: Request, reader: CustomerReader, session: DB, call_id: Id | None = None, type: str = ""
) -> HTMLResponse:
    values: dict[str, Any] = {"type": type or OrderType.CONSULTATION.value, "priority": Priority.MEDIUM.value}
    draft: WorkOrderDraft | None = None
    if call_id is not None:
        draft = calls.work_order_draft(calls.read_call(session, reader.user, call_id), reader)
        values.update(
            call_id=draft.call_id,
            customer_id=draft.customer_id,
            contact=draft.contact,
            description=draft.description,
            type=type or draft.type_hint or values["type"],
            title=f"{draft.reason_label}" + (f" - {draft.contact_name}" if draft.contact_name else ""),
        )
    return _new_page(request, reader, session, values, draft=draft)


@router.post("/workorders/new", dependencies=[require(Permission.WORKORDER_EDIT)])
async def create_workorder(request: Request, reader: CustomerReader, session: DB) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in FORM_FIELDS}
    try:
        with attempt(session):
            order = service.do_create(session, reader.user.id, form_body(WorkOrderCreate, values))
    except (ValidationError, KefuError) as problem:
        return _new_page(
            request, reader, session, values, status_code=getattr(problem, "status", 422), error=_message(problem)
        )
    return redirect(f"/workorders/{order.id}", f"工单 {order.number} 已创建", request)


# ---------------------------------------------------------------- one order


def _order_page(
    request: Request, reader: Reader, session: Session, order_id: int, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    order = service.get_order(session, order_id)
    shown = present(order, reader)
    return render(
        request,
        "workorder.html",
        reader.user,
        status_code=status_code,
        order=shown,
        actions=set(shown.allowed_actions),
        closed=order.status == Status.CLOSED,
        colleagues=[u for u in service.colleagues(session) if u.id != order.assignee_id],
        priorities=Priority.choices(),
        **extra,
    )


@router.get("/workorders/{order_id}", dependencies=[require(Permission.CUSTOMER_VIEW)])
def workorder_page(request: Request, order_id: Id, reader: CustomerReader, session: DB) -> HTMLResponse:
    return _order_page(request, reader, session, order_id)


DONE = {
    "start": "已开始处理",
    "wait": "已转为待客户回复,SLA 计时暂停",
    "resume": "已恢复处理",
    "classify": "已完成分类与分级",
    "transfer": "已转派",
    "assign": "已指派",
    "resolve": "已标记为已解决",
    "callback": "回访已记录",
    "reopen": "工单已重新打开",
    "close": "工单已关闭",
    "note": "跟进已记录",
}


@router.post("/workorders/{order_id}/{action}", dependencies=[require(Permission.WORKORDER_EDIT)])
async def workorder_action(
    request: Request, order_id: Id, action: str, reader: CustomerReader, session: DB
) -> Response:
    if action not in ACTIONS:
        raise NotFound(f"未知的工单操作“{action}”")
    form = await request.form()
    try:
        with attempt(session):
            service.do_action(session, reader.user.id, order_id, form_body(ACTIONS[action], form))
    except (ValidationError, KefuError) as problem:
        return _order_page(
            request,
            reader,
            session,
            order_id,
            status_code=getattr(problem, "status", 422),
            action_error=_message(problem),
            failed_action=action,
        )
    return redirect(f"/workorders/{order_id}", DONE[action], request)
