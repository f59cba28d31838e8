"""A forecast file for ``kefu staffing``: one row per interval — its label, the calls expected,
and optionally its handling time and the callers' patience (else the command's options)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from kefu.core.fields import typed_time
from kefu.dataio.cdr import cell_number
from kefu.dataio.tables import Column, ImportRejected, RowError, read_table, text_values
from kefu.workforce.roster import SHIFTS

FORECAST_COLUMNS = [
    Column("interval", "时段", ("开始时间", "时间段", "interval", "start"), required=True),
    Column("calls", "来电量", ("预测来电量", "话务量", "calls", "volume"), required=True),
    Column("aht", "平均处理时长", ("处理时长", "平均处理时长(秒)", "aht"), required=False),
    Column("patience", "平均耐心", ("耐心时长", "平均耐心(秒)", "patience"), required=False),
]


@dataclass(frozen=True)
class ForecastRow:
    label: str
    calls: float
    aht: float | None
    patience: float | None


def read_forecast(data: bytes, filename: str) -> list[ForecastRow]:
    """Every row, or ``ImportRejected`` naming every bad one (第 N 行:列:原因)."""
    table = read_table(data, filename, FORECAST_COLUMNS)

    def label(name: str) -> str:
        return table.label(name, FORECAST_COLUMNS)

    rows: list[ForecastRow] = []
    errors: list[RowError] = []
    for row in table.rows:
        texts, problems = text_values(row, ("interval",), label)
        numbers: dict[str, float | None] = {}
        for name, what, high in (("calls", "来电数", 1e7), ("aht", "秒数", 86_400), ("patience", "秒数", 86_400)):
            try:
                numbers[name] = cell_number(row.values.get(name), what, 0, high)
            except ValueError as err:
                problems.append(RowError(row.number, label(name), str(err)))
        if "interval" not in texts and not problems:
            problems.append(RowError(row.number, label("interval"), "不能为空"))
        if numbers.get("calls") is None and not any(p.field == label("calls") for p in problems):
            problems.append(RowError(row.number, label("calls"), "不能为空"))
        for name in ("aht", "patience"):
            if numbers.get(name) == 0:
                problems.append(RowError(row.number, label(name), "应大于 0"))
        if problems:
            errors += problems
            continue
        rows.append(ForecastRow(texts["interval"], numbers["calls"] or 0.0, numbers["aht"], numbers["patience"]))  # type: ignore[arg-type]
    if errors:
        raise ImportRejected(errors)
    return rows


# ---------------------------------------------------------------------------- kefu roster's files

REQUIREMENT_COLUMNS = [
    Column("interval", "时段", ("开始时间", "interval"), required=True),
    Column("rostered", "排班人数", ("需要人数", "需求人数", "agents"), required=True),
]
AGENT_COLUMNS = [
    Column("agent_no", "工号", ("坐席工号", "agent"), required=True),
    Column("name", "姓名", ("客服姓名", "name")),
    Column("leave", "请假日期", ("请假", "leave")),
    Column("before", "上周日班次", ("前一天班次", "before")),
]


def read_requirement(data: bytes, filename: str) -> dict[datetime, int]:
    """Agents needed per half hour, by its start (``kefu staffing``'s CSV: 时段 and 排班人数)."""
    table = read_table(data, filename, REQUIREMENT_COLUMNS)

    def label(name: str) -> str:
        return table.label(name, REQUIREMENT_COLUMNS)

    out: dict[datetime, int] = {}
    errors: list[RowError] = []
    for row in table.rows:
        try:
            when = typed_time(str(row.values.get("interval") or ""))
            if not isinstance(when, datetime):
                raise ValueError("不能为空")
        except ValueError as err:
            errors.append(RowError(row.number, label("interval"), str(err)))
            continue
        try:
            agents = cell_number(row.values.get("rostered"), "人数", 0, 100_000)
        except ValueError as err:
            errors.append(RowError(row.number, label("rostered"), str(err)))
            continue
        out[when.replace(tzinfo=None)] = int(agents or 0)
    if errors:
        raise ImportRejected(errors)
    return out


def read_agents(data: bytes, filename: str) -> list[tuple[str, str, list[date], str | None]]:
    """(工号, 姓名, the days on approved leave, the shift code worked the day before the week —
    named by its code or label, e.g. 夜间服务) of each agent to roster."""
    table = read_table(data, filename, AGENT_COLUMNS)

    def label(name: str) -> str:
        return table.label(name, AGENT_COLUMNS)

    shifts = {shift.label: shift.code for shift in SHIFTS} | {shift.code: shift.code for shift in SHIFTS}
    out: list[tuple[str, str, list[date], str | None]] = []
    errors: list[RowError] = []
    for row in table.rows:
        texts, problems = text_values(row, ("agent_no", "name", "leave", "before"), label)
        if "agent_no" not in texts and not problems:
            problems.append(RowError(row.number, label("agent_no"), "不能为空"))
        days: list[date] = []
        for part in str(texts.get("leave") or "").replace("、", ";").replace(",", ";").split(";"):
            if part.strip():
                try:
                    days.append(date.fromisoformat(part.strip()))
                except ValueError:
                    problems.append(RowError(row.number, label("leave"), f"「{part.strip()}」不是日期(如 2026-12-08)"))
        before = texts.get("before") or None
        if before is not None and before not in shifts and before != "休息":
            problems.append(
                RowError(row.number, label("before"), f"「{before}」不是班次(早班、中班、晚班、夜间服务或休息)")
            )
        if problems:
            errors += problems
            continue
        out.append((texts["agent_no"], texts.get("name") or "", days, shifts.get(before or "")))
    if errors:
        raise ImportRejected(errors)
    return out
