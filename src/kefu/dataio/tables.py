"""Spreadsheets in and out: CSV (UTF-8 with or without BOM, GB18030/GBK, UTF-16 with BOM) and
Excel .xlsx (openpyxl). Rows keep their spreadsheet number (the header is row 1), so every
problem can be reported as 「第 N 行:字段:原因」."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, TypeVar

from openpyxl import load_workbook
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils import range_boundaries
from pydantic import ValidationError

from kefu.core.errors import Invalid
from kefu.inspection.parsers import TranscriptError, decode

MAX_ROWS = 50_000
ENCODINGS = "UTF-8(可带 BOM)、GB18030/GBK、带 BOM 的 UTF-16"

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (and .doc) container


# ---------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class RowError:
    """One problem: the spreadsheet row (header = 1; None for the whole file), the column as the
    file names it, and what is wrong."""

    row: int | None
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行:" if self.row is not None else ""
        return f"{where}{self.field}:{self.reason}"


class ImportRejected(Invalid):
    """Nothing was imported; ``errors`` lists every problem found, in row order."""

    SHOWN = 50
    KEPT = 1000  # listed in a job's result (a file where every row is wrong has 50,000)

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = sorted(errors, key=lambda e: e.row or 0)
        lines = [str(e) for e in self.errors[: self.SHOWN]]
        if len(self.errors) > self.SHOWN:
            lines.append(f"……另有 {len(self.errors) - self.SHOWN} 处错误")
        super().__init__("\n".join(lines))

    def as_json(self, limit: int | None = None) -> dict[str, Any]:
        """The API's 422 body: every problem as {row, field, reason, message:「第 N 行:字段:原因」}."""
        shown = self.errors if limit is None else self.errors[:limit]
        return {
            "detail": "没有导入任何数据:" + str(self),
            "errors": [{"row": e.row, "field": e.field, "reason": e.reason, "message": str(e)} for e in shown],
            "error_count": len(self.errors),
        }


def file_error(reason: str, what: str = "文件") -> ImportRejected:
    return ImportRejected([RowError(None, what, reason)])


# ---------------------------------------------------------------------------- columns


# The ring time as switches and call lists head it: the platform's call import and ``kefu kpi``
# read the same files.
RING_AT_ALIASES = (
    "来电时间",
    "呼叫时间",
    "开始时间",
    "呼入时间",
    "进线时间",
    "排队开始时间",
    "ring time",
    "offered at",
)


@dataclass(frozen=True)
class Column:
    """A column: the field it fills, the header written on export, the headers accepted on import."""

    field: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    export_only: bool = False  # written for people to read, ignored when the file comes back

    @property
    def names(self) -> tuple[str, ...]:
        return (self.label, self.field, *self.aliases)


def header_key(name: str) -> str:
    """「电话*」「电话(必填)」「Phone」「caller number」all name the same column."""
    name = re.sub(r"[((][^))]*[))]", "", str(name))
    return re.sub(r"[\s_\-*::]+", "", name).lower()


@dataclass
class Row:
    number: int
    values: dict[str, Any]


@dataclass
class Table:
    source: str
    header_row: int
    headers: dict[str, str]  # field → the header as written in the file
    rows: list[Row]
    ignored_columns: list[str] = field(default_factory=list)

    def label(self, field_name: str, columns: Sequence[Column]) -> str:
        if field_name in self.headers:
            return self.headers[field_name]
        return next((c.label for c in columns if c.field == field_name), field_name)


# ---------------------------------------------------------------------------- reading

# What a file may make us read, decided before reading it: an upload is at most 20 MB
# (kefu.dataio.api), but a zip can expand a thousandfold and a sheet can declare a million rows.
MAX_XLSX_EXPANDED = 256 * 1024 * 1024  # every part of a workbook, uncompressed, as the zip declares
MAX_XLSX_RATIO = 100  # uncompressed : compressed, for a part of more than RATIO_FROM bytes
RATIO_FROM = 8 * 1024 * 1024
MAX_XLSX_PARTS = 10_000
MAX_COLUMNS = 200  # cells further right are not read (kefu's widest import has 16 columns)
EXTRA_ROWS = 100  # a title row or a few blank rows above or between the data
PROGRESS_EVERY = 1000

Progress = Callable[[str, int, int | None], None]  # (phase, done, total): kefu.jobs reports it


def read_table(
    data: bytes,
    filename: str,
    columns: Sequence[Column],
    *,
    max_rows: int = MAX_ROWS,
    progress: Progress | None = None,
) -> Table:
    """The rows of a CSV or .xlsx file as {field: value}, empty cells as None, blank rows skipped.

    Read as a stream with a budget: a workbook is refused from its zip directory (declared sizes,
    compression ratio) and its sheet's declared dimension before any row is parsed, and reading
    stops at the first row past ``max_rows``. Raises ``ImportRejected`` for a file that cannot be
    read, is too large, or whose header lacks a required column; the rows themselves are checked
    by the caller."""
    source = PurePath(filename or "上传文件").name
    if not data or not data.strip():
        raise file_error("文件是空的")
    suffix = PurePath(source).suffix.lower()
    if data.startswith(_OLE):
        raise file_error("这是旧版 Excel(.xls)文件,不支持;请在 Excel 中“另存为” .xlsx 或 CSV(UTF-8)后再导入")
    if suffix in (".xlsx", ".xlsm") or data.startswith(_ZIP):
        with _xlsx_records(data, source, max_rows) as (records, declared):
            return _table(records, source, columns, max_rows, progress, declared)
    if suffix in ("", ".csv", ".txt", ".tsv"):
        return _table(_csv_records(data, source), source, columns, max_rows, progress, None)
    raise file_error(f"不支持的文件类型“{suffix}”,请使用 CSV 或 Excel(.xlsx)")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


def check_xlsx_archive(data: bytes, source: str) -> None:
    """Refuse a workbook from its zip directory alone, before anything is decompressed: more
    parts than any workbook has, more declared bytes than we would read, or a part compressed
    far beyond what XML compresses to (a "zip bomb")."""
    not_excel = f"{source} 不是有效的 Excel(.xlsx)文件"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as err:
        raise file_error(f"{not_excel}(无法打开:{type(err).__name__})") from None
    if len(parts) > MAX_XLSX_PARTS:
        raise file_error(f"{not_excel}:压缩包内有 {len(parts):,} 个文件,不像 Excel 工作簿")
    bomb = "文件可能已损坏,或是恶意构造的“压缩炸弹”,已拒绝;请在 Excel 中重新保存,或分成几个文件"
    total = sum(part.file_size for part in parts)
    if total > MAX_XLSX_EXPANDED:
        raise file_error(
            f"{source} 声明解压后有 {_megabytes(total)}(压缩后 {_megabytes(len(data))}),"
            f"超过上限 {_megabytes(MAX_XLSX_EXPANDED)};{bomb}"
        )
    for part in parts:
        if part.file_size > RATIO_FROM and part.file_size > MAX_XLSX_RATIO * max(part.compress_size, 1):
            ratio = part.file_size // max(part.compress_size, 1)
            raise file_error(
                f"{source} 中的 {part.filename} 声明解压后有 {_megabytes(part.file_size)},"
                f"压缩比 {ratio:,}:1,远超正常 Excel 文件;{bomb}"
            )


# A row element with content (``<row r="7" spans="1:3">``, not the empty ``<row r="7"/>``), with or
# without a namespace prefix.
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\b[^<>]*(?<!/)>")
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref=[\"']([A-Z]+[0-9]+:[A-Z]+[0-9]+)[\"']")


def survey_first_sheet(data: bytes, source: str, max_rows: int) -> tuple[int, int] | None:
    """Refuse a sheet with too many rows before any row is parsed: from the range it declares
    (``<dimension ref="A1:T1000001">``, at the top of its XML), then by counting its row tags as
    the XML is decompressed, stopping at the first one past the budget (a declared range can be
    missing or wrong). Neither needs the shared strings. The (rows, columns) declared, or None."""
    budget = max_rows + 1 + EXTRA_ROWS
    try:
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_workbook()
        found = next(iter(reader.parser.find_sheets()), None)
        if found is None:
            return None
        path = found[1].target
        with reader.archive.open(path) as stream:
            top = stream.read(64 * 1024)
        match = _DIMENSION.search(top[: top.find(b"<sheetData")] if b"<sheetData" in top else top)
    except Exception:  # a damaged workbook: load_workbook says so in its own words
        return None
    declared = None
    if match:
        ref = match.group(1).decode("ascii")
        _, _, columns, last_row = range_boundaries(ref)
        declared = (int(last_row), int(columns))
        if last_row > budget:
            raise file_error(
                f"工作表声明的数据范围是 {ref},共 {last_row:,} 行,一次最多导入 {max_rows:,} 行;请分成几个文件"
            )
    try:
        with reader.archive:
            rows = _count_rows(reader.archive, path, budget)
    except Exception:
        return declared
    if rows > budget:
        raise file_error(f"工作表超过 {budget:,} 行,一次最多导入 {max_rows:,} 行;请分成几个文件")
    return declared


def _count_rows(archive: zipfile.ZipFile, path: str, stop_after: int) -> int:
    """Row tags in the sheet's XML, read in 1 MB pieces; stops counting past ``stop_after``."""
    count = 0
    tail = b""
    with archive.open(path) as stream:
        while piece := stream.read(1 << 20):
            text = tail + piece
            cut = text.rfind(b"<")  # a tag never holds "<": what follows may be a tag cut in two
            if cut < 0 or len(text) - cut > 4096:
                cut = len(text)
            count += len(_ROW_TAG.findall(text, 0, cut))
            if count > stop_after:
                return count
            tail = text[cut:]
    return count + len(_ROW_TAG.findall(tail))


Records = Iterator[tuple[int, Sequence[Any]]]


@contextmanager
def _xlsx_records(data: bytes, source: str, max_rows: int) -> Iterator[tuple[Records, int | None]]:
    """The first sheet's rows as (row number, cells), streamed (openpyxl read-only), and the
    number of rows the sheet declares. The workbook is checked before anything is parsed."""
    not_excel = f"{source} 不是有效的 Excel(.xlsx)文件"
    if not data.startswith(_ZIP):
        hint = ";如果它其实是 CSV 文件,请把扩展名改为 .csv" if _looks_like_text(data) else ""
        raise file_error(not_excel + hint)
    check_xlsx_archive(data, source)
    declared = survey_first_sheet(data, source, max_rows)
    width = min(declared[1], MAX_COLUMNS) if declared else MAX_COLUMNS
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # zipfile, KeyError, openpyxl's own kinds: damaged or foreign files
        raise file_error(f"{not_excel}(无法打开:{type(err).__name__})") from None
    try:
        if not workbook.worksheets:
            raise file_error("Excel 文件中没有工作表")
        sheet = workbook.worksheets[0]
        # Cells are read up to MAX_COLUMNS whatever the sheet declares: a range of A:XFD (or a
        # cell far right) would otherwise pad every row to 16,384 cells.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(max_col=width, values_only=True)
        yield enumerate(rows, start=1), declared[0] if declared else None
    finally:
        workbook.close()


def _looks_like_text(data: bytes) -> bool:
    try:
        decode(data[:4096], "")
    except TranscriptError:
        return False
    return True


def _csv_records(data: bytes, source: str) -> Records:
    try:
        text = decode(data, source)
    except TranscriptError:
        raise file_error(f"无法识别 {source} 的文字编码,或它不是文本文件;CSV 请使用 {ENCODINGS} 编码") from None
    text = text.removeprefix("\ufeff")
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as err:
        raise file_error(f"CSV 格式错误(第 {reader.line_num} 行附近):{err}") from None


def _filled(cells: Sequence[Any]) -> bool:
    return any(_blank(c) is not None for c in cells)


def _table(
    records: Records,
    source: str,
    columns: Sequence[Column],
    max_rows: int,
    progress: Progress | None,
    declared_rows: int | None,
) -> Table:
    blank_budget = max_rows + EXTRA_ROWS  # blank lines around the data, a sheet's empty tail

    def blank(number: int) -> None:
        nonlocal blank_budget
        blank_budget -= 1
        if blank_budget < 0:
            raise file_error(f"文件中的空行过多(读到第 {number:,} 行仍未结束);请删除空行后再导入")

    header_row, header = 0, None
    for number, cells in records:
        if _filled(cells):
            header_row, header = number, cells
            break
        blank(number)
    if header is None:
        raise file_error("文件是空的(没有表头,也没有数据)")
    by_key = {header_key(name): column for column in columns for name in column.names}
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    errors: list[RowError] = []
    for index, cell in enumerate(header):
        name = "" if cell is None else str(cell).strip()
        if not name:
            continue
        column = by_key.get(header_key(name))
        if column is None:
            ignored.append(name)
            continue
        if column.field in positions:
            errors.append(RowError(header_row, name, f"与“{headers[column.field]}”是同一列,请只保留一列"))
            continue
        if column.export_only:
            continue
        positions[column.field] = index
        headers[column.field] = name
    for column in columns:
        if column.required and column.field not in positions:
            accepted = "、".join(dict.fromkeys((column.label, column.field, *column.aliases)))
            errors.append(RowError(header_row, "表头", f"缺少必需的列“{column.label}”(可用列名:{accepted})"))
    if errors:
        raise ImportRejected(errors)
    rows: list[Row] = []
    for number, cells in records:
        values = {name: _blank(cells[i]) if i < len(cells) else None for name, i in positions.items()}
        if not any(v is not None for v in values.values()):
            blank(number)
            continue
        if len(rows) == max_rows:
            raise file_error(
                f"一次最多导入 {max_rows:,} 行,这个文件更多(第 {number:,} 行已是第 {max_rows + 1:,} 条数据);"
                "请分成几个文件"
            )
        rows.append(Row(number, values))
        if progress is not None and len(rows) % PROGRESS_EVERY == 0:
            progress("读取文件", len(rows), declared_rows - header_row if declared_rows else None)
    if not rows:
        raise file_error("文件只有表头,没有数据行")
    return Table(source, header_row, headers, rows, ignored)


def _blank(value: Any) -> Any:
    """Empty → None; text trimmed, with the quote our CSV export puts before =, +, -, @ removed."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
            text = text[1:]
        return text or None
    return value


def text_value(value: Any) -> Any:
    """A cell meant as text: Excel hands numbers over as int or float (phone 13812345678.0).

    A number of more than 15 digits has already lost its last digits in Excel; that is an error
    (``ValueError``), not something to guess back."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            return str(value)
        if abs(value) >= 1e15:
            raise ValueError("Excel 把这个长数字存成了数值,末几位已丢失;请把该列设为“文本”格式后重新填写")
        value = int(value)
    return str(value)


def text_values(row: Row, fields: Sequence[str], label: Callable[[str], str]) -> tuple[dict[str, Any], list[RowError]]:
    """The row's cells for ``fields`` as text (see ``text_value``), empty ones left out."""
    values: dict[str, Any] = {}
    problems: list[RowError] = []
    for name in fields:
        try:
            value = text_value(row.values.get(name))
        except ValueError as err:
            problems.append(RowError(row.number, label(name), str(err)))
            continue
        if value is not None:
            values[name] = value
    return values, problems


@dataclass
class ImportResult:
    """What an import did (or, with ``dry_run``, would do)."""

    entity: str
    source: str
    rows: int
    created: int
    ids: list[int] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False
    assumed: list[str] = field(default_factory=list)  # what was taken for a column the file lacks

    def as_json(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "source": self.source,
            "rows": self.rows,
            "created": self.created,
            "ids": self.ids,
            "ignored_columns": self.ignored_columns,
            "dry_run": self.dry_run,
            "assumed": self.assumed,
            "message": self.message,
        }

    @property
    def message(self) -> str:
        done = "检查通过,可以导入" if self.dry_run else f"已导入 {self.created} 条"
        ignored = f";已忽略无法识别的列:{'、'.join(self.ignored_columns)}" if self.ignored_columns else ""
        assumed = "".join(f";{note}" for note in self.assumed)
        return f"{self.source}:共 {self.rows} 行,{done}{ignored}{assumed}"


@dataclass
class Checked:
    """A file whose every row passed the checks: what an import will write (pydantic items, in
    row order). Checking reads the database; writing is a separate, short transaction."""

    entity: str
    source: str
    rows: int
    items: list[Any]
    ignored_columns: list[str] = field(default_factory=list)
    assumed: list[str] = field(default_factory=list)

    def result(self, ids: Sequence[int] = (), *, dry_run: bool = False) -> ImportResult:
        return ImportResult(
            self.entity,
            self.source,
            self.rows,
            len(ids),
            list(ids),
            list(self.ignored_columns),
            dry_run,
            list(self.assumed),
        )


# ---------------------------------------------------------------------------- validation messages

_ENUM_CHOICES = {
    "direction": "呼入 或 呼出(inbound/outbound)",
    "channel": "语音 或 在线(voice/chat)",
    "hangup_by": "客服 或 客户(agent/customer)",
}


def describe(problem: Mapping[str, Any]) -> str:
    """One pydantic problem in Chinese."""
    kind, message, ctx = problem["type"], problem["msg"], problem.get("ctx") or {}
    loc = problem.get("loc") or ()
    name = str(loc[0]) if loc else ""
    if kind == "missing":
        return "必填,不能为空"
    if kind == "value_error":
        return str(message).removeprefix("Value error, ")
    if kind in ("string_too_long", "too_long"):
        return f"不能超过 {ctx.get('max_length')} 个字符"
    if kind in ("string_too_short", "too_short"):
        return "不能为空"
    if kind == "enum":
        return "应为 " + _ENUM_CHOICES.get(name, str(ctx.get("expected", "")))
    if kind.startswith("datetime") or kind.startswith("date"):
        return "时间格式不正确,应如 2026-11-22 08:15:00"
    if kind.startswith("int"):
        return "应为整数"
    if kind in ("string_type", "string_pattern_mismatch"):
        return "格式不正确"
    return str(message)


def row_errors(
    err: ValidationError, row: int, label: Callable[[str], str], default_field: str = "行"
) -> list[RowError]:
    out = []
    for problem in err.errors(include_url=False):
        loc = problem.get("loc") or ()
        field_name = str(loc[0]) if loc else ""
        out.append(RowError(row, label(field_name) if field_name else default_field, describe(problem)))
    return out


def chunks(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


T = TypeVar("T")


def counted(rows: Iterable[T], total: int, progress: Progress | None, phase: str = "生成文件") -> Iterator[T]:
    """``rows`` as they are, telling ``progress`` how many went by now and then."""
    if progress is None:
        yield from rows
        return
    progress(phase, 0, total)
    for done, row in enumerate(rows, start=1):
        yield row
        if done % PROGRESS_EVERY == 0:
            progress(phase, done, total)
