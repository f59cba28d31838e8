"""A customer's contact history: calls and work orders in one list, newest first, filterable by
date range and type (seed 004: 客户历史记录可按时间或类型筛选). Read-only, used by the customer
page and ``GET /api/customers/{id}/history`` alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from kefu.calls import service as calls
from kefu.calls.models import CallRecord
from kefu.calls.reasons import current_reasons
from kefu.core.clock import centre_tz, on_centre_clock, utc_for_storing
from kefu.core.errors import Invalid
from kefu.core.privacy import Level, Reader, mask_id_number, mask_name, mask_phone, mask_text, redact
from kefu.customers import service as customers
from kefu.customers.models import Customer
from kefu.customers.service import get_customer
from kefu.workorders import service as workorders
from kefu.workorders.models import OrderType, WorkOrder
from kefu.workorders.schemas import HistoryFilter

Kind = Literal["call", "work_order"]
KIND_LABELS: dict[str, str] = {"call": "通话", "work_order": "工单"}
TITLE_LENGTH = 60


@dataclass(frozen=True)
class HistoryQuery:
    """The filters: a date range on the centre's clock (both days included) and one type —
    all calls, all work orders, one work-order type or one call reason."""

    start: date | None = None
    end: date | None = None
    kind: Kind | None = None
    order_type: OrderType | None = None
    reason: str | None = None  # a reason code

    @property
    def type_value(self) -> str:
        """The query's type as ``parse_query`` reads it (the select box's value)."""
        if self.order_type is not None:
            return f"work_order:{self.order_type.value}"
        if self.reason is not None:
            return f"call:{self.reason}"
        return self.kind or ""


class HistoryItem(BaseModel):
    """One line of the history. Texts are masked while the caller's identity is not verified."""

    kind: Kind
    kind_label: str
    id: int
    number: str | None  # 工单编号, or the call's 通话编号
    at: datetime  # created (work order) or rang (call), on the centre's clock
    title: str
    label: str  # the work order's type or the call's reason
    status: str
    url: str


def type_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The type select box: (group label, [(value, label)]) — the values ``parse_query`` accepts."""
    reasons = current_reasons()
    return [
        ("", [("", "全部"), ("call", "全部通话"), ("work_order", "全部工单")]),
        ("工单类型", [(f"work_order:{value}", label) for value, label in OrderType.choices()]),
        ("来电原因", [(f"call:{code}", label) for code, label in reasons.choices()]),
    ]


def _date(value: str | None, name: str, problems: list[str]) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{name}“{text}”格式不正确,应为 2026-03-01 这样的日期")
        return None


def _type(value: str | None, problems: list[str]) -> dict[str, object]:
    text = (value or "").strip()
    if not text:
        return {}
    kind, _, detail = text.partition(":")
    kind = {"通话": "call", "工单": "work_order"}.get(kind, kind)
    if kind not in KIND_LABELS:
        problems.append(f"类型“{text}”无法识别,应为通话、工单、某一工单类型或某一来电原因")
        return {}
    if not detail.strip():
        return {"kind": kind}
    try:
        if kind == "work_order":
            return {"kind": kind, "order_type": OrderType.parse(detail)}
        reasons = current_reasons()
        known = next((r.code for r in reasons if detail.strip() in (r.code, r.label)), None)
        return {"kind": kind, "reason": known or reasons.resolve(detail).code}
    except ValueError as error:
        problems.append(str(error))
        return {}


def parse_query(start: str | None = None, end: str | None = None, type: str | None = None) -> HistoryQuery:
    """The filters as typed (query string, form): dates as ``2026-03-01``; ``type`` one of ``call``,
    ``work_order``, ``work_order:<type>`` or ``call:<reason>`` (codes or Chinese labels).
    Anything wrong is an ``Invalid`` that names every problem."""
    problems: list[str] = []
    first, last = _date(start, "开始日期", problems), _date(end, "结束日期", problems)
    if first and last and first > last:
        problems.append(f"开始日期 {first} 不能晚于结束日期 {last}")
    kind = _type(type, problems)
    if problems:
        raise Invalid("筛选条件有误:" + ";".join(problems))
    return HistoryQuery(start=first, end=last, **kind)  # type: ignore[arg-type]


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=centre_tz())


def masked_text(text: str, customer: Customer) -> str:
    """Free text (a summary, a title) as it may be shown before the identity check: the
    customer's own details masked as on the customer card, and any mobile or ID number too."""
    for value, mask in (
        (customer.id_number, mask_id_number),
        (customer.phone, mask_phone),
        (customer.email, mask_text),
        (customer.address, mask_text),
        (customer.name, mask_name),
    ):
        if value:
            text = text.replace(value, mask(value))
    return redact(text)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE_LENGTH else text[: TITLE_LENGTH - 1] + "…"


def _call_item(call: CallRecord, customer: Customer, masked: bool) -> HistoryItem:
    summary = call.summary or f"{call.direction.label}通话(无小结)"
    return HistoryItem(
        kind="call",
        kind_label=f"通话·{call.direction.label}",
        id=call.id,
        number=call.external_id,
        at=on_centre_clock(call.ring_at),
        title=_short(masked_text(summary, customer) if masked else summary),
        label=current_reasons().label(call.reason),
        status="已接通" if call.answered_at is not None else "未接通",
        url=f"/calls/{call.id}",
    )


def _order_item(order: WorkOrder, customer: Customer, masked: bool) -> HistoryItem:
    return HistoryItem(
        kind="work_order",
        kind_label=KIND_LABELS["work_order"],
        id=order.id,
        number=order.number,
        at=on_centre_clock(utc_for_storing(order.created_at)),
        title=_short(masked_text(order.title, customer) if masked else order.title),
        label=order.type.label,
        status=order.status.label,
        url=f"/workorders/{order.id}",
    )


def customer_history(
    session: Session, reader: Reader, customer_id: int, query: HistoryQuery | None = None, *, limit: int = 100
) -> list[HistoryItem]:
    """The customer's calls and work orders matching ``query``, newest first, at most ``limit``.
    Until the caller is verified no personal data appears in the texts (kefu.core.privacy).
    An unknown customer is ``NotFound``."""
    customer = get_customer(session, customer_id)
    masked = reader.level(customer_id) < Level.VERIFIED
    if not masked:
        reader.reveal(customer_id, "联系历史")
    query = query or HistoryQuery()
    since = _day_start(query.start) if query.start else None
    until = _day_start(query.end + timedelta(days=1)) if query.end else None  # exclusive
    items: list[HistoryItem] = []
    if query.kind in (None, "call"):
        found = calls.contact_history(session, customer_id, start=since, end=until, reason=query.reason, limit=limit)
        items += [_call_item(c, customer, masked) for c in found]
    if query.kind in (None, "work_order"):
        filters = HistoryFilter(
            since=since,
            until=until - timedelta(microseconds=1) if until else None,  # the service's bound is inclusive
            types=[query.order_type] if query.order_type else None,
        )
        orders = workorders.customer_history(session, customer_id, filters, limit=limit)
        items += [_order_item(o, customer, masked) for o in orders]
    items.sort(key=lambda item: (item.at, item.kind == "work_order", item.id), reverse=True)
    return items[:limit]


__all__ = [
    "KIND_LABELS",
    "HistoryItem",
    "HistoryQuery",
    "customer_history",
    "masked_text",
    "parse_query",
    "type_choices",
]


def do_read_history(
    session: Session, reader: Reader, customer_id: int, query: HistoryQuery, *, limit: int = 100
) -> list[HistoryItem]:
    """The history as the API answers it, the view written to the audit log."""
    customers.do_view_customer(session, reader, customer_id, detail="联系历史")
    return customer_history(session, reader, customer_id, query, limit=limit)
