"""Work-order pages: my open orders by deadline, a new order from a call, one order with its SLA
deadlines, timeline and the actions its status allows. Forms post back (PRG); a refused action
is answered on the same page with the service's message."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.calls import service as calls
from kefu.core import validation
from kefu.core.db import utcnow
from kefu.core.errors import Forbidden, Invalid, KefuError, NotFound
from kefu.core.fields import Id
from kefu.core.privacy import Reader
from kefu.core.security import Permission, allowed
from kefu.customers.models import Customer
from kefu.http.deps import DB, CustomerReader, require
from kefu.web.pages.common import form_int, redirect, render
from kefu.workorders import service
from kefu.workorders.api import find_orders, missing_fields, present
from kefu.workorders.models import OrderType, Priority, Status
from kefu.workorders.schemas import Callback, Transfer, WorkOrderCreate

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
TEMPLATE_FIELDS = ("description", "handling_suggestion", "measures_taken", "departments", "promised_at")


def _message(problem: Exception) -> str:
    if isinstance(problem, ValidationError):
        return ";".join(
            (service.FIELD_LABELS.get(str(e["loc"][0]), "") + ":" if e["loc"] else "")
            + validation.message(e)
            for e in problem.errors()
        )
    return str(problem)


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
    user = reader.user
    error = None
    try:
        wanted_status = Status.parse(status) if status else None
        wanted_type = OrderType.parse(type) if type else None
    except ValueError as problem:
        wanted_status = wanted_type = None
        error = str(problem)
    scope = scope or ("all" if q.strip() else "mine")
    if scope == "mine" and not q.strip():
        orders = [order for order, _ in service.open_orders_by_deadline(session, user.id, now)]
        orders = [
            o
            for o in orders
            if (wanted_status is None or o.status == wanted_status) and (wanted_type is None or o.type == wanted_type)
        ]
    else:
        orders = find_orders(
            session, user, status=wanted_status, order_type=wanted_type, mine=scope == "mine", text=q, now=now
        )
    rows = [present(o, reader, now, full=False) for o in orders]
    return render(
        request,
        "workorders.html",
        user,
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
        customer = session.get(Customer, customer_id)
        customer_name = reader.name(customer.id, customer.name) if customer else None
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
    draft: dict[str, Any] | None = None
    if call_id is not None:
        draft = calls.work_order_draft(calls.read_call(session, reader.user, call_id), reader)
        values.update(
            call_id=draft["call_id"],
            customer_id=draft["customer_id"],
            contact=draft["contact"],
            description=draft["description"],
            type=type or draft["type_hint"] or values["type"],
            title=f"{draft['reason_label']}" + (f" - {draft['contact_name']}" if draft["contact_name"] else ""),
        )
    return _new_page(request, reader, session, values, draft=draft)


@router.post("/workorders/new", dependencies=[require(Permission.WORKORDER_EDIT)])
async def create_workorder(request: Request, reader: CustomerReader, session: DB) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in FORM_FIELDS}
    data = {name: value for name, value in values.items() if value != ""}
    try:
        body = WorkOrderCreate(**data)
        missing = missing_fields(body)
        if missing:
            raise Invalid(f"{body.type.label}工单缺少必填项:{'、'.join(missing)}")
        order = service.do_create(session, reader.user.id, body)
    except (ValidationError, KefuError) as problem:
        session.rollback()
        return _new_page(
            request, reader, session, values, status_code=getattr(problem, "status", 422), error=_message(problem)
        )
    return redirect(f"/workorders/{order.id}", f"工单 {order.number} 已创建", request)


# ---------------------------------------------------------------- one order


def _colleagues(session: Session) -> list[User]:
    users = session.scalars(select(User).where(User.active).order_by(User.agent_no))
    return [u for u in users if allowed(u.role, Permission.WORKORDER_EDIT)]


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
        actions=set(shown["allowed_actions"]),
        closed=order.status == Status.CLOSED,
        colleagues=[u for u in _colleagues(session) if u.id != order.assignee_id],
        priorities=Priority.choices(),
        **extra,
    )


@router.get("/workorders/{order_id}", dependencies=[require(Permission.CUSTOMER_VIEW)])
def workorder_page(request: Request, order_id: Id, reader: CustomerReader, session: DB) -> HTMLResponse:
    return _order_page(request, reader, session, order_id)


def _int(value: Any) -> int | None:
    return form_int(value)


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


def _act(session: Session, user: User, order_id: int, action: str, form: Any) -> None:
    version = _int(form.get("version"))
    note = str(form.get("note", "")).strip() or None
    if action == "start":
        service.do_start(session, user.id, order_id, note=note, version=version)
    elif action == "wait":
        service.do_wait_for_customer(session, user.id, order_id, note or "", version=version)
    elif action == "resume":
        service.do_resume(session, user.id, order_id, note=note, version=version)
    elif action == "classify":
        service.do_classify(
            session,
            user.id,
            order_id,
            category=str(form.get("category", "")),
            priority=str(form.get("priority", "")) or None,
            note=note,
            version=version,
        )
    elif action == "transfer":
        move = Transfer(
            to_user_id=_int(form.get("to_user_id")),
            to_department=str(form.get("to_department", "")).strip() or None,
            notes=str(form.get("notes", "")),
        )
        service.do_transfer(session, user.id, order_id, move, version=version)
    elif action == "assign":
        if not allowed(user.role, Permission.WORKORDER_ASSIGN):
            raise Forbidden(f"{user.role.label}无权指派工单,请使用转派")
        service.do_assign(session, user.id, order_id, _int(form.get("assignee_id")) or 0, note=note, version=version)
    elif action == "resolve":
        measures = str(form.get("measures_taken", "")).strip() or None
        service.do_resolve(session, user.id, order_id, measures_taken=measures, note=note, version=version)
    elif action == "callback":
        answer = Callback(satisfaction=str(form.get("satisfaction", "")), comment=note)
        service.do_callback(session, user.id, order_id, answer, version=version)
    elif action == "reopen":
        service.do_reopen(session, user.id, order_id, str(form.get("reason", "")), version=version)
    elif action == "close":
        service.do_close(session, user.id, order_id, note=note, version=version)
    elif action == "note":
        service.do_add_note(session, user.id, order_id, note or "")
    else:
        raise NotFound(f"未知的工单操作“{action}”")


@router.post("/workorders/{order_id}/{action}", dependencies=[require(Permission.WORKORDER_EDIT)])
async def workorder_action(
    request: Request, order_id: Id, action: str, reader: CustomerReader, session: DB
) -> Response:
    form = await request.form()
    try:
        _act(session, reader.user, order_id, action, form)
    except (ValidationError, KefuError) as problem:
        session.rollback()
        return _order_page(
            request,
            reader,
            session,
            order_id,
            status_code=getattr(problem, "status", 422),
            action_error=_message(problem),
            failed_action=action,
        )
    return redirect(f"/workorders/{order_id}", DONE.get(action, "已保存"), request)
