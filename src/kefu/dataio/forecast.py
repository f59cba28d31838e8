"""A forecast file for ``kefu staffing``: one row per interval — its label, the calls expected,
and optionally its handling time and the callers' patience (else the command's options)."""

from __future__ import annotations

from dataclasses import dataclass

from kefu.dataio.cdr import cell_number
from kefu.dataio.tables import Column, ImportRejected, RowError, read_table, text_values

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
