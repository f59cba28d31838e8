"""Spreadsheets out: any rows as CSV (UTF-8 with a BOM, so Excel opens Chinese) or .xlsx
(openpyxl, write-only): choices as their Chinese labels, 是/否, times on the centre's clock, text
that would start a formula kept as text. Reading spreadsheets (imports) is kefu.dataio.tables."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from kefu.core.clock import on_centre_clock
from kefu.core.errors import Invalid

Format = Literal["csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXCEL_CELL_LIMIT = 32_767
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _plain(value: Any) -> Any:
    """A value as a spreadsheet shows it: labels for choices, 是/否, times on the centre's clock."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Enum):
        return getattr(value, "label", value.value)
    if isinstance(value, datetime):  # one without a zone is already on the centre's clock
        moment = value if value.tzinfo is None else on_centre_clock(value)
        return moment.replace(tzinfo=None, microsecond=0)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _csv_cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text  # Excel must not run a summary that starts with = as a formula
    return text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM (so Excel opens Chinese correctly), CRLF line ends, quotes as needed."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], sheet_title: str = "导出") -> bytes:
    return to_xlsx_book([(sheet_title, header, rows)])


def to_xlsx_book(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """One .xlsx with a sheet per (title, header, rows), in order (a report and its calls)."""
    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        _write_sheet(workbook, title, header, rows)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_sheet(workbook: Workbook, sheet_title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    sheet = workbook.create_sheet(title=_sheet_title(sheet_title))
    widths = [max(8, _width(name)) for name in header]
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        cells.append(cell)
    body = []
    for row in rows:
        out = []
        for index, value in enumerate(row):
            cell = _xlsx_cell(sheet, value)
            out.append(cell)
            if index < len(widths) and cell.value is not None:
                widths[index] = min(60, max(widths[index], _width(str(cell.value).split("\n", 1)[0])))
        body.append(out)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width + 2
    sheet.append(cells)
    for out in body:
        sheet.append(out)


def _xlsx_cell(sheet: Any, value: Any) -> WriteOnlyCell:
    value = _plain(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if len(value) > EXCEL_CELL_LIMIT:
            value = f"(内容有 {len(value)} 字,超过 Excel 单元格上限 {EXCEL_CELL_LIMIT} 字,请导出 CSV 查看)"
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text stays text, even when it starts with =
    elif isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    return cell


def _sheet_title(title: str) -> str:
    return re.sub(r"[\\/*?:\[\]]", "", title)[:31] or "导出"


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def export_rows(
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Mapping[str, Any]],
    fmt: Format = "csv",
    *,
    sheet_title: str = "导出",
) -> bytes:
    """Any list of records (calls, work orders, …) as CSV or .xlsx: ``columns`` are (key, header)."""
    if fmt not in FORMATS:
        raise Invalid(f"不支持的导出格式“{fmt}”,可选:csv、xlsx")
    header = [label for _, label in columns]
    values = ([row.get(key) for key, _ in columns] for row in rows)
    return to_csv(header, values) if fmt == "csv" else to_xlsx(header, values, sheet_title)


def export_filename(stem: str, fmt: Format, moment: datetime | None = None) -> str:
    stamp = on_centre_clock(moment or datetime.now().astimezone()).strftime("%Y%m%d-%H%M")
    return f"{stem}-{stamp}.{fmt}"
