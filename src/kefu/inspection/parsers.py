"""Read call transcripts from JSON, JSON Lines, CSV and plain text (SPEC §2 "Transcript input").

Nothing here raises on bad input: every transcript or problem comes back as a ``ParsedItem``,
and a problem says, in Chinese, where it is (line, column, CSV row, call and turn, with the JSON key
as it is written) and what was expected.
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kefu.core.validation import message
from kefu.inspection.transcript import SPEAKER_ALIASES, Transcript, Turn
from kefu.rulebook.vocabulary import SPEAKERS_EXPECTED

FORMATS = ("json", "jsonl", "csv", "text")
TRANSCRIPT_SUFFIXES = (".json", ".jsonl", ".csv", ".txt")
ACCEPTED_ENCODINGS = "UTF-8(带或不带 BOM)、带 BOM 的 UTF-16、GB18030/GBK"

_SUFFIX_FORMAT = {".json": "json", ".jsonl": "jsonl", ".csv": "csv", ".txt": "text"}

Loc = tuple[int | str, ...]


class TranscriptError(Exception):
    """A transcript that cannot be read; ``str(err)`` is ``<source>:<position>: <reason>``.

    ``position`` (e.g. 「第 3 行」「第 3 行第 2 句的 speaker」「第 2 条记录(第 4 行)」) is empty when the
    problem concerns the whole file (empty file, missing path); the line is then ``<source>: <reason>``.
    """

    def __init__(self, source: str, position: str, reason: str) -> None:
        super().__init__(source, position, reason)
        self.source = source
        self.position = position
        self.reason = reason

    def __str__(self) -> str:
        where = f"{self.source}:{self.position}" if self.position else self.source
        return " ".join(f"{where}: {self.reason}".splitlines())


@dataclass
class ParsedItem:
    source: str
    transcript: Transcript | None
    error: TranscriptError | None


def _fail(source: str, position: str, reason: str) -> ParsedItem:
    return ParsedItem(source, None, TranscriptError(source, position, reason))


# ---------------------------------------------------------------------------- files and bytes


def iter_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given; folders walked recursively, in sorted order, for transcript files.

    Hidden files and folders (name starting with '.') inside a walked folder are skipped.
    """
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = (
                p
                for p in path.rglob("*")
                if p.suffix.lower() in TRANSCRIPT_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and p.is_file()
            )
            yield from sorted(found)
        elif path.exists():
            yield path
        else:
            raise TranscriptError(str(path), "", "文件或文件夹不存在")


def parse_file(path: Path, fmt: str | None = None) -> list[ParsedItem]:
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        return [_fail(source, "", "这是文件夹,不是转写文件")]
    except FileNotFoundError:
        return [_fail(source, "", "无法读取文件:文件不存在")]
    except PermissionError:
        return [_fail(source, "", "无法读取文件:没有读取权限")]
    except OSError as err:
        code = errno.errorcode.get(err.errno or 0)
        return [_fail(source, "", f"无法读取文件(系统错误 {code})" if code else "无法读取文件")]
    return parse_bytes(data, source, fmt)


def parse_bytes(data: bytes, source: str = "<bytes>", fmt: str | None = None) -> list[ParsedItem]:
    try:
        text = decode(data, source)
    except TranscriptError as err:
        return [ParsedItem(source, None, err)]
    return parse_text(text, source, fmt)


def decode(data: bytes, source: str) -> str:
    """UTF-8 (BOM optional), UTF-16 with BOM, or GB18030/GBK; anything else is an error."""
    for bom, codec, name in (
        (codecs.BOM_UTF8, "utf-8", "UTF-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
    ):
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError as err:
                raise TranscriptError(
                    source,
                    _byte_position(data, err.start + len(bom)),
                    f"文件以 {name} 的字节序标记(BOM)开头,内容却不是有效的 {name}{_codec_reason(err)};"
                    f"可接受的编码:{ACCEPTED_ENCODINGS}",
                ) from None
            return _check_nul(text, source)
    try:
        return _check_nul(data.decode("utf-8"), source)
    except UnicodeDecodeError as err:
        utf8_error = err
    # GBK text almost never forms several valid UTF-8 multi-byte sequences in a row, so a file
    # whose valid prefix already holds non-ASCII UTF-8 is damaged UTF-8, not GB18030.
    prefix = data[: utf8_error.start].decode("utf-8")
    if sum(not ch.isascii() for ch in prefix) < 4:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            pass
        else:
            if _plausible(text):
                return text
        reason = "无法识别文件的编码"
    else:
        reason = f"文件看起来是 UTF-8,但含有无效的字节序列{_codec_reason(utf8_error)}"
    raise TranscriptError(
        source,
        _byte_position(data, utf8_error.start),
        f"{reason};可接受的编码:{ACCEPTED_ENCODINGS}",
    )


_CODEC_REASONS = {
    "invalid start byte": "无效的起始字节",
    "invalid continuation byte": "无效的后续字节",
    "unexpected end of data": "数据在字符中间结束",
    "truncated data": "数据在字符中间结束",
    "illegal encoding": "非法的编码",
    "illegal UTF-16 surrogate": "非法的 UTF-16 代理字符",
}


def _codec_reason(err: UnicodeDecodeError) -> str:
    reason = _CODEC_REASONS.get(err.reason)
    return f"({reason})" if reason else ""


def _byte_position(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    return f"第 {line} 行(第 {offset + 1} 字节)"


def _check_nul(text: str, source: str) -> str:
    at = text.find("\0")
    if at >= 0:
        raise TranscriptError(
            source,
            f"第 {text.count(chr(10), 0, at) + 1} 行",
            f"文件含有空字符(NUL):它是二进制文件,或是没有字节序标记(BOM)的 UTF-16;可接受的编码:{ACCEPTED_ENCODINGS}",
        )
    return text


def _plausible(text: str) -> bool:
    """Whether a GB18030 decoding reads as text rather than byte soup.

    Real text may hold a few private-use characters (icons from phones and chat apps), never
    control characters; byte soup decodes to plenty of both.
    """
    odd = wide = 0
    for ch, count in Counter(text).items():
        category = unicodedata.category(ch)
        if category == "Cc" and ch not in "\t\n\r\f":
            return False
        odd += count if category in ("Co", "Cn", "Cs") else 0
        wide += count if not ch.isascii() else 0
    return odd * 20 <= wide


# ---------------------------------------------------------------------------- text


def parse_text(text: str, source: str = "<text>", fmt: str | None = None) -> list[ParsedItem]:
    text = text.removeprefix("\ufeff")
    if fmt is not None and fmt not in FORMATS:
        return [_fail(source, "", f"未知的格式 {fmt!r},应为 {'、'.join(FORMATS)} 之一")]
    if not text.strip():
        return [_fail(source, "", "文件是空的,应为 JSON、CSV 或文本行形式的转写")]
    stem = "" if source.startswith("<") else Path(source).stem
    try:
        fmt = fmt or _detect(text, source)
        if fmt == "json":
            return _parse_json(text, source, stem)
        if fmt == "jsonl":
            return _parse_jsonl(text, source, stem)
        if fmt == "csv":
            return _parse_csv(text, source, stem)
        return _parse_text_lines(text, source, stem)
    except Exception as err:  # parse_* never raise; a bug must still surface as an error item
        return [_fail(source, "", f"解析时出现内部错误:{type(err).__name__}: {err}")]


def _detect(text: str, source: str) -> str:
    hint = _SUFFIX_FORMAT.get(Path(source).suffix.lower())
    lines = _lines(text)
    first = next(line for line in lines if line.strip())
    body = first.lstrip()
    if body.startswith("{"):
        return "jsonl" if _looks_like_jsonl(text, lines, hint) else "json"
    if body.startswith("["):
        return "text" if _STAMPED_LINE.fullmatch(first) else "json"
    if _csv_header(text) is not None:
        return "csv"
    if hint in ("json", "jsonl", "csv") and not any(_TURN_LINE.fullmatch(line) for line in lines):
        return hint
    return "text"


def _looks_like_jsonl(text: str, lines: list[str], hint: str | None) -> bool:
    filled = [line for line in lines if line.strip()]
    if len(filled) < 2 or _loads(text) is not None:
        return False
    if hint == "jsonl" or all(line.lstrip().startswith("{") for line in filled):
        return True
    return isinstance(_loads(filled[0]), dict)


def _loads(text: str) -> Any:
    try:
        return json.loads(text, strict=False)
    except (ValueError, RecursionError):
        return None


def _lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


# ---------------------------------------------------------------------------- validation


_CALL_KEYS = "、".join(Transcript.model_fields)
_TURN_KEYS = "、".join(Turn.model_fields)
# What each key of a call or turn is called, so a reason reads 「缺少说话人(speaker)」.
_LABELS = {
    "speaker": "说话人",
    "text": "内容",
    "start": "开始时间",
    "end": "结束时间",
    "turns": "对话",
    "id": "通话编号",
    "channel": "渠道",
    "direction": "呼叫方向",
    "agent_id": "工号",
    "agent_name": "客服姓名",
    "company": "企业",
    "ring_at": "振铃时间",
    "answered_at": "接听时间",
    "ended_at": "挂机时间",
    "hangup_by": "挂机方",
    "turn": "这一句",
    "call": "通话",
}
NO_TURNS = "没有对话内容,应为「客服: …」「客户: …」这样的行,或带 turns 列表的 JSON"


def _named(name: str) -> str:
    label = _LABELS.get(name)
    return name if label is None else label if name in ("turn", "call") else f"{label}({name})"


def _build(data: dict[str, Any], source: str, locate: Callable[[Loc], str], default_id: str) -> ParsedItem:
    if data.get("id") in (None, "") and default_id:
        data = {**data, "id": default_id}
    try:
        return ParsedItem(source, Transcript.model_validate(data), None)
    except ValidationError as err:
        problems = err.errors(include_url=False)
        reason = _describe(problems[0])
        if len(problems) > 1:
            reason += f"(另有 {len(problems) - 1} 处问题)"
        return _fail(source, locate(tuple(problems[0]["loc"])), reason)


def _describe(problem: Any) -> str:
    loc, kind = tuple(problem["loc"]), problem["type"]
    in_turn = len(loc) >= 2 and loc[0] == "turns" and isinstance(loc[1], int)
    name = (
        "turn" if in_turn and len(loc) == 2 else next((part for part in reversed(loc) if isinstance(part, str)), "call")
    )
    got = _short(problem.get("input"))
    if loc[:1] == ("turns",) and (kind == "too_short" or (kind == "missing" and len(loc) == 1)):
        return NO_TURNS
    if kind == "missing":
        return f"缺少{_named(name)}"
    if kind == "extra_forbidden":
        return f"不认识的字段 {name!r}(可用的字段:{_TURN_KEYS if in_turn else _CALL_KEYS})"
    if kind == "value_error":
        text = message(problem)
        return text if name in ("speaker", "turn", "text") else f"{_named(name)}:{text}"
    if kind in ("enum", "literal_error"):  # Pydantic lists the choices as "'a' or 'b'"
        expected = str((problem.get("ctx") or {}).get("expected", "")).replace(" or ", " 或 ")
        return f"{_named(name)}应为 {expected} 之一,这里是 {got}"
    text = message(problem)
    if name in ("start", "end"):  # a turn's times are seconds
        text = text.replace("数字", "秒数")
    joint = "" if text.startswith(("应", "不能", "至少", "最多")) else ":"
    return f"{_named(name)}{joint}{text},这里是 {got}"


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_path(loc: Loc, at: str = "") -> str:
    """Where in a call: 「第 2 通第 3 句的 speaker」, 「channel」; ``at`` is a position before it (a line)."""
    ordinals, keys = at, ""
    parts = list(loc)
    if parts and isinstance(parts[0], int):  # a call in a list of calls
        ordinals += f"第 {parts.pop(0) + 1} 通"
    if len(parts) >= 2 and parts[0] == "turns" and isinstance(parts[1], int):
        ordinals += f"第 {parts[1] + 1} 句"
        parts = parts[2:]
    for part in parts:
        keys += f"[{part}]" if isinstance(part, int) else f".{part}" if keys else str(part)
    return f"{ordinals}的 {keys}" if ordinals and keys else ordinals or keys


# ---------------------------------------------------------------------------- JSON


def _parse_json(text: str, source: str, stem: str) -> list[ParsedItem]:
    try:
        value = json.loads(text, strict=False)
    except json.JSONDecodeError as err:
        reason = _json_reason(err)
        if err.msg == "Extra data":
            reason += ";每行一个通话对象的文件是 JSON Lines,扩展名应为 .jsonl"
        return [_fail(source, f"第 {err.lineno} 行第 {err.colno} 列", reason)]
    except RecursionError:
        return [_fail(source, "", JSON_TOO_DEEP)]
    if isinstance(value, dict):
        return [_build(value, source, _json_path, stem)]
    if not isinstance(value, list):
        return [_fail(source, "", f"应为通话对象 {{…}} 或由它们组成的列表,这里是 {_short(value)}")]
    if not value:
        return [_fail(source, "", "列表里没有通话")]
    items = []
    for index, call in enumerate(value):
        if isinstance(call, dict):
            locate = _array_locator(index)
            items.append(_build(call, source, locate, f"{stem}-{index + 1}" if stem else ""))
        else:
            items.append(_fail(source, _json_path((index,)), f"应为通话对象 {{…}},这里是 {_short(call)}"))
    return items


JSON_TOO_DEEP = "JSON 嵌套过深"
# The messages of Python's json module, which are all it can say.
_JSON_REASONS = {
    "Expecting value": "此处应有一个值",
    "Extra data": "第一个值之后还有多余的内容",
    "Expecting ',' delimiter": "此处缺少逗号 ,",
    "Expecting ':' delimiter": "此处缺少冒号 :",
    "Expecting property name enclosed in double quotes": "此处应为用双引号括起的键名",
    "Unterminated string starting at": "字符串没有结束的引号",
    "Invalid \\escape": "无效的转义符 \\",
    "Invalid \\uXXXX escape": "无效的 \\uXXXX 转义",
    "Illegal trailing comma before end of object": "对象结尾多了一个逗号",
    "Illegal trailing comma before end of array": "列表结尾多了一个逗号",
}


def _json_reason(err: json.JSONDecodeError) -> str:
    detail = _JSON_REASONS.get(err.msg)
    return f"JSON 格式错误({detail})" if detail else "JSON 格式错误"


def _array_locator(index: int) -> Callable[[Loc], str]:
    return lambda loc: _json_path((index, *loc))


def _parse_jsonl(text: str, source: str, stem: str) -> list[ParsedItem]:
    items = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"第 {number} 行"
        try:
            call = json.loads(line, strict=False)
        except json.JSONDecodeError as err:
            items.append(_fail(source, f"{where}第 {err.colno} 列", _json_reason(err)))
            continue
        except RecursionError:
            items.append(_fail(source, where, JSON_TOO_DEEP))
            continue
        if not isinstance(call, dict):
            items.append(_fail(source, where, f"应为通话对象 {{…}},这里是 {_short(call)}"))
            continue
        items.append(_build(call, source, _line_locator(where), f"{stem}-{number}" if stem else ""))
    return items or [_fail(source, "", "文件里没有通话")]


def _line_locator(where: str) -> Callable[[Loc], str]:
    return lambda loc: _json_path(loc, where)


# ---------------------------------------------------------------------------- CSV and text


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


_TURN_COLUMNS: dict[str, tuple[str, ...]] = {
    "speaker": (
        "speaker", "role", "角色", "说话人", "說話人", "发言人", "發言人", "讲话人", "講話人",
        "说话方", "說話方", "发言方", "發言方", "身份",
    ),
    "text": (
        "text", "content", "utterance", "message", "内容", "內容", "文本", "对话内容", "對話內容",
        "发言内容", "發言內容", "说话内容", "說話內容", "消息", "訊息",
    ),
    "start": (
        "start", "start_time", "begin", "开始", "開始", "开始时间", "開始時間", "起始时间",
        "起始時間",
    ),
    "end": ("end", "end_time", "结束", "結束", "结束时间", "結束時間"),
}  # fmt: skip
_CALL_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": (
        "call_id", "通话编号", "通話編號", "通话id", "通話id", "会话id", "會話id", "会话编号",
        "會話編號", "id",
    ),
    "agent_id": ("agent_id", "工号", "工號", "坐席工号", "坐席工號", "客服工号", "客服工號"),
    "agent_name": ("agent_name", "客服姓名", "坐席姓名", "客服名称", "客服名稱"),
    "company": ("company", "企业", "企業", "企业名称", "企業名稱", "公司", "公司名称", "公司名稱"),
    "channel": ("channel", "渠道"),
    "direction": ("direction", "呼叫方向", "方向"),
    "ring_at": ("ring_at", "振铃时间", "振鈴時間", "来电时间", "來電時間"),
    "answered_at": ("answered_at", "接听时间", "接聽時間", "应答时间", "應答時間"),
    "ended_at": ("ended_at", "挂机时间", "掛機時間", "通话结束时间", "通話結束時間"),
    "hangup_by": ("hangup_by", "挂机方", "掛機方", "挂断方", "掛斷方"),
}  # fmt: skip
_COLUMN_FIELD = {
    _key(alias): fieldname
    for table in (_TURN_COLUMNS, _CALL_COLUMNS)
    for fieldname, aliases in table.items()
    for alias in aliases
}
_CALL_COLUMNS_BY_KEY = {_key(alias): fieldname for fieldname, aliases in _CALL_COLUMNS.items() for alias in aliases}
# A bare "id" column is often a row number; it names the call only if nothing better does.
_WEAK_COLUMNS = {"id"}

_TIME = r"\d+(?::\d{1,2}){0,2}(?:\.\d+)?"
_STAMP = rf"[\[【]\s*(?P<start>{_TIME})\s*[-–—~～]\s*(?P<end>{_TIME})\s*[\]】]"
_SPEAKERS = "|".join(re.escape(alias) for alias in sorted(SPEAKER_ALIASES, key=len, reverse=True))
_TURN_LINE = re.compile(
    rf"\s*(?:{_STAMP}\s*)?(?P<speaker>{_SPEAKERS})\s*[:\uff1a]\s*(?P<text>.*)",
    re.IGNORECASE | re.DOTALL,
)
_STAMPED_LINE = re.compile(rf"\s*{_STAMP}\s*(?P<rest>.*)", re.DOTALL)
_HEADER_LINE = re.compile(r"\s*(?P<key>[^\s:\uff1a][^:\uff1a]{0,30}?)\s*[:\uff1a]\s*(?P<value>.*)", re.DOTALL)


_TIME_FORMS = ",应为秒数(4.5)、分:秒(00:04.5)或时:分:秒(00:00:04)"


def _seconds(value: str) -> float:
    """'4.5', '00:04.5' (mm:ss) or '00:00:04' (hh:mm:ss) as seconds; ValueError otherwise."""
    value = value.strip()
    if not re.fullmatch(_TIME, value):
        raise ValueError(f"{value!r} 不是时间{_TIME_FORMS}")
    total = Decimal(0)
    try:
        for part in value.split(":"):
            total = total * 60 + Decimal(part)
    except InvalidOperation:
        raise ValueError(f"{value!r} 不是时间{_TIME_FORMS}") from None
    return float(total)


@dataclass
class _Call:
    id: str
    fields: dict[str, tuple[str, str]] = field(default_factory=dict)  # value, where it came from
    turns: list[dict[str, Any]] = field(default_factory=list)
    turn_positions: list[str] = field(default_factory=list)
    error: tuple[str, str] | None = None

    def set(self, name: str, value: str, where: str) -> None:
        if self.error is not None or not value:
            return
        if name not in self.fields:
            self.fields[name] = (value, where)
        elif self.fields[name][0] != value:
            first, first_where = self.fields[name]
            self.error = (where, f"{_named(name)}这里是 {value!r},{first_where}却是 {first!r}")

    def fail(self, where: str, reason: str) -> None:
        if self.error is None:
            self.error = (where, reason)

    def build(self, source: str) -> ParsedItem:
        if self.error is not None:
            return _fail(source, *self.error)
        data: dict[str, Any] = {name: value for name, (value, _) in self.fields.items()}
        data["id"] = self.id
        data["turns"] = self.turns

        def locate(loc: Loc) -> str:
            if len(loc) >= 2 and loc[0] == "turns" and isinstance(loc[1], int):
                return self.turn_positions[loc[1]]
            if loc and isinstance(loc[0], str) and loc[0] in self.fields:
                return self.fields[loc[0]][1]
            return ""

        return _build(data, source, locate, "")


def _csv_header(text: str) -> tuple[str, int, list[str]] | None:
    """The delimiter, line number and cells of a header naming speaker and text columns."""
    for delimiter in (",", "\t"):
        first = _first_record(text, delimiter)
        if first is not None:
            line, cells = first
            if {"speaker", "text"} <= {_COLUMN_FIELD.get(_key(cell)) for cell in cells}:
                return delimiter, line, cells
    return None


def _first_record(text: str, delimiter: str) -> tuple[int, list[str]] | None:
    try:
        for line, cells in _csv_records(text, delimiter):
            if any(cell.strip() for cell in cells):
                return line, cells
    except csv.Error:
        pass
    return None


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Every record with the line it starts on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    last_line = 0
    for cells in reader:
        yield last_line + 1, cells
        last_line = reader.line_num


def _parse_csv(text: str, source: str, stem: str) -> list[ParsedItem]:
    try:
        return _read_csv(text, source, stem)
    except csv.Error as err:
        return [_fail(source, "", f"CSV 格式错误{_csv_reason(err)}")]


def _csv_reason(err: csv.Error) -> str:
    if str(err).startswith("field larger than field limit"):
        return f"(有单元格超过 {csv.field_size_limit()} 字的上限)"
    return ""


def _read_csv(text: str, source: str, stem: str) -> list[ParsedItem]:
    found = _csv_header(text)
    if found is None:
        first_line = text.lstrip().split("\n", 1)[0]
        delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
        first = _first_record(text, delimiter)
        if first is None:
            return [_fail(source, "", "CSV 没有表头行,表头应有说话人(speaker)和内容(text)两列")]
        header_line, header = first
    else:
        delimiter, header_line, header = found
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        fieldname = _COLUMN_FIELD.get(_key(name))
        if fieldname is None:
            continue
        if fieldname in columns:
            earlier = header[columns[fieldname]]
            if _key(earlier) in _WEAK_COLUMNS:
                columns[fieldname] = index
                continue
            if _key(name) in _WEAK_COLUMNS:
                continue
            return [
                _fail(
                    source,
                    f"第 {header_line} 行",
                    f"{earlier!r} 和 {name!r} 两列都是{_named(fieldname)},请只保留一列",
                )
            ]
        columns[fieldname] = index
    for needed in ("speaker", "text"):
        if needed not in columns:
            names = "、".join(repr(cell) for cell in header)
            return [
                _fail(
                    source,
                    f"第 {header_line} 行",
                    f"CSV 表头没有{_named(needed)}列(现有 {names}),列名应为以下之一:"
                    + "、".join(_TURN_COLUMNS[needed]),
                )
            ]

    calls: dict[str, _Call] = {}
    data_row = 0
    for line, cells in _csv_records(text, delimiter):
        if line <= header_line or not any(cell.strip() for cell in cells):
            continue
        data_row += 1
        where = f"第 {data_row} 条记录(第 {line} 行)"

        def cell(name: str, cells: list[str] = cells) -> str:
            index = columns.get(name)
            return cells[index] if index is not None and index < len(cells) else ""

        call_id = cell("id").strip() if "id" in columns else stem
        call = calls.setdefault(call_id, _Call(call_id))
        if "id" in columns and not call_id:
            call.fail(where, f"{header[columns['id']]!r} 列(通话编号)是空的")
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            call.fail(where, f"这一行有 {len(cells)} 个单元格,表头却只有 {len(header)} 个")
        for name in _CALL_COLUMNS:
            if name != "id" and name in columns:
                call.set(name, cell(name).strip(), where)
        turn: dict[str, Any] = {"speaker": cell("speaker").strip(), "text": cell("text")}
        if not turn["speaker"]:
            call.fail(where, f"说话人(speaker)是空的,{SPEAKERS_EXPECTED}")
        for name in ("start", "end"):
            if cell(name).strip():
                try:
                    turn[name] = _seconds(cell(name))
                except ValueError as err:
                    call.fail(where, f"{_named(name)}:{err}")
        call.turns.append(turn)
        call.turn_positions.append(where)
    if not calls:
        return [_fail(source, "", "没有对话内容:CSV 只有表头,没有数据行")]
    return [call.build(source) for call in calls.values()]


def _parse_text_lines(text: str, source: str, stem: str) -> list[ParsedItem]:
    call = _Call(stem)
    for number, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        where = f"第 {number} 行"
        turn_line = _TURN_LINE.fullmatch(line)
        if turn_line is not None:
            turn: dict[str, Any] = {
                "speaker": SPEAKER_ALIASES[turn_line["speaker"].lower()],
                "text": turn_line["text"].strip(),
            }
            if turn_line["start"] is not None:
                turn["start"] = _seconds(turn_line["start"])
                turn["end"] = _seconds(turn_line["end"])
            call.turns.append(turn)
            call.turn_positions.append(where)
            continue
        stamped = _STAMPED_LINE.fullmatch(line)
        if stamped is not None:
            label = re.split(r"[:\uff1a]", stamped["rest"], maxsplit=1)[0].strip()
            reason = (
                f"未知的说话人 {label!r},{SPEAKERS_EXPECTED}"
                if label and label != stamped["rest"].strip()
                else "时间戳后面应是说话人,如「[00:01.0-00:04.1] 客服: …」"
            )
            return [_fail(source, where, reason)]
        if call.turns:
            call.turns[-1]["text"] += line.strip()
            continue
        header = _HEADER_LINE.fullmatch(line)
        name = _CALL_COLUMNS_BY_KEY.get(_key(header["key"])) if header else None
        if header is None or name is None:
            return [
                _fail(
                    source,
                    where,
                    "这一行没有说话人,前面也没有可以接续的对话;应为「客服: …」或「客户: …」这样的行",
                )
            ]
        value = header["value"].strip()
        if name == "id":
            call.id = value or call.id
        else:
            call.set(name, value, where)
    if not call.turns:
        return [_fail(source, "", NO_TURNS)]
    return [call.build(source)]
