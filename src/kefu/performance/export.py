"""The month for HR: one sheet with a row per agent — the five dimensions' raw figures and
scores, total, grade, the team lead's comment — and one sheet saying how it was computed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kefu.core.spreadsheets import to_xlsx_book
from kefu.performance.schemas import EvaluationRow, PolicyOut

RAW_FORMAT = {
    "quality": "{:.1f}",
    "satisfaction": "{:.1%}",
    "efficiency": "{:.0f} 秒",
    "accuracy": "{:.1%}",
    "sales": "{:.1%}",
}


def _header(policy: PolicyOut) -> list[str]:
    dims = [h for d in policy.dimensions for h in (f"{d.label}(实际)", f"{d.label}得分")]
    return ["工号", "姓名", "班组", "接听量", *dims, "总分", "等级", "等级说明", "出勤率", "班组长评语", "说明"]


def _row(row: EvaluationRow, policy: PolicyOut) -> list[Any]:
    parts = {p.key: p for p in row.parts}
    cells: list[Any] = [row.agent_no, row.name, row.team or "", row.calls]
    for d in policy.dimensions:
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


def month_workbook(
    month: str, rows: Sequence[EvaluationRow], *, status: str, basis: dict[str, str], policy: PolicyOut
) -> bytes:
    """``status``: 已发布(第 N 版) or 未发布(草稿), printed on the explanation sheet; ``policy``:
    the weights, scales and grades the month was evaluated with."""
    explanation: list[list[Any]] = [["月份", month], ["状态", status]]
    explanation += [
        [f"{d.label}(权重 {d.weight:.0%})", f"{d.source};{d.worst:g} 记 0 分,{d.best:g} 记 100 分"]
        for d in policy.dimensions
    ]
    explanation += [[f"等级 {g.grade}({g.label})", f"总分 ≥ {g.min:g}"] for g in policy.grades]
    explanation += [[k, v] for k, v in basis.items()]
    return to_xlsx_book(
        [
            ("月度绩效", _header(policy), [_row(r, policy) for r in rows]),
            ("计算说明", ["项目", "说明"], explanation),
        ]
    )
