"""The records of the monthly evaluation exported from other systems, as CSV or Excel — for
``kefu kpi`` at a centre whose calls, QA, surveys or attendance live elsewhere. Each file is one
kind of record, recognised by its header:

- 话单 (calls): a switch's CDR or the platform's call export (kefu.dataio.cdr); a 质检得分
  column there gives the calls' QA scores too.
- 质检得分: 通话编号, 工号, 质检得分 (0–100), and 振铃时间 or 质检时间.
- 满意度: 工号, 时间, 满意度 (1–5 or 满意/一般/不满意); 通话编号 optional.
- 销售: 工号, 时间, 是否成交 (是/否, 1/0, true/false); 金额 and 通话编号 optional.
- 业务差错: 工号, 时间; 通话编号 and 说明 optional.
- 出勤: 工号, 日期, 排班分钟, 出勤分钟.
- 人员名单: 工号 with 姓名 and/or 班组.

Every file is read whole and every bad row reported (第 N 行:列:原因), as for any import; times
without a zone are on the centre's clock. The records are those of ``kefu.performance.records``,
which the platform reads from its tables: the same records give the same figures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import PurePath
from typing import Any, TypeVar

from kefu.core.clock import on_centre_clock
from kefu.core.errors import Invalid
from kefu.dataio.cdr import CDR_COLUMNS, calls_of, cell_date, cell_number, cell_time
from kefu.dataio.tables import Column, ImportRejected, Row, RowError, Table, file_error, read_table, text_value
from kefu.performance.kpi import FCR_DAYS, is_satisfied
from kefu.performance.records import Attendance, BusinessError, Person, QaScore, Records, Sale, SurveyAnswer
from kefu.performance.service import Period

T = TypeVar("T")

# ---------------------------------------------------------------------------- columns


def _call_id(required: bool = False) -> Column:
    return Column("call_id", "通话编号", ("呼叫编号", "流水号", "通话id", "call id", "callid"), required=required)


AGENT = Column("agent", "工号", ("坐席工号", "客服工号", "员工工号", "agent", "agent no"), required=True)

QA_COLUMNS = (
    _call_id(required=True),
    AGENT,
    Column("score", "质检得分", ("质检分数", "最终得分", "得分", "分数", "qa score", "score"), required=True),
    Column("ring_at", "振铃时间", ("通话时间", "来电时间", "呼入时间")),
    Column("inspected_at", "质检时间", ("时间", "质检日期")),
)
SURVEY_COLUMNS = (
    AGENT,
    Column("at", "时间", ("评价时间", "调查时间", "回访时间", "答复时间"), required=True),
    Column(
        "answer", "满意度", ("满意程度", "满意度评价", "客户评价", "评价结果", "satisfaction", "csat"), required=True
    ),
    _call_id(),
)
SALE_COLUMNS = (
    AGENT,
    Column("at", "时间", ("销售时间", "推荐时间", "成交时间"), required=True),
    Column("converted", "是否成交", ("成交", "是否成功", "已成交", "converted"), required=True),
    Column("amount", "金额", ("成交金额", "销售金额", "amount")),
    _call_id(),
)
ERROR_COLUMNS = (
    AGENT,
    Column("at", "时间", ("差错时间", "发生时间"), required=True),
    _call_id(),
    Column("note", "说明", ("差错说明", "差错内容", "备注", "note")),
)
ATTENDANCE_COLUMNS = (
    AGENT,
    Column("day", "日期", ("出勤日期", "排班日期", "date"), required=True),
    Column("scheduled", "排班分钟", ("排班时长", "应出勤分钟", "计划出勤分钟", "scheduled minutes"), required=True),
    Column("present", "出勤分钟", ("出勤时长", "实际出勤分钟", "在线分钟", "present minutes"), required=True),
)
PEOPLE_COLUMNS = (
    AGENT,
    Column("name", "姓名", ("客服姓名", "坐席姓名", "员工姓名", "话务员姓名", "name")),
    Column("team", "班组", ("组别", "所属班组", "team")),
)

# ---------------------------------------------------------------------------- cells


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(text_value(value)).strip()
    return text or None


def _score(value: Any) -> float | None:
    return cell_number(value, "分数", 0, 100, " 分")


def _minutes(value: Any) -> float | None:
    return cell_number(value, "分钟数", 0, 1440, " 分钟")


def _amount(value: Any) -> float | None:
    return cell_number(value, "金额", 0, 10_000_000, " 元")


_YES = frozenset({"是", "1", "true", "yes", "y", "成交", "已成交", "成功"})
_NO = frozenset({"否", "0", "false", "no", "n", "未成交", "失败"})


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(int(value) if isinstance(value, float) and value.is_integer() else value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError("应为 是 或 否(也可写 1/0、true/false)")


def _answer(value: Any) -> int | str:
    """A survey answer as ``is_satisfied`` reads it: 1–5 or 满意/一般/不满意."""
    answer: int | str = str(value).strip()
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        answer = int(value)
    elif isinstance(answer, str) and answer.isdigit():
        answer = int(answer)
    if is_satisfied(answer) is None:
        raise ValueError("应为 1–5 或 满意/一般/不满意")
    return answer


class _Cells:
    """One row's cells, parsed one by one; every problem kept (第 N 行:列:原因)."""

    def __init__(self, row: Row, table: Table, columns: Sequence[Column]) -> None:
        self.row, self.table, self.columns = row, table, columns
        self.problems: list[RowError] = []
        self.failed: set[str] = set()

    def problem(self, name: str, reason: str) -> None:
        self.failed.add(name)
        self.problems.append(RowError(self.row.number, self.table.label(name, self.columns), reason))

    def get(self, name: str, parse: Callable[[Any], T | None], *, required: bool = False) -> T | None:
        value = self.row.values.get(name)
        try:
            parsed = None if value is None else parse(value)
        except ValueError as err:
            self.problem(name, str(err))
            return None
        if parsed is None and required:
            self.problem(name, "不能为空")
        return parsed


def _rows(table: Table, columns: Sequence[Column], build: Callable[[_Cells], T | None]) -> list[T]:
    """``build`` over every row; ``ImportRejected`` with every row's problems when any."""
    items: list[T] = []
    errors: list[RowError] = []
    for row in table.rows:
        cells = _Cells(row, table, columns)
        item = build(cells)
        if cells.problems:
            errors += cells.problems
        elif item is not None:
            items.append(item)
    if errors:
        raise ImportRejected(errors)
    return items


# ---------------------------------------------------------------------------- the kinds


def _qa_score(c: _Cells) -> QaScore | None:
    call_id = c.get("call_id", _text, required=True)
    agent = c.get("agent", _text, required=True)
    score = c.get("score", _score, required=True)
    # The platform dates a score by its call's ring time; a file may only know when it was scored.
    ring, inspected = c.get("ring_at", cell_time), c.get("inspected_at", cell_time)
    at = ring or inspected
    if at is None and not c.failed & {"ring_at", "inspected_at"}:
        c.problem("ring_at" if "ring_at" in c.table.headers else "inspected_at", "不能为空")
    if call_id is None or agent is None or score is None or at is None:
        return None
    return QaScore(call_id, agent, at, score)


def _read_qa(table: Table) -> Records:
    if "ring_at" not in table.headers and "inspected_at" not in table.headers:
        raise ImportRejected(
            [RowError(table.header_row, "表头", "缺少“振铃时间”或“质检时间”列(质检得分按通话日期计入月份)")]
        )
    return Records(qa=_rows(table, QA_COLUMNS, _qa_score))


def _survey(c: _Cells) -> SurveyAnswer | None:
    agent = c.get("agent", _text, required=True)
    at = c.get("at", cell_time, required=True)
    answer = c.get("answer", _answer, required=True)
    call_id = c.get("call_id", _text)
    if agent is None or at is None or answer is None:
        return None
    return SurveyAnswer(agent, at, answer, call_id)


def _sale(c: _Cells) -> Sale | None:
    agent = c.get("agent", _text, required=True)
    at = c.get("at", cell_time, required=True)
    converted = c.get("converted", _flag, required=True)
    amount = c.get("amount", _amount)
    call_id = c.get("call_id", _text)
    if agent is None or at is None or converted is None:
        return None
    return Sale(agent, at, converted, amount or 0.0, call_id)


def _error(c: _Cells) -> BusinessError | None:
    agent = c.get("agent", _text, required=True)
    at = c.get("at", cell_time, required=True)
    call_id = c.get("call_id", _text)
    note = c.get("note", _text)
    if agent is None or at is None:
        return None
    return BusinessError(agent, at, call_id, note)


def _attendance(c: _Cells) -> Attendance | None:
    agent = c.get("agent", _text, required=True)
    day = c.get("day", cell_date, required=True)
    scheduled = c.get("scheduled", _minutes, required=True)
    present = c.get("present", _minutes, required=True)
    if agent is None or day is None or scheduled is None or present is None:
        return None
    return Attendance(agent, day, scheduled, present)


def _read_people(table: Table) -> Records:
    seen: dict[str, int] = {}

    def person(c: _Cells) -> Person | None:
        agent = c.get("agent", _text, required=True)
        name, team = c.get("name", _text), c.get("team", _text)
        if agent is None:
            return None
        if agent in seen:
            c.problem("agent", f"工号 {agent} 与第 {seen[agent]} 行重复")
            return None
        seen[agent] = c.row.number
        return Person(agent, name, team)

    return Records(people={p.agent: p for p in _rows(table, PEOPLE_COLUMNS, person)})


def _scores_and_names(table: Table) -> tuple[list[QaScore], dict[str, Person], list[RowError]]:
    """A call list's 质检得分 and 客服姓名. Like the platform, a score counts for a call with an
    agent, whatever its direction; a bad time or 工号 is reported with the call."""
    scores: list[QaScore] = []
    names: dict[str, Person] = {}
    errors: list[RowError] = []
    for row in table.rows:
        try:
            agent, call_id = _text(row.values.get("agent")), _text(row.values.get("call_id"))
            ring = cell_time(row.values.get("ring_at"))
        except ValueError:
            continue
        cells = _Cells(row, table, CDR_COLUMNS)
        score = cells.get("qa_score", _score)
        name = cells.get("agent_name", _text)
        errors += cells.problems
        if agent is not None and name is not None:
            names.setdefault(agent, Person(agent, name))
        if agent is not None and ring is not None and score is not None:
            scores.append(QaScore(call_id or f"第 {row.number} 行", agent, ring, score))
    return scores, names, errors


def _read_calls(table: Table) -> Records:
    errors: list[RowError] = []
    try:
        calls = calls_of(table)
    except ImportRejected as rejected:
        calls, errors = [], list(rejected.errors)
    scores, names, problems = _scores_and_names(table)
    if errors or problems:
        raise ImportRejected(errors + problems)
    return Records(calls=calls, qa=scores, people=names)


def _is_call_list(table: Table) -> bool:
    """A file with 振铃时间 and 质检得分 but no 接听 or 结束 time is a QA file, not calls."""
    return "qa_score" not in table.headers or bool({"answered_at", "ended_at"} & set(table.headers))


def _always(table: Table) -> bool:
    return True


def _names_people(table: Table) -> bool:
    return "name" in table.headers or "team" in table.headers


@dataclass(frozen=True)
class Kind:
    key: str  # the ``Records`` field it fills
    label: str
    needs: str  # the required columns, for people
    columns: Sequence[Column]
    read: Callable[[Table], Records]
    fits: Callable[[Table], bool] = _always
    # ``guarded``: a file taken for this kind is refused when a column it ignores has a word of
    # another kind's ``hints`` — a misspelt 满意度 must not make a survey file business errors.
    guarded: bool = False
    hints: tuple[str, ...] = ()


# Tried in this order; the first whose required columns are all in the header and that fits wins.
KINDS: tuple[Kind, ...] = (
    Kind("calls", "话单", "振铃时间,及接听时间或结束时间", CDR_COLUMNS, _read_calls, _is_call_list,
         hints=("振铃", "接听", "挂机")),
    Kind("attendance", "出勤", "工号、日期、排班分钟、出勤分钟", ATTENDANCE_COLUMNS,
         lambda t: Records(attendance=_rows(t, ATTENDANCE_COLUMNS, _attendance)), hints=("排班", "出勤")),
    Kind("qa", "质检得分", "通话编号、工号、质检得分,及振铃时间或质检时间", QA_COLUMNS, _read_qa,
         hints=("质检", "得分")),
    Kind("surveys", "满意度", "工号、时间、满意度", SURVEY_COLUMNS,
         lambda t: Records(surveys=_rows(t, SURVEY_COLUMNS, _survey)), hints=("满意",)),
    Kind("sales", "销售", "工号、时间、是否成交", SALE_COLUMNS,
         lambda t: Records(sales=_rows(t, SALE_COLUMNS, _sale)), hints=("成交", "销售", "推荐")),
    Kind("errors", "业务差错", "工号、时间", ERROR_COLUMNS,
         lambda t: Records(errors=_rows(t, ERROR_COLUMNS, _error)), guarded=True),
    Kind("people", "人员名单", "工号,及姓名或班组", PEOPLE_COLUMNS, _read_people, _names_people),
)  # fmt: skip


def kinds_help() -> str:
    """Every kind with its required columns, for a person choosing or fixing a header."""
    return ";".join(f"{k.label}:{k.needs}" for k in KINDS)


# ---------------------------------------------------------------------------- files


@dataclass(frozen=True)
class RecordFile:
    source: str
    kind: Kind
    records: Records
    rows: int
    ignored_columns: tuple[str, ...] = ()

    @property
    def beyond_calls(self) -> bool:
        """Records for the evaluation besides calls (a call list's QA scores count)."""
        return self.kind.key != "calls" or bool(self.records.qa)

    def describe(self) -> str:
        """「质检.xlsx:质检得分,12 行」, with what a call list held and the columns left out."""
        text = f"{self.source}:{self.kind.label},{self.rows} 行"
        if self.kind.key == "calls":
            text += f",呼入来电 {len(self.records.calls)} 通"
            text += f",质检得分 {len(self.records.qa)} 条" if self.records.qa else ""
        if self.ignored_columns:
            text += f";已忽略无法识别的列:{'、'.join(self.ignored_columns)}"
        return text


def _table(data: bytes, filename: str, kind: Kind) -> Table | None:
    """The file read as ``kind``; None when its header lacks a required column of the kind."""
    try:
        return read_table(data, filename, kind.columns)
    except ImportRejected as rejected:
        if any(e.field == "表头" and e.reason.startswith("缺少必需的列") for e in rejected.errors):
            return None
        raise


def _check_guarded(table: Table, kind: Kind) -> None:
    """A file taken for a kind with few columns of its own, whose ignored columns look like
    another kind's: refused rather than read as the wrong records."""
    for name in table.ignored_columns:
        other = next((k for k in KINDS if k is not kind and any(h in name for h in k.hints)), None)
        if other is not None:
            raise ImportRejected(
                [
                    RowError(
                        table.header_row,
                        "表头",
                        f"列“{name}”像是{other.label}文件的列,但表头缺少{other.label}的必需列({other.needs});"
                        f"按现在的表头,这个文件会被当作{kind.label}读取。请检查列名",
                    )
                ]
            )


def read_record_file(data: bytes, filename: str) -> RecordFile:
    """One file: its kind from the header (``KINDS``, in order) and its records; ``ImportRejected``
    listing every bad row, or naming the kinds when the header matches none."""
    source = PurePath(filename or "上传文件").name
    for kind in KINDS:
        table = _table(data, filename, kind)
        if table is None or not kind.fits(table):
            continue
        if kind.guarded:
            _check_guarded(table, kind)
        records = kind.read(table)
        return RecordFile(source, kind, records, len(table.rows), tuple(table.ignored_columns))
    raise file_error(f"无法识别是哪一类记录:表头应有以下某一类的必需列——{kinds_help()}", what=source)


class FilesRejected(Invalid):
    """Nothing was read: every problem of every file, each line led by the file's name."""

    def __init__(self, rejected: Sequence[tuple[str, ImportRejected]]) -> None:
        self.rejected = list(rejected)
        lines = [
            line if line.startswith(f"{source}:") else f"{source}:{line}"
            for source, error in self.rejected
            for line in str(error).splitlines()
        ]
        super().__init__("\n".join(lines))


def read_record_files(files: Sequence[tuple[bytes, str]]) -> list[RecordFile]:
    """Every file of (content, name) read; ``FilesRejected`` with the problems of all the files."""
    read: list[RecordFile] = []
    rejected: list[tuple[str, ImportRejected]] = []
    for data, filename in files:
        try:
            read.append(read_record_file(data, filename))
        except ImportRejected as error:
            rejected.append((PurePath(filename or "上传文件").name, error))
    if rejected:
        raise FilesRejected(rejected)
    return read


def _first(call_id: str, seen: set[str]) -> bool:
    if call_id.startswith("第 "):
        return True
    if call_id in seen:
        return False
    seen.add(call_id)
    return True


def merge_records(parts: Iterable[Records]) -> Records:
    """One ``Records`` of several; for each 工号 the first name and the first team given win."""
    merged = Records()
    calls: set[str] = set()
    scored: set[str] = set()
    for part in parts:
        # A call exported twice (overlapping exports, the same file given twice) counts once;
        # a row without its own 通话编号 is named by its row and is always new.
        merged.calls += [c for c in part.calls if _first(c.call_id, calls)]
        merged.qa += [q for q in part.qa if _first(q.call_id, scored)]
        merged.surveys += part.surveys
        merged.sales += part.sales
        merged.errors += part.errors
        merged.attendance += part.attendance
        merged.later += part.later
        for agent, person in part.people.items():
            known = merged.people.get(agent)
            merged.people[agent] = (
                person if known is None else Person(agent, known.name or person.name, known.team or person.team)
            )
    return merged


def combined(read: Sequence[RecordFile]) -> Records:
    """The records of the files together; a 人员名单's names and teams before a call list's."""
    return merge_records(f.records for f in sorted(read, key=lambda f: f.kind.key != "people"))


def read_records(files: Sequence[tuple[bytes, str]]) -> Records:
    """The records of every file (content, name), each file's kind recognised by its header
    (``KINDS``). ``FilesRejected`` with every problem of every file when any file has one."""
    return combined(read_record_files(files))


# ---------------------------------------------------------------------------- the month


def month_days(month: str) -> tuple[date, date]:
    """The first day of ``month`` (2026-11) and of the month after, on the centre's calendar."""
    period = Period.month(month)  # the platform's reading of a month, bounds included
    return period.first, period.last + timedelta(days=1)


def within_month(records: Records, month: str, fcr_days: int = FCR_DAYS) -> Records:
    """The records of ``month`` by the centre's calendar; the calls of the ``fcr_days`` days after
    it become ``later`` (they only tell whether a contact of the month was repeated)."""
    first, after = month_days(month)

    def day(moment: datetime) -> date:
        return on_centre_clock(moment).date()

    def inside(moment: datetime) -> bool:
        return first <= day(moment) < after

    later_end = after + timedelta(days=fcr_days)
    return Records(
        calls=[c for c in records.calls if inside(c.ring_at)],
        qa=[r for r in records.qa if inside(r.at)],
        surveys=[r for r in records.surveys if inside(r.at)],
        sales=[r for r in records.sales if inside(r.at)],
        errors=[r for r in records.errors if inside(r.at)],
        attendance=[a for a in records.attendance if first <= a.day < after],
        later=[c for c in [*records.calls, *records.later] if after <= day(c.ring_at) < later_end],
        people=dict(records.people),
    )


def record_count(records: Records) -> int:
    """Calls and every other record of the period (not ``later``, not people)."""
    parts: list[Sequence[Any]] = [
        records.calls, records.qa, records.surveys, records.sales, records.errors, records.attendance,
    ]  # fmt: skip
    return sum(len(p) for p in parts)
