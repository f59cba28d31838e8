"""/api/customers: lookup, identity verification, read-back and changes. Thin: see service.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from kefu.core.fields import Id
from kefu.core.security import Permission
from kefu.customers import service as customers
from kefu.customers.schemas import CustomerCreate, CustomerOut, CustomerUpdate, Verification
from kefu.http.deps import DB, CurrentUser, CustomerReader, require
from kefu.http.session import forget_verifications, remember_verification
from kefu.overviews.customer_history import HistoryItem, do_read_history, parse_query

router = APIRouter(prefix="/api", tags=["customers"])


@router.get("/customers", dependencies=[require(Permission.CUSTOMER_VIEW)])
def lookup(q: str, reader: CustomerReader, session: DB) -> list[CustomerOut]:
    """By phone (or its last digits), account id or name. Masked until verified."""
    found = customers.do_lookup(session, reader.user.id, q)
    return [customers.present(c, reader) for c in found]


@router.post("/customers", status_code=201, dependencies=[require(Permission.CUSTOMER_EDIT)])
def create_customer(body: CustomerCreate, reader: CustomerReader, session: DB) -> CustomerOut:
    """Answered as the creator may see the customer (masked until an identity check)."""
    return customers.present(customers.do_create_customer(session, reader.user.id, body), reader)


@router.get("/customers/{customer_id}", dependencies=[require(Permission.CUSTOMER_VIEW)])
def get_customer(customer_id: Id, reader: CustomerReader, session: DB) -> CustomerOut:
    return customers.present(customers.do_view_customer(session, reader, customer_id), reader)


@router.get("/customers/{customer_id}/history", dependencies=[require(Permission.CUSTOMER_VIEW)])
def history(
    customer_id: Id,
    reader: CustomerReader,
    session: DB,
    start: Annotated[str | None, Query(alias="from", description="first day, 2026-03-01 (centre's clock)")] = None,
    end: Annotated[str | None, Query(alias="to", description="last day, included")] = None,
    type: Annotated[
        str | None, Query(description="call, work_order, work_order:<type> or call:<reason> (codes or labels)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[HistoryItem]:
    """Calls and work orders in one list, newest first; texts masked until the caller is verified."""
    return do_read_history(session, reader, customer_id, parse_query(start, end, type), limit=limit)


@router.post("/customers/{customer_id}/verify", dependencies=[require(Permission.CUSTOMER_VIEW)])
def verify(customer_id: Id, body: Verification, request: Request, reader: CustomerReader, session: DB) -> CustomerOut:
    """Each fact stated by the caller that matches counts once; facts the screen already shows
    do not count. Two different factors allow sensitive changes."""
    counted = customers.do_verify(session, reader, customer_id, body)
    reader.verified[customer_id] = remember_verification(request, customer_id, counted)
    return customers.present(customers.get_customer(session, customer_id), reader)


@router.post("/customers/{customer_id}/preview", dependencies=[require(Permission.CUSTOMER_EDIT)])
def preview(customer_id: Id, body: CustomerUpdate, reader: CustomerReader, session: DB) -> dict[str, list[Any]]:
    """The read-back: {field: [old, new]} to confirm with the caller before saving; old values
    as the reader may see them."""
    return customers.preview_update(session, reader, customer_id, body)


@router.patch("/customers/{customer_id}", dependencies=[require(Permission.CUSTOMER_EDIT)])
def update_customer(customer_id: Id, body: CustomerUpdate, reader: CustomerReader, session: DB) -> CustomerOut:
    customer = customers.do_update_customer(session, reader, customer_id, body)
    return customers.present(customer, reader)


@router.post("/session/forget-verifications")
def forget(request: Request, user: CurrentUser) -> dict[str, bool]:
    """End of a call: the next caller starts masked again."""
    forget_verifications(request)
    return {"ok": True}
