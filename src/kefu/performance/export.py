"""The month for HR: one sheet with a row per agent — the five dimensions' raw figures and
scores, total, grade, the team lead's comment — and one sheet saying how it was computed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kefu.core.spreadsheets import to_xlsx_book
from kefu.performance.evaluation import current_policy
from kefu.performance.schemas import EvaluationRow

RAW_FORMAT = {
    "quality": "{:.1f}",
    "satisfaction": "{:.1%}",
    "efficiency": "{:.0f} 秒",
    "accuracy": "{:.1%}",
    "sales": "{:.1%}",
}


def _header() -> list[str]:
    dims = [h for d in current_policy().dimensions for h in (f"{d.label}(实际)", f"{d.label}得分")]
    return ["工号", "姓名", "班组", "接听量", *dims, "总分", "等级", "等级说明", "出勤率", "班组长评语", "说明"]


def _row(row: EvaluationRow) -> list[Any]:
    parts = {p.key: p for p in row.parts}
    cells: list[Any] = [row.agent_no, row.name, row.team or "", row.calls]
    for d in current_policy().dimensions:
        part = parts.get(d.key)
        cells += [RAW_FORMAT[d.key].format(part.raw), part.score] if part else ["无数据", ""]
    attendance = row.kpis.attendance.value
    note = "不计入:" + "、".join(row.missing) if row.missing else ""
    cells += [
        row.total if row.total is not None else "",
        row.grade or "",
        row.grade_label or "",
        f"{attendance:.1%}" if attendance is not None else "",
        row.comment or "",
        note,
    ]
    return cells


def month_workbook(month: str, rows: Sequence[EvaluationRow], *, status: str, basis: dict[str, Any]) -> bytes:
    """``status``: 已发布(第 N 版) or 未发布(草稿), printed on the explanation sheet."""
    explanation: list[list[Any]] = [["月份", month], ["状态", status]]
    explanation += [
        [f"{d.label}(权重 {d.weight:.0%})", f"{d.source};{d.scale.worst:g} 记 0 分,{d.scale.best:g} 记 100 分"]
        for d in current_policy().dimensions
    ]
    explanation += [[f"等级 {g}({label})", f"总分 ≥ {low:g}"] for g, label, low in current_policy().grades]
    explanation += [[str(k), str(v)] for k, v in basis.items()]
    return to_xlsx_book(
        [
            ("月度绩效", _header(), [_row(r) for r in rows]),
            ("计算说明", ["项目", "说明"], explanation),
        ]
    )
