"""/api/customers: lookup, identity verification, read-back and changes. Thin: see service.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from kefu.core import audit
from kefu.core.security import Permission
from kefu.customers import service as customers
from kefu.customers.history import HistoryItem, customer_history, parse_query
from kefu.customers.schemas import CustomerCreate, CustomerOut, CustomerUpdate, Verification
from kefu.web.deps import DB, CurrentUser, require
from kefu.web.session import forget_verifications, remember_verification, verified_level

router = APIRouter(prefix="/api", tags=["customers"])


@router.get("/customers", dependencies=[require(Permission.CUSTOMER_VIEW)])
def lookup(q: str, request: Request, user: CurrentUser, session: DB) -> list[CustomerOut]:
    """By phone (or its last digits), account id or name. Masked until verified."""
    found = customers.do_lookup(session, user.id, q)
    return [customers.present(c, verified_level(request, c.id)) for c in found]


@router.post("/customers", status_code=201, dependencies=[require(Permission.CUSTOMER_EDIT)])
def create_customer(body: CustomerCreate, user: CurrentUser, session: DB) -> CustomerOut:
    return customers.present(customers.do_create_customer(session, user.id, body), 2)


@router.get("/customers/{customer_id}", dependencies=[require(Permission.CUSTOMER_VIEW)])
def get_customer(customer_id: int, request: Request, user: CurrentUser, session: DB) -> CustomerOut:
    customer = customers.get_customer(session, customer_id)
    audit.record(session, user.id, "view", "customer", customer.id)
    return customers.present(customer, verified_level(request, customer.id))


@router.get("/customers/{customer_id}/history", dependencies=[require(Permission.CUSTOMER_VIEW)])
def history(
    customer_id: int,
    request: Request,
    user: CurrentUser,
    session: DB,
    start: Annotated[str | None, Query(alias="from", description="first day, 2026-03-01 (centre's clock)")] = None,
    end: Annotated[str | None, Query(alias="to", description="last day, included")] = None,
    type: Annotated[
        str | None, Query(description="call, work_order, work_order:<type> or call:<reason> (codes or labels)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[HistoryItem]:
    """Calls and work orders in one list, newest first; texts masked until the caller is verified."""
    query = parse_query(start, end, type)
    items = customer_history(session, customer_id, query, masked=verified_level(request, customer_id) < 1, limit=limit)
    audit.record(session, user.id, "view", "customer", customer_id, detail="联系历史")
    return items


@router.post("/customers/{customer_id}/verify", dependencies=[require(Permission.CUSTOMER_VIEW)])
def verify(customer_id: int, body: Verification, request: Request, user: CurrentUser, session: DB) -> CustomerOut:
    level = customers.do_verify(session, user.id, customer_id, body)
    if level == 0:
        raise customers.VerificationFailed("身份验证未通过:所提供的信息与记录不符")
    remember_verification(request, customer_id, level)
    return customers.present(customers.get_customer(session, customer_id), level)


@router.post("/customers/{customer_id}/preview", dependencies=[require(Permission.CUSTOMER_EDIT)])
def preview(customer_id: int, body: CustomerUpdate, session: DB) -> dict[str, list[Any]]:
    """The read-back: {field: [old, new]} to confirm with the caller before saving."""
    return customers.preview_update(session, customer_id, body)


@router.patch("/customers/{customer_id}", dependencies=[require(Permission.CUSTOMER_EDIT)])
def update_customer(
    customer_id: int, body: CustomerUpdate, request: Request, user: CurrentUser, session: DB
) -> CustomerOut:
    level = verified_level(request, customer_id)
    customer = customers.do_update_customer(session, user.id, customer_id, body, level)
    return customers.present(customer, level)


@router.post("/session/forget-verifications")
def forget(request: Request, user: CurrentUser) -> dict[str, bool]:
    """End of a call: the next caller starts masked again."""
    forget_verifications(request)
    return {"ok": True}
