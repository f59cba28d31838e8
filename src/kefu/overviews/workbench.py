"""工作台 (the workbench): what an agent needs at the start of every call — my open work orders by
deadline, today's calls and numbers — read through the work-order and call domains."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kefu.calls import service as calls
from kefu.calls.schemas import CallFilter, CallOut
from kefu.core.privacy import Reader
from kefu.workorders import service as workorders
from kefu.workorders.presenting import summary
from kefu.workorders.schemas import WorkOrderSummary

ORDERS_SHOWN = 8  # the rest are on /workorders, which lists the same orders in the same order
CALLS_SHOWN = 6  # the rest are on /calls


@dataclass(frozen=True)
class MyOrders:
    rows: list[WorkOrderSummary]  # the first ones, as the work-order list presents them
    total: int  # open in all
    overdue: int  # of which past a deadline


def my_orders(session: Session, reader: Reader, now: datetime) -> MyOrders:
    """The user's open orders (owner or assignee), soonest deadline first."""
    pairs = workorders.open_orders_by_deadline(session, reader.user.id, now)
    return MyOrders(
        rows=[summary(order, reader, now) for order, _ in pairs[:ORDERS_SHOWN]],
        total=len(pairs),
        overdue=sum(due is not None and due <= now for _, due in pairs),  # the earliest unmet deadline passed
    )


def my_day(session: Session, reader: Reader, now: datetime) -> tuple[calls.AgentDay, list[CallOut]]:
    """Today's numbers (the centre's calendar day) and the latest of today's calls."""
    start, end = calls.day_range(now)
    user_id = reader.user.id
    latest = calls.list_calls(session, CallFilter(agent_id=user_id, start=start, end=end), limit=CALLS_SHOWN)
    return calls.agent_today(session, user_id, now), [calls.present(c, reader) for c in latest]
