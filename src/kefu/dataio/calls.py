"""Calls with their transcripts from CSV / Excel, and call lists back out.

One row per call. The transcript is a cell of that row, in either SPEC §2 form: text lines
「客服: …」/「客户: …」 (optionally ``[mm:ss.s-mm:ss.s]`` first; one turn per line — a CSV cell
may span lines when quoted, an Excel cell holds line breaks), or JSON (a call object with
``turns``, or just the list of turns). One file keeps an import all-or-nothing, which a folder
of separate transcript files would not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.calls import service as calls
from kefu.calls.models import CallRecord
from kefu.calls.reasons import current_reasons
from kefu.calls.schemas import CallCreate, CallFilter
from kefu.core import audit
from kefu.core.clock import utc_as_stored
from kefu.core.errors import Invalid
from kefu.core.privacy import Reader
from kefu.core.spreadsheets import Format, export_rows
from kefu.core.turns import stored_turn
from kefu.customers.models import Customer
from kefu.dataio.tables import (
    MAX_ROWS,
    PROGRESS_EVERY,
    RING_AT_ALIASES,
    Checked,
    Column,
    ImportRejected,
    ImportResult,
    Progress,
    RowError,
    chunks,
    counted,
    read_table,
    row_errors,
    text_values,
)
from kefu.flows import intake
from kefu.quality import service as quality
from kefu.quality.service import Scorecard

CALL_COLUMNS: tuple[Column, ...] = (
    Column("external_id", "通话编号", ("call_id", "通话id", "呼叫编号", "流水号")),
    Column("direction", "呼叫方向", ("方向", "呼入呼出")),  # a switch's CDR of a queue: all 呼入
    Column("channel", "渠道", ()),
    Column("agent_no", "工号", ("客服工号", "坐席工号", "agent_id", "agent")),
    Column("agent_name", "客服姓名", ("坐席姓名",), export_only=True),
    Column("customer_id", "客户编号", ()),
    Column("account_id", "客户账户", ("账户", "账户号", "客户账号")),
    Column("customer_name", "客户姓名", (), export_only=True),
    Column("caller_number", "来电号码", ("主叫号码", "客户号码", "客户电话", "联系电话", "电话", "号码", "phone")),
    Column("ring_at", "振铃时间", RING_AT_ALIASES, required=True),
    Column("answered_at", "接听时间", ("应答时间",)),
    Column("ended_at", "结束时间", ("挂机时间", "通话结束时间", "放弃时间")),
    Column("hold_seconds", "保持时长(秒)", ("保持时长", "保持秒数", "hold")),
    Column("wrap_seconds", "话后处理时长(秒)", ("话后处理时长", "话后时长", "整理时长", "acw")),
    Column("hangup_by", "挂机方", ("挂断方",)),
    Column("reason", "来电原因", ("原因", "来电类型", "业务类型")),
    Column("summary", "小结", ("通话小结", "摘要", "内容摘要")),
    Column("transcript", "转写", ("通话转写", "转写文本", "对话", "对话内容", "通话内容")),
    Column("night_service", "夜间服务", (), export_only=True),
    Column("ring_seconds", "振铃时长(秒)", (), export_only=True),
    Column("talk_seconds", "通话时长(秒)", (), export_only=True),
    Column("qa_score", "质检得分", (), export_only=True),
)
_TEXT_FIELDS = ("external_id", "agent_no", "customer_id", "account_id", "caller_number", "summary", "transcript")
_AS_IS = (
    "direction",
    "channel",
    "ring_at",
    "answered_at",
    "ended_at",
    "hangup_by",
    "reason",
    "hold_seconds",
    "wrap_seconds",
)
# A switch's call detail records (话单) carry no direction and no reason: what is taken instead.
ASSUMED_DIRECTION = "文件没有“呼叫方向”列:全部记为呼入"
ASSUMED_REASON = "文件没有“来电原因”列:已接来电记为“其他”,未接来电记为“未接通”"


def check_calls(session: Session, data: bytes, filename: str, *, progress: Progress | None = None) -> Checked:
    """Every row checked — fields, reason, order of times, transcript, agent (工号) and customer
    (客户编号 or 客户账户) known, 通话编号 not twice — without writing anything; one bad row and
    ``ImportRejected`` lists every problem as 「第 N 行:字段:原因」."""
    table = read_table(data, filename, CALL_COLUMNS, progress=progress)

    def label(name: str) -> str:
        name = {"agent_id": "agent_no"}.get(name, name)
        if name == "customer_id" and "customer_id" not in table.headers and "account_id" in table.headers:
            name = "account_id"
        return table.label(name, CALL_COLUMNS)

    texts = [text_values(row, _TEXT_FIELDS, label) for row in table.rows]
    agents = _lookup(session, User.agent_no, User.id, {v["agent_no"] for v, _ in texts if "agent_no" in v})
    accounts = _lookup(
        session, Customer.account_id, Customer.id, {v["account_id"] for v, _ in texts if "account_id" in v}
    )
    errors: list[RowError] = []
    valid: list[tuple[int, CallCreate]] = []
    assumed = []
    if "direction" not in table.headers:
        assumed.append(ASSUMED_DIRECTION)
    if "reason" not in table.headers:
        assumed.append(ASSUMED_REASON)
    for done, (row, (values, problems)) in enumerate(zip(table.rows, texts, strict=True), start=1):
        fields: dict[str, Any] = {k: row.values.get(k) for k in _AS_IS if row.values.get(k) is not None}
        if "direction" not in table.headers:
            fields["direction"] = "inbound"
        if "reason" not in table.headers and fields.get("answered_at") is not None:
            fields["reason"] = "other"
        fields |= {k: values[k] for k in ("external_id", "caller_number", "summary", "transcript") if k in values}
        if "agent_no" in values:
            if values["agent_no"] in agents:
                fields["agent_id"] = agents[values["agent_no"]]
            else:
                problems.append(RowError(row.number, label("agent_no"), f"工号 {values['agent_no']} 不存在"))
        problems += _customer(row.number, values, accounts, fields, label)
        try:
            item = CallCreate.model_validate(fields)
        except ValidationError as err:
            seen = {p.field for p in problems}
            problems += [e for e in row_errors(err, row.number, label) if e.field not in seen]
        errors += problems
        if not problems:
            valid.append((row.number, item))
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress("检查数据", done, len(table.rows))

    items = [item for _, item in valid]
    for index, name, message in calls.check_references(session, items):
        errors.append(RowError(valid[index][0], label(name), _row_wording(message, valid)))
    if errors:
        raise ImportRejected(errors)
    return Checked("call", table.source, len(table.rows), items, table.ignored_columns, assumed)


def score_calls(session: Session, checked: Checked, *, progress: Progress | None = None) -> list[Scorecard | None]:
    """Every call with a transcript inspected now, before the write transaction (the platform
    stores each call's scorecard with it)."""
    total = len(checked.items)
    report = (lambda done: progress("质检", done, total)) if progress is not None else None
    return quality.score_new_calls(session, checked.items, report)


def write_calls(
    session: Session, actor_id: int | None, checked: Checked, scorecards: Sequence[Scorecard | None]
) -> ImportResult:
    """Save the checked calls and their scorecards in the caller's transaction, one audit entry."""
    ids = intake.do_import_call_rows(session, actor_id, checked.items, checked.source, scorecards)
    return checked.result(ids)


def import_calls(
    session: Session, actor_id: int | None, data: bytes, filename: str, *, dry_run: bool = False
) -> ImportResult:
    """Check every row, then (unless ``dry_run``) inspect and save every call in the caller's
    transaction; one bad row and nothing is written. A large file goes through a background job
    instead (kefu.dataio.jobs), which checks and inspects outside the write transaction."""
    checked = check_calls(session, data, filename)
    if dry_run:
        return checked.result(dry_run=True)
    return write_calls(session, actor_id, checked, score_calls(session, checked))


def _lookup(session: Session, key: Any, value: Any, wanted: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in chunks(sorted(wanted)):
        found.update(dict(session.execute(select(key, value).where(key.in_(part))).all()))
    return found


def _customer(
    number: int, values: dict[str, Any], accounts: dict[str, int], fields: dict[str, Any], label: Any
) -> list[RowError]:
    """客户编号 and/or 客户账户 → the customer id (the id is checked against the database later)."""
    problems = []
    by_id: int | None = None
    if "customer_id" in values:
        try:
            by_id = int(values["customer_id"])
        except ValueError:
            problems.append(RowError(number, label("customer_id"), "客户编号应为整数"))
    if "account_id" in values:
        by_account = accounts.get(values["account_id"])
        if by_account is None:
            problems.append(RowError(number, label("account_id"), f"客户账户 {values['account_id']} 不存在"))
        elif by_id is not None and by_id != by_account:
            problems.append(
                RowError(number, label("account_id"), f"客户账户 {values['account_id']} 不属于客户编号 {by_id}")
            )
        by_id = by_account if by_id is None else by_id
    if by_id is not None:
        fields["customer_id"] = by_id
    return problems


def _row_wording(message: str, valid: Sequence[tuple[int, CallCreate]]) -> str:
    """check_references counts items (「与第 2 条相同」); a spreadsheet user thinks in rows."""
    return re.sub(r"与第 (\d+) 条相同", lambda m: f"与第 {valid[int(m[1]) - 1][0]} 行相同", message)


# ---------------------------------------------------------------------------- export


def _stamp(seconds: float) -> str:
    minutes, rest = divmod(round(seconds, 3), 60)
    text = f"{int(minutes):02d}:{rest:06.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def transcript_text(turns: Sequence[dict[str, Any]] | None) -> str | None:
    """Turns as SPEC text lines (``[00:04.5-00:06.0] 客户: …``), read back by the import as the
    same turns; JSON when some turn has only one of start/end (text cannot say that)."""
    if not turns:
        return None
    turns = [stored_turn(t) for t in turns]  # one odd stored value must not break the export
    if any((t.get("start") is None) != (t.get("end") is None) for t in turns):
        return json.dumps(list(turns), ensure_ascii=False)
    lines = []
    for turn in turns:
        speaker = "客服" if turn["speaker"] == "agent" else "客户"
        text = " ".join(str(turn.get("text", "")).splitlines())
        stamp = f"[{_stamp(turn['start'])}-{_stamp(turn['end'])}] " if turn.get("start") is not None else ""
        lines.append(f"{stamp}{speaker}: {text}")
    return "\n".join(lines)


def call_row(call: CallRecord, reader: Reader) -> dict[str, Any]:
    """One call as an export row, keyed by the ``CALL_COLUMNS`` fields; customer data as
    ``reader`` may see it."""
    cid = call.customer_id
    return {
        "external_id": call.external_id,
        "direction": call.direction,
        "channel": call.channel,
        "agent_no": call.agent.agent_no if call.agent else None,
        "agent_name": call.agent.name if call.agent else None,
        "customer_id": call.customer_id,
        "account_id": reader.account(cid, call.customer.account_id) if call.customer else None,
        "customer_name": reader.name(cid, call.customer.name) if call.customer else None,
        "caller_number": reader.phone(cid, call.caller_number),
        "ring_at": utc_as_stored(call.ring_at),
        "answered_at": utc_as_stored(call.answered_at) if call.answered_at else None,
        "ended_at": utc_as_stored(call.ended_at) if call.ended_at else None,
        "hold_seconds": call.hold_seconds,
        "wrap_seconds": call.wrap_seconds,
        "hangup_by": call.hangup_by,
        "reason": current_reasons().label(call.reason),
        "summary": reader.text(cid, call.summary),
        "transcript": transcript_text(reader.turns(cid, call.transcript)),
        "night_service": call.night_service,
        "ring_seconds": call.ring_seconds,
        "talk_seconds": call.talk_seconds,
        "qa_score": call.qa_score,
    }


def export_calls(
    session: Session,
    reader: Reader,
    filters: CallFilter | None = None,
    fmt: Format = "csv",
    *,
    limit: int = MAX_ROWS,
    progress: Progress | None = None,
) -> bytes:
    """The calls ``reader`` may read (same filters as the list page) as CSV or .xlsx, importable
    again when unmasked (kefu.core.privacy: for the roles allowed to see customers unmasked);
    one audit entry."""
    viewer: User = reader.user  # type: ignore[assignment]
    found = calls.list_calls(session, filters, limit=limit + 1, viewer=viewer)
    if len(found) > limit:
        total = calls.count_calls(session, filters, viewer=viewer)
        raise Invalid(f"符合条件的通话有 {total} 条,超过一次导出的上限 {limit} 条,请缩小时间范围后分批导出")
    columns = [(c.field, c.label) for c in CALL_COLUMNS]
    rows = counted((call_row(call, reader) for call in found), len(found), progress)
    data = export_rows(columns, rows, fmt, sheet_title="通话记录")
    where = filters.model_dump(exclude_none=True, mode="json") if filters else {}
    how = "未脱敏" if reader.privileged else "已脱敏"
    detail = f"导出通话 {len(found)} 条({fmt},{how}) 条件={where}"
    audit.record(session, viewer.id, "export", "call", None, detail=detail)
    return data
