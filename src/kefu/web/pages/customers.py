"""Customer lookup, identity check and read-back edits."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from kefu.core import validation
from kefu.core.db import attempt
from kefu.core.errors import KefuError
from kefu.core.fields import Id
from kefu.core.security import Permission
from kefu.customers import service as customers
from kefu.customers.schemas import CustomerUpdate, Verification
from kefu.http.deps import DB, CurrentUser, CustomerReader, require
from kefu.http.session import forget_verifications, remember_verification
from kefu.overviews.customer_history import HistoryQuery, customer_history, parse_query, type_choices
from kefu.web.pages.common import form_body, redirect, render

router = APIRouter(include_in_schema=False)

HISTORY_LIMIT = 100  # lines of contact history on the customer page


@router.get("/customers", dependencies=[require(Permission.CUSTOMER_VIEW)])
def customer_search(request: Request, reader: CustomerReader, session: DB, q: str = "") -> HTMLResponse:
    user = reader.user
    found, error = [], None
    if q:
        try:
            found = [customers.present(c, reader) for c in customers.do_lookup(session, user.id, q)]
        except KefuError as problem:
            error = str(problem)
    return render(request, "customers.html", user, q=q, found=found, error=error)


def _customer_page(
    request: Request, reader: Any, session: Any, customer_id: int, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    customer = customers.get_customer(session, customer_id)
    level = max(reader.level(customer_id), 0)
    form = {k: request.query_params.get(k, "").strip() for k in ("from", "to", "type")}
    history_error = None
    try:
        query = parse_query(form["from"], form["to"], form["type"])
    except KefuError as problem:
        history_error, query = str(problem), HistoryQuery()
        status_code = max(status_code, problem.status)
    return render(
        request,
        "customer.html",
        reader.user,
        status_code=status_code,
        customer=customers.present(customer, reader),
        level=level,
        labels=customers.FIELD_LABELS,
        history=customer_history(session, reader, customer_id, query, limit=HISTORY_LIMIT),
        history_limit=HISTORY_LIMIT,
        history_form=form,
        history_filtered=any(form.values()) and history_error is None,
        history_error=history_error,
        history_types=type_choices(),
        **extra,
    )


@router.get("/customers/{customer_id}", dependencies=[require(Permission.CUSTOMER_VIEW)])
def customer_page(request: Request, customer_id: Id, reader: CustomerReader, session: DB) -> HTMLResponse:
    customers.do_view_customer(session, reader, customer_id)
    return _customer_page(request, reader, session, customer_id)


@router.post("/customers/{customer_id}/verify", dependencies=[require(Permission.CUSTOMER_VIEW)])
async def verify(request: Request, customer_id: Id, reader: CustomerReader, session: DB) -> Response:
    form = await request.form()
    try:
        counted = customers.do_verify(session, reader, customer_id, form_body(Verification, form))
    except (ValidationError, KefuError) as problem:
        message = validation.message(problem.errors()[0]) if isinstance(problem, ValidationError) else str(problem)
        return _customer_page(request, reader, session, customer_id, status_code=422, verify_error=message)
    level = min(remember_verification(request, customer_id, counted), 2)
    return redirect(f"/customers/{customer_id}", f"身份验证通过({level} 项)", request)


def _update_from_form(form: Any) -> CustomerUpdate:
    values = {k: str(form[k]).strip() for k in customers.FIELD_LABELS if k in form}
    return CustomerUpdate.model_validate(
        {"version": form.get("version", ""), **{k: v for k, v in values.items() if v != ""}}
    )


@router.post("/customers/{customer_id}/edit", dependencies=[require(Permission.CUSTOMER_EDIT)])
async def edit(request: Request, customer_id: Id, reader: CustomerReader, session: DB) -> Response:
    """First step: show the changes back (复述确认) before anything is saved."""
    form = await request.form()
    try:
        change = _update_from_form(form)
    except ValidationError as problem:
        messages = [
            f"{customers.FIELD_LABELS.get(str(e['loc'][0]), e['loc'][0])}:{validation.message(e)}"
            for e in problem.errors()
        ]
        return _customer_page(request, reader, session, customer_id, status_code=422, edit_error=";".join(messages))
    changes = customers.preview_update(session, reader, customer_id, change)
    if not changes:
        return _customer_page(request, reader, session, customer_id, status_code=422, edit_error="没有需要保存的修改")
    return render(
        request,
        "confirm.html",
        reader.user,
        customer_id=customer_id,
        changes=changes,
        change=change,
        new_values=change.model_dump(exclude_none=True, exclude={"version"}),
        labels=customers.FIELD_LABELS,
    )


@router.post("/customers/{customer_id}/save", dependencies=[require(Permission.CUSTOMER_EDIT)])
async def save(request: Request, customer_id: Id, reader: CustomerReader, session: DB) -> Response:
    form = await request.form()
    try:
        with attempt(session):
            customers.do_update_customer(session, reader, customer_id, _update_from_form(form))
    except (ValidationError, KefuError) as problem:
        message = str(problem) if isinstance(problem, KefuError) else validation.message(problem.errors()[0])
        return _customer_page(
            request, reader, session, customer_id, status_code=getattr(problem, "status", 422), edit_error=message
        )
    return redirect(f"/customers/{customer_id}", "客户资料已保存", request)


@router.post("/calls/end")
def end_call(request: Request, user: CurrentUser) -> Response:
    forget_verifications(request)
    return redirect("/", "本次通话的身份验证已清除", request)
