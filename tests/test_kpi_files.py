"""``kefu kpi`` from exported records: each kind of file, CSV or Excel, recognised by its header;
every bad row reported at once; and a month's evaluation of two agents checked by hand — computed
by the functions the platform uses (kefu.performance.summary.evaluate_month)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner, Result

from kefu.cli import Failure, app
from kefu.core.clock import on_centre_clock, utc_for_storing
from kefu.dataio.performance import FilesRejected, read_record_file, read_records, within_month
from kefu.dataio.tables import ImportRejected
from kefu.performance.kpi import CallFact
from kefu.performance.records import Attendance, QaScore, Records

FORMATS = ("csv", "xlsx")


def t(text: str) -> datetime:
    """A time as typed in a file: no zone, so on the centre's clock."""
    return datetime.fromisoformat(text)


def cell(value: Any) -> str:
    """A value as a CSV export writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def table(fmt: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """CSV text, or a workbook keeping Excel's own values (numbers, times, dates, TRUE/FALSE)."""
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows([cell(v) for v in row] for row in rows)
        return text.getvalue().encode("utf-8")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def clock(moment: datetime) -> datetime:
    """A stored (UTC) time back on the centre's clock, as typed."""
    return on_centre_clock(moment).replace(tzinfo=None)


# ---------------------------------------------------------------- each kind of file


@pytest.mark.parametrize("fmt", FORMATS)
def test_quality_scores(fmt: str) -> None:
    data = table(
        fmt,
        ["通话编号", "工号", "振铃时间", "质检得分"],
        [["A1", "10001", t("2026-11-03 09:00:00"), 85], ["A2", 10002, t("2026-11-04 10:30:00"), 92.5]],
    )
    read = read_record_file(data, f"质检.{fmt}")
    assert read.kind.key == "qa" and read.beyond_calls
    got = [(q.call_id, q.agent, clock(q.at), q.score) for q in read.records.qa]
    assert got == [("A1", "10001", t("2026-11-03 09:00"), 85.0), ("A2", "10002", t("2026-11-04 10:30"), 92.5)]


def test_quality_scores_dated_by_when_they_were_scored() -> None:
    data = table("csv", ["工号", "通话编号", "质检时间", "得分"], [["10001", "A1", "2026/11/05 14:00", "70"]])
    (score,) = read_record_file(data, "qa.csv").records.qa
    assert clock(score.at) == t("2026-11-05 14:00") and score.score == 70.0


@pytest.mark.parametrize("fmt", FORMATS)
def test_surveys(fmt: str) -> None:
    data = table(
        fmt,
        ["工号", "时间", "满意度", "通话编号"],
        [[10001, t("2026-11-03 09:05:00"), 5, "A1"], ["10002", t("2026-11-03 10:05:00"), "不满意", None]],
    )
    read = read_record_file(data, f"满意度.{fmt}")
    assert read.kind.key == "surveys"
    got = [(s.agent, clock(s.at), s.answer, s.satisfied, s.call_id) for s in read.records.surveys]
    assert got == [
        ("10001", t("2026-11-03 09:05"), 5, True, "A1"),
        ("10002", t("2026-11-03 10:05"), "不满意", False, None),
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_sales(fmt: str) -> None:
    data = table(
        fmt,
        ["工号", "时间", "是否成交", "金额", "产品"],
        [
            ["10001", t("2026-11-03 09:05:00"), True, 199.5, "流量包"],
            ["10001", t("2026-11-04 09:05:00"), False, None, ""],
        ],
    )
    read = read_record_file(data, f"销售.{fmt}")
    assert read.kind.key == "sales" and read.ignored_columns == ("产品",)
    assert [(s.agent, s.converted, s.amount, s.call_id) for s in read.records.sales] == [
        ("10001", True, 199.5, None),
        ("10001", False, 0.0, None),
    ]


def test_sales_take_every_way_of_writing_yes_and_no() -> None:
    rows = [["10001", "2026-11-03 09:00", flag] for flag in ("是", "否", "1", "0", "true", "FALSE")]
    sales = read_record_file(table("csv", ["工号", "时间", "是否成交"], rows), "sales.csv").records.sales
    assert [s.converted for s in sales] == [True, False, True, False, True, False]


@pytest.mark.parametrize("fmt", FORMATS)
def test_business_errors(fmt: str) -> None:
    data = table(
        fmt,
        ["工号", "时间", "通话编号", "说明"],
        [["10001", t("2026-11-03 09:05:00"), "A1", "套餐办错"], ["10002", t("2026-11-05 11:00:00"), None, None]],
    )
    read = read_record_file(data, f"差错.{fmt}")
    assert read.kind.key == "errors"
    assert [(e.agent, clock(e.at), e.call_id, e.note) for e in read.records.errors] == [
        ("10001", t("2026-11-03 09:05"), "A1", "套餐办错"),
        ("10002", t("2026-11-05 11:00"), None, None),
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_attendance(fmt: str) -> None:
    data = table(
        fmt,
        ["工号", "日期", "排班分钟", "出勤分钟"],
        [["10001", date(2026, 11, 3), 480, 465], ["10002", date(2026, 11, 4), 240, 240.5]],
    )
    read = read_record_file(data, f"出勤.{fmt}")
    assert read.kind.key == "attendance"
    assert read.records.attendance == [
        Attendance("10001", date(2026, 11, 3), 480.0, 465.0),
        Attendance("10002", date(2026, 11, 4), 240.0, 240.5),
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_people(fmt: str) -> None:
    data = table(fmt, ["工号", "姓名", "班组"], [[10001, "张三", "一组"], ["10002", "李四", None]])
    read = read_record_file(data, f"人员.{fmt}")
    assert read.kind.key == "people" and read.beyond_calls
    assert {a: (p.name, p.team) for a, p in read.records.people.items()} == {
        "10001": ("张三", "一组"),
        "10002": ("李四", None),
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_platforms_call_export_gives_the_offered_calls_and_their_scores(fmt: str) -> None:
    """The headers kefu's own call export writes: outbound calls are no offered calls (their QA
    score still counts, as on the platform); a customer is its number, else ``c<客户编号>`` (an
    abandoned repeat carries only the number)."""
    header = ["通话编号", "呼叫方向", "工号", "客服姓名", "客户编号", "来电号码", "振铃时间", "接听时间", "结束时间",
              "保持时长(秒)", "话后处理时长(秒)", "来电原因", "质检得分", "转写"]  # fmt: skip
    rows = [
        ["7", "呼入", "10001", "张三", 12, "13800000001", t("2026-11-03 09:00:00"), t("2026-11-03 09:00:08"),
         t("2026-11-03 09:03:08"), 10, 30, "账单", 88, "客服: 您好"],
        ["8", "呼出", "10001", "张三", 12, "13800000001", t("2026-11-03 11:00:00"), t("2026-11-03 11:00:05"),
         t("2026-11-03 11:02:05"), None, None, "回访", 70, None],
        ["9", "呼入", None, None, None, "13800000009", t("2026-11-03 12:00:00"), None,
         t("2026-11-03 12:00:40"), None, None, "未接通", None, None],
    ]  # fmt: skip
    read = read_record_file(table(fmt, header, rows), f"通话.{fmt}")
    assert read.kind.key == "calls" and read.beyond_calls and read.ignored_columns == ("转写",)
    calls = read.records.calls
    assert [(c.call_id, c.agent, c.customer, c.handling_seconds) for c in calls] == [
        ("7", "10001", "13800000001", 180 + 10 + 30),
        ("9", None, "13800000009", None),
    ]
    assert [(q.call_id, q.agent, q.score) for q in read.records.qa] == [("7", "10001", 88.0), ("8", "10001", 70.0)]
    assert read.records.people["10001"].name == "张三"


def test_a_switch_cdr_alone_is_calls_only() -> None:
    data = table("csv", ["振铃时间", "接听时间", "工号"], [["2026-11-03 09:00", "2026-11-03 09:00:05", "10001"]])
    read = read_record_file(data, "cdr.csv")
    assert read.kind.key == "calls" and not read.beyond_calls and len(read.records.calls) == 1


# ---------------------------------------------------------------- what is refused


def test_every_bad_row_is_reported_at_once() -> None:
    data = table(
        "csv",
        ["工号", "时间", "满意度"],
        [["", "明天", "很好"], ["10001", "2026-11-03 09:00", "4"], ["10002", "2026-11-03 09:00", "6"]],
    )
    with pytest.raises(ImportRejected) as rejected:
        read_record_file(data, "满意度.csv")
    assert [str(e) for e in rejected.value.errors] == [
        "第 2 行:工号:不能为空",
        "第 2 行:时间:时间格式不正确,应如 2026-11-22 08:15:00",
        "第 2 行:满意度:应为 1–5 或 满意/一般/不满意",
        "第 4 行:满意度:应为 1–5 或 满意/一般/不满意",
    ]


def test_bad_rows_of_an_excel_file() -> None:
    data = table(
        "xlsx",
        ["工号", "日期", "排班分钟", "出勤分钟"],
        [["10001", "昨天", 480, 2000], ["10001", date(2026, 11, 3), "八小时", 480]],
    )
    with pytest.raises(ImportRejected) as rejected:
        read_record_file(data, "出勤.xlsx")
    assert [str(e) for e in rejected.value.errors] == [
        "第 2 行:日期:日期格式不正确,应如 2026-11-22",
        "第 2 行:出勤分钟:应在 0 到 1440 分钟之间",
        "第 3 行:排班分钟:应为分钟数",
    ]


def test_the_problems_of_every_file_together_each_with_its_file() -> None:
    scores = table("csv", ["通话编号", "工号", "振铃时间", "质检得分"], [["A1", "10001", "2026-11-03 09:00", "850"]])
    people = table("csv", ["工号", "姓名"], [["10001", "张三"], ["10001", "张三丰"]])
    with pytest.raises(FilesRejected) as rejected:
        read_records([(scores, "质检.csv"), (people, "人员.csv")])
    assert str(rejected.value).splitlines() == [
        "质检.csv:第 2 行:质检得分:应在 0 到 100 分之间",
        "人员.csv:第 3 行:工号:工号 10001 与第 2 行重复",
    ]


def test_a_file_of_no_known_kind_names_the_file_and_the_kinds() -> None:
    with pytest.raises(ImportRejected) as rejected:
        read_record_file(table("csv", ["产品", "数量"], [["流量包", "3"]]), "库存.csv")
    message = str(rejected.value)
    assert message.startswith("库存.csv:无法识别是哪一类记录")
    for kind in ("话单:振铃时间", "质检得分:通话编号、工号、质检得分", "满意度:工号、时间、满意度",
                 "销售:工号、时间、是否成交", "业务差错:工号、时间", "出勤:工号、日期、排班分钟、出勤分钟",
                 "人员名单:工号,及姓名或班组"):  # fmt: skip
        assert kind in message


def test_a_misspelt_survey_column_is_not_read_as_business_errors() -> None:
    """工号 and 时间 alone make a business-error file: a survey whose 满意度 column is named
    otherwise would count every answer as an error."""
    data = table("csv", ["工号", "时间", "满意度打分"], [["10001", "2026-11-03 09:00", "5"]])
    with pytest.raises(ImportRejected) as rejected:
        read_record_file(data, "survey.csv")
    assert "列“满意度打分”像是满意度文件的列" in str(rejected.value)


def test_a_quality_file_needs_a_time() -> None:
    with pytest.raises(ImportRejected) as rejected:
        read_record_file(table("csv", ["通话编号", "工号", "质检得分"], [["A1", "10001", "80"]]), "qa.csv")
    assert "缺少“振铃时间”或“质检时间”列" in str(rejected.value)


# ---------------------------------------------------------------- the month


def test_the_month_is_the_centres_calendar_month() -> None:
    def call(ring: str) -> CallFact:
        return CallFact(ring, utc_for_storing(t(ring)), agent="10001")  # UTC, as read from a file

    records = Records(
        calls=[call("2026-10-31 23:59:00"), call("2026-11-01 00:00:00"), call("2026-11-30 23:59:00"),
               call("2026-12-01 00:00:00"), call("2026-12-07 23:59:00"), call("2026-12-08 00:00:00")],
        qa=[QaScore("A", "10001", utc_for_storing(t("2026-11-30 23:30:00")), 80),
            QaScore("B", "10001", utc_for_storing(t("2026-12-01 00:30:00")), 0)],
        attendance=[Attendance("10001", date(2026, 11, 30), 480, 480), Attendance("10001", date(2026, 12, 1), 480, 0)],
    )  # fmt: skip
    month = within_month(records, "2026-11", fcr_days=7)
    assert [c.call_id for c in month.calls] == ["2026-11-01 00:00:00", "2026-11-30 23:59:00"]
    assert [c.call_id for c in month.later] == ["2026-12-01 00:00:00", "2026-12-07 23:59:00"]
    assert [q.call_id for q in month.qa] == ["A"] and [a.day for a in month.attendance] == [date(2026, 11, 30)]


# ---------------------------------------------------------------- kefu kpi, end to end


def write(folder: Path, name: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    path = folder / name
    path.write_bytes(table(path.suffix.lstrip("."), header, rows))
    return path


def month_files(folder: Path) -> list[Path]:
    """November 2026 of two agents, and a few records outside it that must not count.

    10001 张三(一组):100 answered calls of 200 s talk + 40 s after-call work; QA 90 and 80;
    19 of 20 surveys satisfied; 1 of 10 offers taken; 2 business errors on two calls.
    10002 李四(二组):20 answered calls of 400 s talk + 20 s hold; QA 60; 2 of 2 satisfied;
    no offers; 1 business error without a call.

    By the scales of kefu.performance.evaluation (worst → 0, best → 100, linear, clamped):
    10001  通话质量 85 → 85;满意度 0.95 → 100;处理时长 240 s → (480 − 240) / 300 = 80;
           准确率 98/100 → (0.98 − 0.90) / 0.10 = 80;转化率 0.10 → 0.10 / 0.20 = 50.
           总分 0.30·85 + 0.25·100 + 0.20·80 + 0.15·80 + 0.10·50 = 25.5 + 25 + 16 + 12 + 5 = 83.5 → B+ 良好
    10002  通话质量 60 → 60;满意度 1.0 → 100;处理时长 420 s → (480 − 420) / 300 = 20;
           准确率 19/20 → 50;销售 no data: left out, the other weights scaled up to 100% (÷ 0.90).
           总分 (0.30·60 + 0.25·100 + 0.20·20 + 0.15·50) / 0.90 = 54.5 / 0.90 = 60.56 → C 需改进
    月度之星: 10001 only (100 calls, the threshold); alone in 一组, so adjusted = 83.5.
    """
    calls = []
    for i in range(100):
        ring = t("2026-11-02 09:00:00") + timedelta(days=i // 10, minutes=15 * (i % 10))
        answer = ring + timedelta(seconds=10)
        calls.append([f"C1-{i}", ring, answer, answer + timedelta(seconds=200), "10001", f"1390000{i:04d}", None, 40])
    for i in range(20):
        ring = t("2026-11-16 14:00:00") + timedelta(days=i // 10, minutes=15 * (i % 10))
        answer = ring + timedelta(seconds=10)
        calls.append([f"C2-{i}", ring, answer, answer + timedelta(seconds=400), "10002", f"1370000{i:04d}", 20, None])
    calls.append(["C0", t("2026-11-20 10:00:00"), None, t("2026-11-20 10:01:00"), None, "13600000000", None, None])
    # December, on the centre's clock: a long call that would change 10001's handling time.
    calls.append(["C9", t("2026-12-01 00:30:00"), t("2026-12-01 00:30:05"), t("2026-12-01 01:30:00"), "10001",
                  "13500000000", None, None])  # fmt: skip
    surveys = [["10001", t("2026-11-05 10:00:00"), 5, f"C1-{i}"] for i in range(19)]
    surveys += [
        ["10001", t("2026-11-06 10:00:00"), "不满意", "C1-30"],
        ["10002", t("2026-11-16 15:00:00"), "满意", None],
    ]
    surveys += [["10002", t("2026-11-17 15:00:00"), 4, "C2-12"], ["10002", t("2026-10-31 23:59:00"), 1, None]]
    sales = [["10001", t("2026-11-07 10:00:00"), i == 0, 300 if i == 0 else None] for i in range(10)]
    scores = [
        ["C1-1", "10001", t("2026-11-02 09:15:00"), 90],
        ["C1-2", "10001", t("2026-11-02 09:30:00"), 80],
        ["C2-1", 10002, t("2026-11-16 14:15:00"), 60],
        ["C9", "10001", t("2026-12-01 00:30:00"), 0],
    ]
    errors = [
        ["10001", t("2026-11-03 10:00:00"), "C1-5", "套餐办错"],
        ["10001", t("2026-11-04 10:00:00"), "C1-6", ""],
        ["10002", t("2026-11-18 10:00:00"), None, "地址录错"],
    ]
    attendance = [["10001", date(2026, 11, 2), 480, 480], ["10002", date(2026, 11, 16), 480, 450]]
    cdr = ["通话编号", "振铃时间", "接听时间", "挂机时间", "工号", "主叫号码", "保持时长", "话后处理时长"]
    return [
        write(folder, "话单.csv", cdr, calls),
        write(folder, "质检.xlsx", ["通话编号", "工号", "振铃时间", "质检得分"], scores),
        write(folder, "满意度.csv", ["工号", "时间", "满意度", "通话编号"], surveys),
        write(folder, "销售.csv", ["工号", "时间", "是否成交", "金额"], sales),
        write(folder, "差错.csv", ["工号", "时间", "通话编号", "说明"], errors),
        write(folder, "出勤.xlsx", ["工号", "日期", "排班分钟", "出勤分钟"], attendance),
        write(folder, "人员.csv", ["工号", "姓名", "班组"], [["10001", "张三", "一组"], ["10002", "李四", "二组"]]),
    ]


def kefu_kpi(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["kpi", *map(str, args)], env={"COLUMNS": "250", "NO_COLOR": "1"})


def refusal(result: Result) -> str:
    assert isinstance(result.exception, Failure), result.output
    return str(result.exception)


def test_kefu_kpi_evaluates_the_month_as_json(tmp_path: Path) -> None:
    done = kefu_kpi(*month_files(tmp_path), "--month", "2026-11", "--format", "json")
    assert done.exit_code == 0, done.output
    rows = {row["agent_no"]: row for row in json.loads(done.stdout)}
    assert sorted(rows) == ["10001", "10002"]
    first, second = rows["10001"], rows["10002"]
    assert (first["name"], first["team"], first["agent_id"], first["calls"]) == ("张三", "一组", None, 100)
    assert {p["key"]: (p["raw"], p["score"]) for p in first["parts"]} == {
        "quality": (85.0, 85.0),
        "satisfaction": (0.95, 100.0),
        "efficiency": (240.0, 80.0),
        "accuracy": (0.98, 80.0),
        "sales": (0.1, 50.0),
    }
    assert (first["total"], first["grade"], first["grade_label"]) == (83.5, "B+", "良好")
    assert (second["name"], second["team"], second["calls"], second["missing"]) == ("李四", "二组", 20, ["销售业绩"])
    assert {p["key"]: p["score"] for p in second["parts"]} == {
        "quality": 60.0,
        "satisfaction": 100.0,
        "efficiency": 20.0,
        "accuracy": 50.0,
    }
    assert (second["total"], second["grade"], second["grade_label"]) == (60.56, "C", "需改进")
    assert first["kpis"]["attendance"]["value"] == 1.0 and second["kpis"]["attendance"]["value"] == 450 / 480
    assert "不在 2026-11 的记录 3 条,未计入" in done.stderr  # C9, its QA score, the October survey
    assert "质检.xlsx:质检得分,4 行" in done.stderr


def test_kefu_kpi_prints_the_evaluation_and_the_stars(tmp_path: Path) -> None:
    done = kefu_kpi(*month_files(tmp_path), "--month", "2026-11")
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    first = next(line for line in lines if "10001" in line and "张三" in line)
    for shown in ("一组", "100", "85(85.0)", "100(95.0%)", "80(240 秒)", "80(98.0%)", "50(10.0%)", "83.50", "B+ 良好"):
        assert shown in first, first
    second = next(line for line in lines if "10002" in line and "李四" in line)
    for shown in ("二组", "60(60.0)", "20(420 秒)", "50(95.0%)", "—", "60.56", "C 需改进"):
        assert shown in second, second
    assert "没有数据、不计入总分(其余维度按权重放大):销售业绩 — 10002" in done.stdout
    assert "1. 10001 张三(一组) 总分 83.5,收缩后 83.5,接听 100 通" in done.stdout
    assert "10002 李四(二组) 总分" not in done.stdout  # 20 calls: below the threshold


def test_kefu_kpi_writes_the_hr_workbook(tmp_path: Path) -> None:
    target = tmp_path / "2026-11绩效.xlsx"
    done = kefu_kpi(*month_files(tmp_path), "--month", "2026-11", "--format", "xlsx", "--output", target)
    assert done.exit_code == 0, done.output
    book = load_workbook(target, read_only=True)
    header, *rows = [list(r) for r in book["月度绩效"].iter_rows(values_only=True)]
    by_agent = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    first, second = by_agent["10001"], by_agent["10002"]
    assert (first["姓名"], first["班组"], first["接听量"]) == ("张三", "一组", 100)
    assert (first["通话质量(实际)"], first["通话质量得分"], first["工作效率(实际)"]) == ("85.0", 85, "240 秒")
    assert (first["总分"], first["等级"], first["等级说明"], first["出勤率"]) == (83.5, "B+", "良好", "100.0%")
    assert (second["销售业绩(实际)"], second["总分"], second["等级"]) == ("无数据", 60.56, "C")
    assert second["说明"] == "不计入:销售业绩"
    explanation = dict(list(r)[:2] for r in book["计算说明"].iter_rows(min_row=2, values_only=True))
    assert explanation["月份"] == "2026-11" and explanation["状态"] == "由 kefu kpi 从导出文件计算"
    assert "话单.csv" in explanation["数据来源"]


def test_kefu_kpi_by_team_lists_the_kpis_instead(tmp_path: Path) -> None:
    done = kefu_kpi(*month_files(tmp_path), "--month", "2026-11", "--by", "team", "--format", "json")
    assert done.exit_code == 0, done.output
    teams = json.loads(done.stdout)
    assert sorted(teams) == ["(未分组)", "一组", "二组"]  # C0: abandoned, nobody's
    assert teams["一组"]["quality"]["value"] == 85.0 and teams["二组"]["handling"]["value"] == 420.0
    assert "grade" not in teams["一组"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "质检、满意度等考核记录按月计算,请用 --month 指定月份"),
        (["--month", "2026-11", "--format", "xlsx"], "--format xlsx 需要用 --output 指定写入的文件"),
        (["--month", "2026-11", "--format", "table", "--output", "x.json"], "--output 只用于 --format json 或 xlsx"),
        (
            ["--month", "2026-11", "--by", "team", "--format", "xlsx", "--output", "x.xlsx"],
            "--format xlsx 输出月度考核表",
        ),
        (["--month", "11/2026"], "--month 应为 年-月,如 2026-11,而不是「11/2026」"),
    ],
)
def test_kefu_kpi_refuses_what_it_cannot_do(tmp_path: Path, args: list[str], message: str) -> None:
    assert refusal(kefu_kpi(*month_files(tmp_path), *args)).startswith(message)


def test_kefu_kpi_names_a_file_it_does_not_recognise(tmp_path: Path) -> None:
    stock = write(tmp_path, "库存.csv", ["产品", "数量"], [["流量包", 3]])
    message = refusal(kefu_kpi(*month_files(tmp_path), stock, "--month", "2026-11"))
    assert message.startswith("库存.csv:无法识别是哪一类记录") and "满意度:工号、时间、满意度" in message


def test_a_call_exported_twice_counts_once(tmp_path: Path) -> None:
    header = ["通话编号", "振铃时间", "接听时间", "结束时间", "工号"]
    rows = [
        ["A-1", "2026-11-03 09:00:00", "2026-11-03 09:00:10", "2026-11-03 09:03:10", "10001"],
        ["A-2", "2026-11-03 09:05:00", "2026-11-03 09:05:40", "2026-11-03 09:08:40", "10001"],
    ]
    first = tmp_path / "十一月上.csv"
    second = tmp_path / "十一月全.csv"  # overlaps the first
    for path, content in ((first, rows[:1]), (second, rows)):
        with path.open("w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows([header, *content])
    result = kefu_kpi(first, second, "--month", "2026-11", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "有 1 通电话的通话编号重复出现" in result.stderr
    figures = json.loads(result.stdout)["全中心"]
    assert (figures["offered"], figures["service_level"]["numerator"]) == (2, 1)
