"""Write scorecards as a terminal table, JSON, JSON Lines, CSV or an HTML page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from enum import StrEnum

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kefu.inspection.scorecard import Report
from kefu.inspection.transcript import Transcript


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"
    HTML = "html"


CSV_COLUMNS = [
    "call_id",
    "agent_id",
    "agent_name",
    "score",
    "passed",
    "fatal",
    "rule",
    "rule_name",
    "category",
    "deduction",
    "turn",
    "start",
    "end",
    "evidence",
    "message",
    "suggestion",
    "source",
]


def to_json(reports: Sequence[Report]) -> str:
    """One call: the report object of SPEC §2. Several: a JSON array of them."""
    data = [r.public() for r in reports]
    return json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False, indent=2) + "\n"


def to_jsonl(reports: Sequence[Report]) -> str:
    return "".join(json.dumps(r.public(), ensure_ascii=False) + "\n" for r in reports)


def to_csv(reports: Sequence[Report]) -> str:
    """One row per finding; a call without findings still gets one row with its score."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS)
    writer.writeheader()
    for report in reports:
        call = {
            "call_id": report.id,
            "agent_id": report.agent_id,
            "agent_name": report.agent_name,
            "score": report.score,
            "passed": report.passed,
            "fatal": report.fatal,
        }
        if not report.findings:
            writer.writerow(call)
        for f in report.findings:
            writer.writerow(
                call
                | {
                    "rule": f.rule,
                    "rule_name": f.rule_name,
                    "category": f.category,
                    "deduction": f.deduction,
                    "turn": f.turn,
                    "start": f.start,
                    "end": f.end,
                    "evidence": f.evidence,
                    "message": f.message,
                    "suggestion": f.suggestion,
                    "source": f.source,
                }
            )
    return out.getvalue()


def print_table(reports: Sequence[Report], console: Console) -> None:
    for report in reports:
        verdict = (
            "[red]致命[/red]" if report.fatal else ("[green]合格[/green]" if report.passed else "[red]不合格[/red]")
        )
        agent = escape(" ".join(x for x in (report.agent_name, report.agent_id) if x) or "—")
        parts = " · ".join(f"{c.name} {c.score:g}/{c.max:g}" for c in report.categories.values())
        console.print(f"\n[bold]{escape(report.id)}[/bold]  客服 {agent}  得分 [bold]{report.score:g}[/bold] {verdict}")
        console.print(f"  {parts}")
        if report.not_applicable_reasons:
            na = "、".join(f"{n.rule_name}(缺少{n.missing})" for n in report.not_applicable_reasons)
            console.print(f"  [dim]不适用:{escape(na)}[/dim]")
        if not report.findings:
            console.print("  [green]未发现问题[/green]")
            continue
        table = Table(show_lines=False, expand=True)
        for column in ("规则", "扣分", "位置", "证据", "说明", "建议话术"):
            table.add_column(column, overflow="fold")
        for f in report.findings:
            where = "" if f.turn is None else f"第{f.turn + 1}句"
            if f.start is not None:
                where += f" {f.start:g}s"
            table.add_row(
                f"{escape(f.rule_name)}\n[dim]{f.rule}[/dim]",
                f"-{f.deduction:g}" + (" 致命" if f.fatal else ""),
                where,
                escape(f.evidence or ""),
                f"{escape(f.message)}\n[dim]{escape(f.source)}[/dim]",
                escape(f.suggestion or ""),
            )
        console.print(table)


def summary_line(reports: Sequence[Report]) -> str:
    if not reports:
        return "没有可质检的通话"
    passed = sum(r.passed for r in reports)
    average = sum(r.score for r in reports) / len(reports)
    return f"共 {len(reports)} 通,平均分 {average:.1f},合格 {passed} 通({passed / len(reports):.0%})"


def render(fmt: OutputFormat, items: Sequence[tuple[Transcript, Report]], failures: Sequence[str]) -> str:
    reports = [report for _, report in items]
    if fmt is OutputFormat.JSON:
        return to_json(reports)
    if fmt is OutputFormat.JSONL:
        return to_jsonl(reports)
    if fmt is OutputFormat.CSV:
        return to_csv(reports)
    if fmt is OutputFormat.HTML:
        from kefu.inspection.html_report import render_html

        return render_html(items, failures)
    console = Console(file=io.StringIO(), width=140, force_terminal=False)
    print_table(reports, console)
    return console.file.getvalue()  # type: ignore[attr-defined]
