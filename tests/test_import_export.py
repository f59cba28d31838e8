"""Import of customers and calls from CSV and Excel, export to CSV and Excel: bad rows reported by
spreadsheet row number, nothing half-imported, duplicates caught, Chinese encodings, round trips."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import delete, func, select

from conftest import reader
from kefu.accounts import service as accounts
from kefu.calls import service as calls
from kefu.calls.models import CallRecord
from kefu.calls.schemas import CallCreate, CallFilter
from kefu.core import audit
from kefu.core.audit import AuditEntry
from kefu.core.clock import centre_tz
from kefu.core.db import transaction
from kefu.core.errors import Invalid
from kefu.core.security import Role
from kefu.customers import service as customers
from kefu.customers.models import Customer
from kefu.customers.schemas import CustomerCreate
from kefu.dataio import (
    ImportRejected,
    export_calls,
    export_customers,
    export_rows,
    import_calls,
    import_customers,
    transcript_text,
)
from kefu.flows import intake

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rejected(run: Any) -> list[str]:
    """The problems an import reports, as the user reads them."""
    with pytest.raises(ImportRejected) as caught:
        run()
    assert str(caught.value) == "\n".join(str(e) for e in caught.value.errors)
    return [str(e) for e in caught.value.errors]


def counts(sessions: Any) -> tuple[int, int, int]:
    with sessions() as session:
        return (
            session.scalar(select(func.count(Customer.id))),
            session.scalar(select(func.count(CallRecord.id))),
            session.scalar(select(func.count(AuditEntry.id))),
        )


@pytest.fixture
def world(sessions):  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        agent = accounts.do_create_user(
            session, None, agent_no="12345", name="小李", role=Role.AGENT, password="kefu2026"
        )
    return sessions, agent.id


# ---------------------------------------------------------------------------- customers


def test_customers_from_csv(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent = world
    with transaction(sessions) as session:
        result = import_customers(session, agent, (FIXTURES / "customers.csv").read_bytes(), "customers.csv")
    assert (result.rows, result.created, len(result.ids)) == (3, 3, 3)
    assert result.message == "customers.csv:共 3 行,已导入 3 条"
    with sessions() as session:
        zhang, li, wang = (customers.get_customer(session, i) for i in result.ids)
        assert (zhang.name, zhang.phone, zhang.account_id) == ("张伟", "13812345678", "A1001")
        assert zhang.id_number == "110101199003074518" and zhang.notes == "VIP 客户"
        assert li.id_number is None and li.notes is None
        assert wang.phone == "010-62345678" and wang.notes == "座机,白天联系"
        [entry] = [e for e in audit.entries(session, entity="customer") if e.action == "import"]
    assert entry.actor_id == agent and entry.changes == {"created": [None, 3], "ids": [None, result.ids]}
    assert "customers.csv" in entry.detail and "新增 3 条" in entry.detail


def test_customers_from_excel_with_english_headers_and_numbers_for_phones(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent = world
    data = xlsx(
        [
            ["Name", "Phone", "account_id", "ID_Number", "Address", "Notes", "序号"],
            ["张伟", 13812345678, "A1001", "110101199003074518", "北京市海淀区科技路100号", None, 1],
            [],  # a blank row is skipped, and does not shift the numbering of later rows
            ["李娜", 13900001111.0, 2002, None, None, "老客户", 2],
        ]
    )
    with transaction(sessions) as session:
        result = import_customers(session, agent, data, "客户.xlsx")
    assert result.created == 2 and result.ignored_columns == ["序号"]
    assert "已忽略无法识别的列:序号" in result.message
    with sessions() as session:
        li = customers.get_customer(session, result.ids[1])
    assert (li.phone, li.account_id, li.notes) == ("13900001111", "2002", "老客户")


def test_bad_rows_are_reported_by_row_number_and_nothing_is_imported(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent = world
    data = "\n".join(
        [
            "姓名,电话,账户,证件号码,地址,备注",
            "张伟,13812345678,A1001,,,",  # row 2: good
            ",13900001111,A1002,,,",  # row 3: no name
            "王芳,12345,A1003,,,",  # row 4: bad phone
            "",  # row 5: blank
            "赵敏,13700001111,A1004,1234,,",  # row 6: bad ID number
            "孙丽,13600001111,A1005,," + "长" * 300 + ",",  # row 7: address too long
        ]
    ).encode()
    before = counts(sessions)
    problems = rejected(lambda: _import_customers(sessions, agent, data, "bad.csv"))
    assert problems == [
        "第 3 行:姓名:必填,不能为空",
        "第 4 行:电话:电话号码格式不正确(手机 11 位,或区号-座机号)",
        "第 6 行:证件号码:证件号码应为 18 位(最后一位可为 X)",
        "第 7 行:地址:不能超过 256 个字符",
    ]
    assert counts(sessions) == before  # not even the good row, and no audit entry


def _import_customers(sessions: Any, agent: int, data: bytes, name: str) -> Any:
    with transaction(sessions) as session:
        return import_customers(session, agent, data, name)


def test_a_gb18030_csv_from_chinese_excel(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent = world
    data = (FIXTURES / "customers_gb18030.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = _import_customers(sessions, agent, data, "客户.csv")
    with sessions() as session:
        names = [customers.get_customer(session, i).name for i in result.ids]
    assert names == ["张伟", "李娜", "王芳"]


def test_duplicates_in_the_file_and_in_the_database(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent = world
    with transaction(sessions) as session:
        old = customers.do_create_customer(
            session, agent, CustomerCreate(name="老客户", phone="13800000000", account_id="A9")
        )
        landline = customers.do_create_customer(session, agent, CustomerCreate(name="座机", phone="010-62345678"))
    data = xlsx(
        [
            ["姓名", "电话", "账户"],
            ["甲", "13811111111", "A1"],
            ["乙", "13822222222", "A1"],  # same account as row 2
            ["丙", "13811111111", "A3"],  # same phone as row 2
            ["丁", "138 0000 0000", None],  # a customer's phone already
            ["戊", "13844444444", "A9"],  # an account already
            ["己", "01062345678", None],  # the landline, written without the dash
        ]
    )
    before = counts(sessions)
    assert rejected(lambda: _import_customers(sessions, agent, data, "dup.xlsx")) == [
        "第 3 行:账户:账户 A1 与第 2 行重复",
        "第 4 行:电话:电话 13811111111 与第 2 行重复",
        f"第 5 行:电话:电话 13800000000 已属于客户(客户编号 {old.id})",
        f"第 6 行:账户:账户 A9 已存在(客户编号 {old.id})",
        f"第 7 行:电话:电话 01062345678 已属于客户(客户编号 {landline.id})",
    ]
    assert counts(sessions) == before


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "a.csv", "文件:文件是空的"),
        (b"\xef\xbb\xbf\r\n , \r\n", "a.csv", "文件:文件是空的(没有表头,也没有数据)"),
        ("姓名,电话\n".encode(), "a.csv", "文件:文件只有表头,没有数据行"),
        ("姓名,地址\n张伟,北京\n".encode(), "a.csv", "第 1 行:表头:缺少必需的列“电话”(可用列名:电话、phone、手机"),
        ("姓名,电话,手机\n张伟,1,2\n".encode(), "a.csv", "第 1 行:手机:与“电话”是同一列,请只保留一列"),
        (
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
            "customers.xlsx",
            "文件:customers.xlsx 不是有效的 Excel(.xlsx)文件",
        ),
        ("姓名,电话\n张伟,13812345678\n".encode(), "a.xlsx", "不是有效的 Excel(.xlsx)文件;如果它其实是 CSV 文件"),
        (b"PK\x03\x04not really a zip", "a.xlsx", "文件:a.xlsx 不是有效的 Excel(.xlsx)文件(无法打开"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old.xls", "旧版 Excel(.xls)文件,不支持"),
        ("姓名,电话\n张伟,13812345678\n".encode("utf-16-le"), "a.csv", "无法识别 a.csv 的文字编码"),
        (bytes(range(128, 256)) * 4, "a.csv", "无法识别 a.csv 的文字编码"),
        (b"name,phone\n", "a.pdf", "不支持的文件类型“.pdf”"),
    ],
)
def test_unreadable_files_get_a_clear_error(world, data: bytes, name: str, message: str) -> None:  # type: ignore[no-untyped-def]
    sessions, agent = world
    before = counts(sessions)
    problems = rejected(lambda: _import_customers(sessions, agent, data, name))
    assert any(message in p for p in problems), problems
    assert counts(sessions) == before


def test_a_long_number_excel_already_rounded_is_an_error(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent = world
    data = xlsx([["姓名", "电话", "证件号码"], ["张伟", "13812345678", 1.10101199003074e17]])
    problems = rejected(lambda: _import_customers(sessions, agent, data, "a.xlsx"))
    assert problems == ["第 2 行:证件号码:Excel 把这个长数字存成了数值,末几位已丢失;请把该列设为“文本”格式后重新填写"]


def test_a_dry_run_checks_without_writing(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent = world
    before = counts(sessions)
    with transaction(sessions) as session:
        result = import_customers(session, agent, (FIXTURES / "customers.csv").read_bytes(), "c.csv", dry_run=True)
    assert result.dry_run and result.rows == 3 and result.created == 0 and "检查通过" in result.message
    assert counts(sessions) == before


def test_customers_round_trip(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent = world
    _import_customers(sessions, agent, (FIXTURES / "customers.csv").read_bytes(), "c.csv")
    fields = ("name", "phone", "account_id", "id_number", "email", "address", "notes")
    with sessions() as session:
        before = [tuple(getattr(c, f) for f in fields) for c in session.scalars(select(Customer).order_by(Customer.id))]
    for fmt in ("csv", "xlsx"):
        with transaction(sessions) as session:
            data = export_customers(session, reader(user_id=agent), fmt)
            session.execute(delete(Customer))
        _import_customers(sessions, agent, data, f"export.{fmt}")
        with sessions() as session:
            after = [
                tuple(getattr(c, f) for f in fields) for c in session.scalars(select(Customer).order_by(Customer.id))
            ]
        assert after == before, fmt
    with sessions() as session:
        exports = [e.detail for e in audit.entries(session, entity="customer") if e.action == "export"]
    assert exports == ["导出客户 3 条(xlsx,未脱敏)", "导出客户 3 条(csv,未脱敏)"]


# ---------------------------------------------------------------------------- calls


@pytest.fixture
def centre(world):  # type: ignore[no-untyped-def]
    sessions, agent = world
    with transaction(sessions) as session:
        zhang = customers.do_create_customer(
            session, agent, CustomerCreate(name="张伟", phone="13812345678", account_id="A1001")
        )
    return sessions, agent, zhang.id


def _import_calls(sessions: Any, agent: int, data: bytes, name: str) -> Any:
    with transaction(sessions) as session:
        return import_calls(session, agent, data, name)


def test_calls_with_transcripts_from_csv(centre) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, zhang = centre
    result = _import_calls(sessions, agent, (FIXTURES / "calls.csv").read_bytes(), "calls.csv")
    assert result.created == 4
    with sessions() as session:
        first, cross, callback, silent = (calls.get_call(session, i) for i in result.ids)
        assert first.external_id == "20261122-0001" and first.customer_id == zhang and first.agent_id == agent
        assert first.reason == "consult.tariff" and first.talk_seconds == 184 and not first.night_service
        assert first.transcript[0] == {
            "speaker": "agent",
            "text": "早上好,感谢致电智能科技客服中心,我是客服小李,工号12345,很高兴为您服务。",
            "start": 0.0,
            "end": 4.1,
        }
        assert len(first.transcript) == 3
        assert cross.reason == "cross_region" and cross.night_service and cross.customer_id is None
        assert cross.hangup_by == "agent" and cross.caller_number == "07698123456"
        assert callback.direction == "outbound" and callback.reason == "callback"
        assert [t["speaker"] for t in callback.transcript] == ["agent", "customer"]
        assert silent.answered_at is None and silent.transcript is None and silent.reason == "silent"
        [entry] = [e for e in audit.entries(session, entity="call") if e.action == "import"]
    assert entry.changes["created"] == [None, 4] and "calls.csv" in entry.detail


def test_calls_from_excel_with_time_cells(centre) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, zhang = centre
    ring = datetime(2026, 11, 22, 23, 30)  # Excel times have no zone: the centre's clock
    data = xlsx(
        [
            ["direction", "agent_no", "customer_id", "ring_at", "answered_at", "ended_at", "reason", "transcript"],
            ["inbound", 12345, zhang, ring, ring + timedelta(seconds=8), ring + timedelta(minutes=2), "fault",
             "客服: 您好\n客户: 门锁打不开了"],
        ]
    )  # fmt: skip
    result = _import_calls(sessions, agent, data, "calls.xlsx")
    with sessions() as session:
        call = calls.get_call(session, result.ids[0])
    out = calls.present(call, reader())
    assert out.ring_at == ring.replace(tzinfo=centre_tz()) and call.night_service and call.ring_seconds == 8
    assert call.agent_id == agent and call.customer_id == zhang and len(call.transcript) == 2


def test_bad_call_rows_are_reported_by_row_number_and_nothing_is_imported(centre) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, _ = centre
    before = counts(sessions)
    problems = rejected(lambda: _import_calls(sessions, agent, (FIXTURES / "calls_bad.csv").read_bytes(), "bad.csv"))
    assert problems == [
        "第 3 行:来电原因:每个来电都要选择来电原因(来电原因不能为空)",
        "第 4 行:工号:工号 99999 不存在",
        "第 5 行:接听时间:接听时间不能早于振铃时间",
        "第 6 行:转写:转写第 3 行:未知的说话人 '路人',应为 客服/坐席/话务员/agent 或 客户/用户/customer",
        "第 7 行:通话编号:通话编号 B-1 重复(与第 2 行相同)",
        "第 8 行:呼叫方向:应为 呼入 或 呼出(inbound/outbound)",
        "第 8 行:振铃时间:时间格式不正确,应如 2026-11-22 08:15:00",
    ]
    assert counts(sessions) == before


def test_calls_already_in_the_database_and_unknown_customers(centre) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, zhang = centre
    with transaction(sessions) as session:
        old = intake.do_record_call(
            session,
            agent,
            CallCreate(external_id="X-1", direction="inbound", ring_at="2026-11-22 08:00", reason="查询"),
        )
    data = "\n".join(
        [
            "通话编号,呼叫方向,振铃时间,来电原因,客户编号,客户账户",
            "X-1,呼入,2026-11-22 09:00,查询,,",
            "X-2,呼入,2026-11-22 09:00,查询,,A404",
            "X-3,呼入,2026-11-22 09:00,查询,999,",
            "X-4,呼入,2026-11-22 09:00,查询,abc,",
            f"X-5,呼入,2026-11-22 09:00,查询,{zhang + 1},A1001",
        ]
    ).encode()
    assert rejected(lambda: _import_calls(sessions, agent, data, "c.csv")) == [
        f"第 2 行:通话编号:通话编号 X-1 已存在(通话 {old.id})",
        "第 3 行:客户账户:客户账户 A404 不存在",
        "第 4 行:客户编号:客户 999 不存在",
        "第 5 行:客户编号:客户编号应为整数",
        f"第 6 行:客户账户:客户账户 A1001 不属于客户编号 {zhang + 1}",
    ]


def test_a_call_file_needs_a_ring_time_column(centre) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, _ = centre
    data = "工号,小结\n12345,没有必需的列\n".encode()
    problems = rejected(lambda: _import_calls(sessions, agent, data, "c.csv"))
    assert [p.split("(")[0] for p in problems] == ["第 1 行:表头:缺少必需的列“振铃时间”"]


def test_a_switch_cdr_without_direction_or_reason_imports_abandoned_calls(centre) -> None:  # type: ignore[no-untyped-def]
    """SPEC §7: the offered calls nobody answered are what service level and abandonment are
    made of; a switch's 话单 has neither direction nor reason, and says what was assumed."""
    sessions, agent, _ = centre
    data = "\n".join(
        [
            "流水号,主叫号码,振铃时间,接听时间,挂机时间,坐席工号,保持时长,话后处理时长",
            "Q-1,13800000001,2026-11-20 09:00:00,2026-11-20 09:00:12,2026-11-20 09:04:12,12345,30,45",
            "Q-2,13800000002,2026-11-20 09:01:00,,2026-11-20 09:01:40,,,",
        ]
    ).encode()
    with transaction(sessions) as session:
        checked = import_calls(session, agent, data, "cdr.csv", dry_run=True)
    assert checked.created == 0 and "全部记为呼入" in checked.message and "未接来电记为“未接通”" in checked.message
    result = _import_calls(sessions, agent, data, "cdr.csv")
    with sessions() as session:
        answered, abandoned = (calls.get_call(session, i) for i in result.ids)
        assert (answered.direction.value, answered.reason, answered.hold_seconds, answered.wrap_seconds) == (
            "inbound", "other", 30, 45,
        )  # fmt: skip
        assert abandoned.answered_at is None and abandoned.reason == "abandoned" and abandoned.agent_id is None
    wrong = "振铃时间,接听时间,来电原因\n2026-11-20 09:00:00,2026-11-20 09:00:05,abandoned\n".encode()
    problems = rejected(lambda: _import_calls(sessions, agent, wrong, "c.csv"))
    assert problems == ["第 2 行:来电原因:已接听的来电要选择来电原因"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_calls_round_trip(centre, fmt: str) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, _zhang = centre
    _import_calls(sessions, agent, (FIXTURES / "calls.csv").read_bytes(), "calls.csv")
    with transaction(sessions) as session:  # a summary that looks like a formula, a transcript in JSON form
        intake.do_record_call(
            session,
            agent,
            CallCreate(
                direction="inbound",
                channel="chat",
                ring_at="2026-11-21 10:00:00",
                answered_at="2026-11-21 10:00:03",
                reason="建议",
                summary="=1+1 不是公式,+86 也不是",
                transcript=[{"speaker": "customer", "text": "建议", "start": 1.5}, {"speaker": "agent", "text": "好"}],
                caller_number="+8613812345678",
            ),
        )
    fields = (
        "external_id", "direction", "channel", "customer_id", "agent_id", "caller_number", "ring_at", "answered_at",
        "ended_at", "hangup_by", "reason", "summary", "transcript", "night_service",
    )  # fmt: skip

    def snapshot() -> list[tuple[Any, ...]]:
        with sessions() as session:
            return [
                tuple(calls.present(c, reader()).model_dump()[f] for f in fields)
                for c in calls.list_calls(session, CallFilter())
            ]

    before = snapshot()
    with transaction(sessions) as session:
        data = export_calls(session, reader(user_id=agent), None, fmt)  # type: ignore[arg-type]
        session.execute(delete(CallRecord))
    result = _import_calls(sessions, agent, data, f"export.{fmt}")
    assert result.created == 5 and result.ignored_columns == []
    assert snapshot() == before


def test_the_export_opens_in_excel_with_chinese_headers(centre) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, _ = centre
    _import_calls(sessions, agent, (FIXTURES / "calls.csv").read_bytes(), "calls.csv")
    with transaction(sessions) as session:
        data = export_calls(session, reader(user_id=agent), CallFilter(reason="咨询-资费"), "xlsx")
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet.title == "通话记录"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("通话编号", "呼叫方向", "渠道", "工号")
    assert "来电原因" in rows[0] and "转写" in rows[0] and "夜间服务" in rows[0]
    assert len(rows) == 2
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["呼叫方向"] == "呼入" and record["来电原因"] == "咨询-资费" and record["夜间服务"] == "否"
    assert record["振铃时间"] == datetime(2026, 11, 22, 8, 15)  # a real Excel date, on the centre's clock
    assert record["转写"].startswith("[00:00.0-00:04.1] 客服: 早上好")
    assert sheet.freeze_panes == "A2"
    with sessions() as session:
        [entry] = [e for e in audit.entries(session, entity="call") if e.action == "export"]
    assert entry.detail.startswith("导出通话 1 条(xlsx,未脱敏)") and "consult.tariff" in entry.detail
    with pytest.raises(Invalid, match="符合条件的通话有 4 条,超过一次导出的上限 3 条"), sessions() as session:
        export_calls(session, reader(user_id=agent), None, "csv", limit=3)


def test_csv_export_has_a_bom_and_guards_against_formulas() -> None:
    data = export_rows(
        [("no", "工单号"), ("title", "标题"), ("done", "已解决"), ("at", "时间"), ("n", "数量")],
        [
            {"no": "WO-1", "title": '=HYPERLINK("x")', "done": True, "at": datetime(2026, 11, 22, 8, 0), "n": 3.0},
            {"no": "WO-2", "title": "多行\n说明,带逗号", "done": False, "at": None, "n": None},
        ],
        "csv",
    )
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows == [
        ["工单号", "标题", "已解决", "时间", "数量"],
        ["WO-1", '\'=HYPERLINK("x")', "是", "2026-11-22 08:00:00", "3"],
        ["WO-2", "多行\n说明,带逗号", "否", "", ""],
    ]
    book = load_workbook(io.BytesIO(export_rows([("t", "标题")], [{"t": "=1+1"}, {"t": "a\x07b"}], "xlsx")))
    cells = [row[0] for row in book.active.iter_rows(values_only=True)]
    assert cells == ["标题", "=1+1", "ab"]  # text, not a formula; control characters dropped
    assert book.active.cell(2, 1).data_type == "s"
    with pytest.raises(Invalid, match="不支持的导出格式"):
        export_rows([("t", "标题")], [], "pdf")  # type: ignore[arg-type]


def test_transcript_text_reads_back_as_the_same_turns() -> None:
    turns = [
        {"speaker": "agent", "text": "您好", "start": 0.0, "end": 4.1},
        {"speaker": "customer", "text": "第一行\n第二行", "start": 64.55, "end": 3600.5},
    ]
    text = transcript_text(turns)
    assert text == "[00:00.0-00:04.1] 客服: 您好\n[01:04.55-60:00.5] 客户: 第一行 第二行"
    back = CallCreate(direction="inbound", ring_at="2026-11-22 08:00", reason="查询", transcript=text).transcript
    assert back == [turns[0], {**turns[1], "text": "第一行 第二行"}]
    assert transcript_text(None) is None
