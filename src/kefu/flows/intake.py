"""A call arrives → it is inspected (SPEC §2 "Workflow").

The calls domain records calls and knows nothing of inspection; the quality domain inspects
calls and writes the call's copy of its score through the calls service. This module is the one
place that puts the two together, for the API, the pages, imports and the demo data alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.calls import demo as calls_demo
from kefu.calls import service as calls
from kefu.calls.models import CallRecord
from kefu.calls.schemas import CallCreate, CallUpdate
from kefu.core.db import utcnow
from kefu.customers.models import Customer
from kefu.quality import service as quality
from kefu.quality.service import Scorecard


def do_record_call(session: Session, actor_id: int | None, data: CallCreate) -> CallRecord:
    """Record a call (kefu.calls.service.do_create_call) and inspect it if it has a transcript."""
    call = calls.do_create_call(session, actor_id, data)
    quality.inspect_calls(session, [call])
    return call


def do_correct_call(session: Session, actor_id: int | None, call_id: int, data: CallUpdate) -> CallRecord:
    """Correct a call; inspected again when what the rules read of it has changed."""
    before = calls.inspected_values(calls.get_call(session, call_id))
    call = calls.do_update_call(session, actor_id, call_id, data)
    if calls.inspected_values(call) != before:
        quality.inspect_calls(session, [call])
    return call


def do_import_call_rows(
    session: Session,
    actor_id: int | None,
    items: Sequence[CallCreate],
    source: str,
    scorecards: Sequence[Scorecard | None],
    *,
    now: datetime | None = None,
) -> list[int]:
    """An import's calls with their scorecards computed beforehand (``quality.score_new_calls``,
    outside the write transaction); the new ids in order."""
    now = now or utcnow()
    ids = calls.do_import_call_rows(session, actor_id, items, source, scorecards, now)
    quality.store_scorecards(session, [(i, item.agent_id) for i, item in zip(ids, items, strict=True)], scorecards, now)
    return ids


def do_import_calls(
    session: Session, actor_id: int | None, items: Sequence[CallCreate], source: str
) -> list[CallRecord]:
    """Record many calls at once with one audit entry, inspected; all or nothing — the caller's
    transaction is rolled back if anything is wrong."""
    ids = do_import_call_rows(session, actor_id, items, source, quality.score_new_calls(session, items))
    found = {call.id: call for call in session.scalars(select(CallRecord).where(CallRecord.id.in_(ids)))}
    return [found[i] for i in ids]


def seed_demo_calls(
    session: Session, agents: Sequence[User], customers: Sequence[Customer], *, actor_id: int | None = None
) -> list[CallRecord]:
    """The demo's calls (kefu.calls.demo), inspected like any other call."""
    recorded = calls_demo.seed_demo(session, agents, customers, actor_id=actor_id)
    quality.inspect_calls(session, recorded)
    return recorded
