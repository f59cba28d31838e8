"""What the workforce domain reads from the rest of the platform: the inbound calls (for the
forecast) and when agents were working (logins and calls, for adherence)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kefu.accounts.models import UserSession
from kefu.calls.models import CallRecord, Direction

Span = tuple[datetime, datetime]


def inbound_calls(session: Session, start: datetime, end: datetime) -> tuple[list[datetime], list[float | None]]:
    """Ring times of the inbound calls in [start, end) and the handling time of each answered one
    (talk + hold + after-call work, as the performance figures count it)."""
    rows = session.execute(
        select(CallRecord.ring_at, CallRecord.answered_at, CallRecord.ended_at, CallRecord.hold_seconds,
               CallRecord.wrap_seconds)
        .where(CallRecord.direction == Direction.INBOUND, CallRecord.ring_at >= start, CallRecord.ring_at < end)
        .order_by(CallRecord.ring_at)
    )  # fmt: skip
    rings: list[datetime] = []
    handling: list[float | None] = []
    for ring, answered, ended, hold, wrap in rows:
        rings.append(ring)
        if answered is None or ended is None:
            handling.append(None)
        else:
            handling.append(max(0.0, (ended - answered).total_seconds()) + (hold or 0.0) + (wrap or 0.0))
    return rings, handling


def working_spans(
    session: Session, agent_ids: Collection[int], start: datetime, end: datetime
) -> dict[int, list[Span]]:
    """When each agent was working within [start, end): logged in (a session from its start to its
    end or last activity) or on a call (answer to end, plus after-call work)."""
    spans: dict[int, list[Span]] = defaultdict(list)
    if not agent_ids:
        return spans
    logins = session.execute(
        select(UserSession.user_id, UserSession.created_at, UserSession.ended_at, UserSession.last_seen_at).where(
            UserSession.user_id.in_(agent_ids),
            UserSession.created_at < end,
            or_(UserSession.ended_at.is_(None), UserSession.ended_at > start),
        )
    )
    for user_id, began, ended, seen in logins:
        spans[user_id].append((began, ended or seen))
    calls = session.execute(
        select(CallRecord.agent_id, CallRecord.answered_at, CallRecord.ended_at, CallRecord.wrap_seconds).where(
            CallRecord.agent_id.in_(agent_ids),
            CallRecord.answered_at.is_not(None),
            CallRecord.ended_at.is_not(None),
            CallRecord.ring_at >= start - timedelta(hours=4),
            CallRecord.ring_at < end,
        )
    )
    for agent_id, answered, ended, wrap in calls:
        spans[agent_id].append((answered, ended + timedelta(seconds=wrap or 0.0)))
    return spans


def overlap_minutes(window: Span, spans: list[Span]) -> float:
    """Minutes of ``window`` covered by the union of ``spans``."""
    start, end = window
    cut = sorted((max(a, start), min(b, end)) for a, b in spans if b > start and a < end)
    total, reach = 0.0, start
    for a, b in cut:
        if b <= reach:
            continue
        total += (b - max(a, reach)).total_seconds()
        reach = b
    return total / 60
