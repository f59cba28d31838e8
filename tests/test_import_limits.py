"""A file is refused from what it declares, before its rows are parsed: a zip bomb by the sizes in
its zip directory (never decompressed), a sheet of a million rows by its declared range, a sheet
without one by counting its row tags, and a CSV by a row budget while it is read."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import Workbook

from kefu.dataio import tables
from kefu.dataio.customers import CUSTOMER_COLUMNS
from kefu.dataio.tables import ImportRejected, read_table

SHEET = "xl/worksheets/sheet1.xml"


def workbook(rows: list[list[Any]], *, write_only: bool = False) -> bytes:
    """A real .xlsx; openpyxl's write-only mode writes no <dimension> (as many exporters do)."""
    book = Workbook(write_only=write_only)
    sheet = book.create_sheet() if write_only else book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewritten(data: bytes, part: str, change: Callable[[bytes], bytes]) -> bytes:
    """The workbook with one part's XML changed (what a hostile or broken exporter writes)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info.filename, change(content) if info.filename == part else content)
    return out.getvalue()


CUSTOMERS = [["姓名", "电话"], ["张伟", "13812345678"], ["李娜", "13900001111"]]


def refusal(data: bytes, name: str = "客户.xlsx", **options: Any) -> str:
    with pytest.raises(ImportRejected) as caught:
        read_table(data, name, CUSTOMER_COLUMNS, **options)
    return str(caught.value)


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The parts of any zip that get decompressed (clear it once the test's file is built)."""
    names: list[str] = []
    original = zipfile.ZipFile.open

    def spy(self: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        names.append(name.filename if isinstance(name, zipfile.ZipInfo) else str(name))
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    return names


@pytest.fixture
def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """openpyxl must not get to parse the workbook (shared strings, rows) at all."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the workbook was parsed")

    monkeypatch.setattr(tables, "load_workbook", refuse)


def test_a_zip_bomb_is_refused_from_its_zip_directory_without_decompressing_it(opened: list[str]) -> None:
    row = b'<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c></row>'
    bomb = rewritten(
        workbook(CUSTOMERS), SHEET, lambda xml: xml.replace(b"</sheetData>", row * 400_000 + b"</sheetData>")
    )
    assert len(bomb) < 200_000  # small on disk; 25 MB of XML inside
    opened.clear()
    message = refusal(bomb)
    declared = zipfile.ZipFile(io.BytesIO(bomb)).getinfo(SHEET).file_size
    assert f"{declared / (1024 * 1024):,.1f} MB" in message and "压缩比" in message and "压缩炸弹" in message
    assert message.startswith("文件:客户.xlsx 中的 xl/worksheets/sheet1.xml 声明解压后有")
    assert opened == []  # not one part was decompressed


def test_a_workbook_declaring_more_than_the_budget_is_refused_unread(
    opened: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = workbook([["姓名", "电话", "地址"], *[[f"客户{i}", f"139{i:08d}", "北京市" * 50] for i in range(300)]])
    total = sum(part.file_size for part in zipfile.ZipFile(io.BytesIO(data)).infolist())
    monkeypatch.setattr(tables, "MAX_XLSX_EXPANDED", total - 1)
    opened.clear()
    message = refusal(data)
    assert f"声明解压后有 {total / (1024 * 1024):,.1f} MB" in message and "超过上限" in message
    assert opened == []


def test_a_sheet_declaring_a_million_rows_is_refused_before_any_row_is_parsed(
    opened: list[str], no_parsing: None
) -> None:
    lying = rewritten(workbook(CUSTOMERS), SHEET, lambda xml: re.sub(rb'ref="A1:B3"', b'ref="A1:B1000001"', xml))
    opened.clear()
    message = refusal(lying)
    assert message == "文件:工作表声明的数据范围是 A1:B1000001,共 1,000,001 行,一次最多导入 50,000 行;请分成几个文件"
    assert opened.count(SHEET) == 1  # its first 64 KB, for the range


def test_a_sheet_without_a_declared_range_is_refused_by_counting_its_rows(no_parsing: None) -> None:
    data = workbook([["姓名", "电话"], *[[f"客户{i}", f"139{i:08d}"] for i in range(200)]], write_only=True)
    assert b"<dimension" not in zipfile.ZipFile(io.BytesIO(data)).read(SHEET)
    assert refusal(data, max_rows=50) == "文件:工作表超过 151 行,一次最多导入 50 行;请分成几个文件"


def test_reading_stops_at_the_first_row_past_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    data = workbook([["姓名", "电话"], *[[f"客户{i}", f"139{i:08d}"] for i in range(120)]], write_only=True)
    seen: list[int] = []
    original = tables._table

    def counting(records: Any, *args: Any) -> Any:
        def rows() -> Any:
            for record in records:
                seen.append(record[0])
                yield record

        return original(rows(), *args)

    monkeypatch.setattr(tables, "_table", counting)
    message = refusal(data, max_rows=50)
    assert message == "文件:一次最多导入 50 行,这个文件更多(第 52 行已是第 51 条数据);请分成几个文件"
    assert max(seen) == 52  # the 69 rows after it were never read


def test_a_csv_is_read_with_a_row_budget() -> None:
    data = ("姓名,电话\n" + "".join(f"客户{i},139{i:08d}\n" for i in range(1000))).encode()
    assert refusal(data, "客户.csv", max_rows=10) == (
        "文件:一次最多导入 10 行,这个文件更多(第 12 行已是第 11 条数据);请分成几个文件"
    )
    blank = ("姓名,电话\n张伟,13812345678\n" + ",\n" * 500 + "李娜,13900001111\n").encode()
    assert "空行过多" in refusal(blank, "客户.csv", max_rows=10)


def test_cells_far_to_the_right_are_not_read() -> None:
    book = Workbook()
    sheet = book.active
    for row in CUSTOMERS:
        sheet.append(row)
    sheet.cell(row=2, column=16384, value="远在 XFD 列")  # the sheet's range becomes A1:XFD3
    buffer = io.BytesIO()
    book.save(buffer)
    table = read_table(buffer.getvalue(), "客户.xlsx", CUSTOMER_COLUMNS)
    assert [(r.number, r.values["name"], r.values["phone"]) for r in table.rows] == [
        (2, "张伟", "13812345678"),
        (3, "李娜", "13900001111"),
    ]


def test_a_normal_workbook_still_reads_in_full() -> None:
    rows = [["姓名", "电话"], *[[f"客户{i}", f"139{i:08d}"] for i in range(300)]]
    for write_only in (False, True):
        table = read_table(workbook(rows, write_only=write_only), "客户.xlsx", CUSTOMER_COLUMNS, max_rows=300)
        assert len(table.rows) == 300 and table.rows[-1].values == {"name": "客户299", "phone": "13900000299"}
