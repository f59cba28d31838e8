"""Call detail records (CDR) from a centre's switch or ACD: one row per offered call, answered or
not, as CSV or Excel — the records the performance KPIs are computed from (kefu.performance.kpi)
when the calls live in another system. Times without a zone are on the centre's clock.

The platform's own call export (kefu.dataio.calls) reads here too: its 呼叫方向 leaves outbound
calls out (they were never offered to the queue), its 客户编号 names the customer the way the
platform does (the caller's number, else ``c<id>``), and its 质检得分 and 客服姓名 are there for
``kefu.dataio.performance``, which takes QA scores and names from a call list."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from kefu.calls.reasons import UNANSWERED, UNANSWERED_LABEL
from kefu.core.clock import on_centre_clock, utc_for_storing
from kefu.core.fields import typed_time
from kefu.dataio.tables import (
    RING_AT_ALIASES,
    Column,
    ImportRejected,
    Row,
    RowError,
    Table,
    read_table,
    text_values,
)
from kefu.performance.kpi import CallFact

CDR_COLUMNS = [
    Column("call_id", "通话编号", ("呼叫编号", "流水号", "通话id", "call id", "callid")),
    Column("direction", "呼叫方向", ("方向", "呼入呼出", "direction")),
    Column("ring_at", "振铃时间", RING_AT_ALIASES, required=True),
    Column("answered_at", "接听时间", ("应答时间", "answer time", "answered at")),
    Column("ended_at", "结束时间", ("挂机时间", "放弃时间", "通话结束时间", "end time", "ended at")),
    Column("agent", "工号", ("坐席工号", "客服工号", "agent")),
    Column("agent_name", "客服姓名", ("坐席姓名", "话务员姓名", "agent name")),
    Column("team", "班组", ("组别", "team")),
    Column("customer_id", "客户编号", ("customer id",)),
    Column("customer", "客户", ("主叫号码", "来电号码", "客户号码", "caller")),
    Column("reason", "来电原因", ("业务类型", "reason")),
    Column("hold_seconds", "保持时长", ("保持秒数", "hold")),
    Column("wrap_seconds", "话后处理时长", ("话后时长", "整理时长", "wrap", "acw")),
    Column("qa_score", "质检得分", ("质检分数", "qa score")),
]
# An unanswered call's reason as the platform stores or exports it: no topic (kefu.performance.kpi).
UNKNOWN_REASONS = (UNANSWERED, UNANSWERED_LABEL)
TEXT_FIELDS = ("call_id", "agent", "team", "customer_id", "customer", "reason")
INBOUND = frozenset({"呼入", "来电", "inbound", "in"})
OUTBOUND = frozenset({"呼出", "去电", "外呼", "outbound", "out"})
_DATE_FORMATS = ("%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d")


def cell_time(value: Any) -> datetime | None:
    """A time cell as UTC: a spreadsheet's own time or text as people type it (``typed_time``);
    without a zone it is on the centre's clock. ``ValueError`` in Chinese when it is no time."""
    if value is None or isinstance(value, datetime):
        return None if value is None else utc_for_storing(value)
    moment = typed_time(str(value))
    return None if moment is None else utc_for_storing(moment)  # type: ignore[arg-type]


def cell_date(value: Any) -> date | None:
    """A day cell: a spreadsheet date, or 2026-11-03, 2026/11/03, 2026年11月3日, 20261103; a
    time with a zone counts as its day on the centre's clock."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date() if value.tzinfo is None else on_centre_clock(value).date()
    text = str(value).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    try:
        moment = typed_time(text)
    except ValueError:
        raise ValueError("日期格式不正确,应如 2026-11-22") from None
    return cell_date(moment)


def cell_number(value: Any, what: str, low: float, high: float, unit: str = "") -> float | None:
    """A number cell in [low, high]; empty → None. ``what`` names it in the message (应为秒数)."""
    if value is None or str(value).strip() == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"应为{what}")
    try:
        number = float(value)
    except (TypeError, ValueError):  # a date in a number column comes from Excel as a datetime
        raise ValueError(f"应为{what}") from None
    if not low <= number <= high:
        raise ValueError(f"应在 {low:g} 到 {high:g}{unit}之间")
    return number


def _seconds(value: Any) -> float | None:
    seconds = cell_number(value, "秒数", 0, 86_400, " 秒")
    if seconds == 86_400:
        raise ValueError("应在 0 到 86400 秒之间")
    return seconds


def _inbound(value: Any) -> bool:
    """Whether a 呼叫方向 cell is an offered call (empty: yes, a queue's CDR is all inbound)."""
    text = "" if value is None else str(value).strip().lower()
    if not text or text in INBOUND:
        return True
    if text in OUTBOUND:
        return False
    raise ValueError("应为 呼入 或 呼出")


def read_cdr(data: bytes, filename: str) -> list[CallFact]:
    """Every offered call as a ``CallFact``; ``ImportRejected`` listing every bad row (第 N 行:列:原因)."""
    return calls_of(read_table(data, filename, CDR_COLUMNS))


def calls_of(table: Table) -> list[CallFact]:
    """The offered calls of a table read with ``CDR_COLUMNS`` (outbound rows left out);
    ``ImportRejected`` listing every bad row."""
    calls: list[CallFact] = []
    errors: list[RowError] = []
    for row in table.rows:
        call, problems = _call(row, table)
        errors += problems
        if call is not None and not problems:
            calls.append(call)
    if errors:
        raise ImportRejected(errors)
    return calls


def _call(row: Row, table: Table) -> tuple[CallFact | None, list[RowError]]:
    """One row: the call (None for an outbound call), and the row's problems."""

    def label(name: str) -> str:
        return table.label(name, CDR_COLUMNS)

    texts, problems = text_values(row, TEXT_FIELDS, label)
    inbound = True
    try:
        inbound = _inbound(row.values.get("direction"))
    except ValueError as err:
        problems.append(RowError(row.number, label("direction"), str(err)))
    times: dict[str, datetime | None] = {}
    for name in ("ring_at", "answered_at", "ended_at"):
        try:
            times[name] = cell_time(row.values.get(name))
        except ValueError as err:
            problems.append(RowError(row.number, label(name), str(err)))
    seconds: dict[str, float | None] = {}
    for name in ("hold_seconds", "wrap_seconds"):
        try:
            seconds[name] = _seconds(row.values.get(name))
        except ValueError as err:
            problems.append(RowError(row.number, label(name), str(err)))
    ring, answered, ended = times.get("ring_at"), times.get("answered_at"), times.get("ended_at")
    if ring is None and not any(p.field == label("ring_at") for p in problems):
        problems.append(RowError(row.number, label("ring_at"), "不能为空"))
    if ring is not None and answered is not None and answered < ring:
        problems.append(RowError(row.number, label("answered_at"), "接听时间早于振铃时间"))
    if ended is not None and (answered or ring) is not None and ended < (answered or ring):  # type: ignore[operator]
        problems.append(RowError(row.number, label("ended_at"), "结束时间早于接听或振铃时间"))
    if problems or not inbound:
        return None, problems
    # The platform's key for a customer (kefu.performance.queries): the number, else its id.
    customer = texts.get("customer") or (f"c{texts['customer_id']}" if "customer_id" in texts else None)
    call = CallFact(
        call_id=texts.get("call_id") or f"第 {row.number} 行",
        ring_at=ring,  # type: ignore[arg-type]
        answered_at=answered,
        ended_at=ended,
        agent=texts.get("agent"),
        team=texts.get("team"),
        customer=customer,
        reason=None if texts.get("reason") in UNKNOWN_REASONS else texts.get("reason"),
        hold_seconds=seconds.get("hold_seconds") or 0.0,
        wrap_seconds=seconds.get("wrap_seconds"),
    )
    return call, []
