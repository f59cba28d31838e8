"""Call detail records (CDR) from a centre's switch or ACD: one row per offered call, answered or
not, as CSV or Excel — the records the performance KPIs are computed from (kefu.performance.kpi)
when the calls live in another system. Times without a zone are on the centre's clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kefu.core.clock import utc_for_storing
from kefu.core.fields import typed_time
from kefu.dataio.tables import Column, ImportRejected, RowError, read_table, text_values
from kefu.performance.kpi import CallFact

CDR_COLUMNS = [
    Column("call_id", "通话编号", ("呼叫编号", "流水号", "call id", "callid")),
    Column("ring_at", "振铃时间", ("呼入时间", "进线时间", "排队开始时间", "ring time", "offered at"), required=True),
    Column("answered_at", "接听时间", ("应答时间", "answer time", "answered at")),
    Column("ended_at", "结束时间", ("挂机时间", "放弃时间", "end time", "ended at")),
    Column("agent", "工号", ("坐席工号", "客服工号", "agent")),
    Column("team", "班组", ("组别", "team")),
    Column("customer", "客户", ("主叫号码", "来电号码", "客户编号", "caller")),
    Column("reason", "来电原因", ("业务类型", "reason")),
    Column("hold_seconds", "保持时长", ("保持秒数", "hold")),
    Column("wrap_seconds", "话后处理时长", ("话后时长", "整理时长", "wrap", "acw")),
]
TEXT_FIELDS = ("call_id", "agent", "team", "customer", "reason")


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return None if value is None else utc_for_storing(value)
    moment = typed_time(str(value))  # a ValueError in Chinese when it is no time
    return None if moment is None else utc_for_storing(moment)  # type: ignore[arg-type]


def _seconds(value: Any) -> float | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError("应为秒数") from None
    if not 0 <= seconds < 86_400:
        raise ValueError("应在 0 到 86400 秒之间")
    return seconds


def read_cdr(data: bytes, filename: str) -> list[CallFact]:
    """Every row as a ``CallFact``; ``ImportRejected`` listing every bad row (第 N 行:列:原因)."""
    table = read_table(data, filename, CDR_COLUMNS)

    def label(name: str) -> str:
        return table.label(name, CDR_COLUMNS)

    calls: list[CallFact] = []
    errors: list[RowError] = []
    for row in table.rows:
        texts, problems = text_values(row, TEXT_FIELDS, label)
        times: dict[str, datetime | None] = {}
        for name in ("ring_at", "answered_at", "ended_at"):
            try:
                times[name] = _time(row.values.get(name))
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
        if problems:
            errors += problems
            continue
        calls.append(
            CallFact(
                call_id=texts.get("call_id") or f"第 {row.number} 行",
                ring_at=ring,  # type: ignore[arg-type]
                answered_at=answered,
                ended_at=ended,
                agent=texts.get("agent"),
                team=texts.get("team"),
                customer=texts.get("customer"),
                reason=texts.get("reason"),
                hold_seconds=seconds.get("hold_seconds") or 0.0,
                wrap_seconds=seconds.get("wrap_seconds"),
            )
        )
    if errors:
        raise ImportRejected(errors)
    return calls
