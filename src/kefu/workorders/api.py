"""/api/workorders: list, create from the type's template, read with timeline and SLA deadlines,
optimistic-locking edits, the state machine's actions. Each route parses, calls one service
function and answers with a typed model (kefu.workorders.presenting); the pages in
kefu.web.pages.workorders call the same functions with the same bodies. The export is
POST /api/workorders/export (kefu.dataio.api), a background job over the same list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kefu.core.fields import Id
from kefu.core.security import Permission
from kefu.http.deps import DB, CustomerReader, require
from kefu.workorders import service
from kefu.workorders.presenting import present, present_event, summary
from kefu.workorders.schemas import (
    Assign,
    CallbackAction,
    Classify,
    Close,
    EventOut,
    Note,
    Reopen,
    Resolve,
    Resume,
    Start,
    TransferAction,
    Wait,
    WorkOrderAction,
    WorkOrderCreate,
    WorkOrderFilter,
    WorkOrderOut,
    WorkOrderSummary,
    WorkOrderUpdate,
)

router = APIRouter(prefix="/api/workorders", tags=["workorders"])

# Reading an order shows customer data: whoever may look customers up may read orders (QA too).
READ = require(Permission.CUSTOMER_VIEW)
EDIT = require(Permission.WORKORDER_EDIT)
ASSIGN = require(Permission.WORKORDER_ASSIGN)


@router.get("", dependencies=[READ])
def list_workorders(
    filters: Annotated[WorkOrderFilter, Query()], reader: CustomerReader, session: DB
) -> list[WorkOrderSummary]:
    return [summary(order, reader) for order in service.find_orders(session, reader.user, filters)]


@router.post("", status_code=201, dependencies=[EDIT])
def create(body: WorkOrderCreate, reader: CustomerReader, session: DB) -> WorkOrderOut:
    """From the type's template: a 422 names every missing field (``missing``)."""
    return present(service.do_create(session, reader.user.id, body), reader)


@router.get("/{order_id}", dependencies=[READ])
def get(order_id: Id, reader: CustomerReader, session: DB) -> WorkOrderOut:
    return present(service.get_order(session, order_id), reader)


@router.patch("/{order_id}", dependencies=[EDIT])
def update(order_id: Id, body: WorkOrderUpdate, reader: CustomerReader, session: DB) -> WorkOrderOut:
    """``version`` is required: a change based on an older version is refused with 409."""
    return present(service.do_update(session, reader.user.id, order_id, body), reader)


def _act(order_id: int, body: WorkOrderAction, reader: CustomerReader, session: DB) -> WorkOrderOut:
    return present(service.do_action(session, reader.user.id, order_id, body), reader)


@router.post("/{order_id}/start", dependencies=[EDIT])
def start(order_id: Id, reader: CustomerReader, session: DB, body: Start | None = None) -> WorkOrderOut:
    return _act(order_id, body or Start(), reader, session)


@router.post("/{order_id}/wait", dependencies=[EDIT])
def wait(order_id: Id, body: Wait, reader: CustomerReader, session: DB) -> WorkOrderOut:
    return _act(order_id, body, reader, session)


@router.post("/{order_id}/resume", dependencies=[EDIT])
def resume(order_id: Id, reader: CustomerReader, session: DB, body: Resume | None = None) -> WorkOrderOut:
    return _act(order_id, body or Resume(), reader, session)


@router.post("/{order_id}/classify", dependencies=[EDIT])
def classify(order_id: Id, body: Classify, reader: CustomerReader, session: DB) -> WorkOrderOut:
    return _act(order_id, body, reader, session)


@router.post("/{order_id}/transfer", dependencies=[EDIT])
def transfer(order_id: Id, body: TransferAction, reader: CustomerReader, session: DB) -> WorkOrderOut:
    return _act(order_id, body, reader, session)


@router.post("/{order_id}/assign", dependencies=[ASSIGN])
def assign(order_id: Id, body: Assign, reader: CustomerReader, session: DB) -> WorkOrderOut:
    return _act(order_id, body, reader, session)


@router.post("/{order_id}/resolve", dependencies=[EDIT])
def resolve(order_id: Id, body: Resolve, reader: CustomerReader, session: DB) -> WorkOrderOut:
    return _act(order_id, body, reader, session)


@router.post("/{order_id}/callback", dependencies=[EDIT])
def callback(order_id: Id, body: CallbackAction, reader: CustomerReader, session: DB) -> WorkOrderOut:
    return _act(order_id, body, reader, session)


@router.post("/{order_id}/reopen", dependencies=[EDIT])
def reopen(order_id: Id, body: Reopen, reader: CustomerReader, session: DB) -> WorkOrderOut:
    return _act(order_id, body, reader, session)


@router.post("/{order_id}/close", dependencies=[EDIT])
def close(order_id: Id, reader: CustomerReader, session: DB, body: Close | None = None) -> WorkOrderOut:
    return _act(order_id, body or Close(), reader, session)


@router.post("/{order_id}/notes", status_code=201, dependencies=[EDIT])
def add_note(order_id: Id, body: Note, reader: CustomerReader, session: DB) -> EventOut:
    """跟进: a follow-up note on the timeline."""
    return present_event(service.do_add_note(session, reader.user.id, order_id, body.note))
