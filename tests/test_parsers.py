"""Reading transcripts: every format, encodings, auto-detection, errors, round trips."""

from __future__ import annotations

import codecs
import csv
import io
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SHARED_DATA, shared_data
from kefu.inspection.parsers import (
    ParsedItem,
    TranscriptError,
    decode,
    iter_paths,
    parse_bytes,
    parse_file,
    parse_text,
)
from kefu.inspection.transcript import SPEAKER_ALIASES, Speaker, Transcript

REAL_DATA = SHARED_DATA / "stc3_test_cn.jsonl"
FULL_COLON = "\uff1a"

SPEC_CALL = {
    "id": "20261122-0001",
    "channel": "voice",
    "direction": "inbound",
    "agent_id": "12345",
    "agent_name": "小李",
    "company": "智能科技",
    "ring_at": "2026-11-22T08:15:00+08:00",
    "answered_at": "2026-11-22T08:15:06+08:00",
    "ended_at": "2026-11-22T08:18:10+08:00",
    "hangup_by": "customer",
    "turns": [
        {
            "speaker": "agent",
            "start": 0.0,
            "end": 4.1,
            "text": "早上好,感谢致电智能科技客服中心,我是客服小李,工号12345,很高兴为您服务。",
        },
        {"speaker": "customer", "start": 4.5, "end": 6.0, "text": "我是张先生。"},
    ],
}
OPENING = SPEC_CALL["turns"][0]["text"]

SPEC_CSV = (
    "call_id,speaker,text,start,end,agent_id,agent_name,company,channel,direction,"
    "ring_at,answered_at,ended_at,hangup_by\n"
    f'20261122-0001,agent,"{OPENING}",0.0,4.1,12345,小李,智能科技,voice,inbound,'
    "2026-11-22T08:15:00+08:00,2026-11-22T08:15:06+08:00,2026-11-22T08:18:10+08:00,customer\n"
    "20261122-0001,customer,我是张先生。,4.5,6.0,12345,,,,,,,,\n"
)
SPEC_TEXT = f"id: 20261122-0001\n[00:00.0-00:04.1] 客服: {OPENING}\n[00:04.5-00:06.0] 客户: 我是张先生。\n"

CST = timezone(timedelta(hours=8))


def only(items: list[ParsedItem]) -> Transcript:
    assert len(items) == 1, items
    assert items[0].error is None, str(items[0].error)
    assert items[0].transcript is not None
    return items[0].transcript


def only_error(items: list[ParsedItem]) -> TranscriptError:
    assert len(items) == 1, items
    assert items[0].transcript is None
    assert items[0].error is not None
    return items[0].error


def assert_spec_turns(call: Transcript) -> None:
    assert [t.speaker for t in call.turns] == [Speaker.AGENT, Speaker.CUSTOMER]
    assert [t.text for t in call.turns] == [OPENING, "我是张先生。"]
    assert [(t.start, t.end) for t in call.turns] == [(0.0, 4.1), (4.5, 6.0)]


def assert_spec_call(call: Transcript) -> None:
    assert call.id == "20261122-0001"
    assert call.channel == "voice"
    assert call.direction == "inbound"
    assert (call.agent_id, call.agent_name, call.company) == ("12345", "小李", "智能科技")
    assert call.ring_at == datetime(2026, 11, 22, 8, 15, 0, tzinfo=CST)
    assert call.answered_at == datetime(2026, 11, 22, 8, 15, 6, tzinfo=CST)
    assert call.ended_at == datetime(2026, 11, 22, 8, 18, 10, tzinfo=CST)
    assert call.hangup_by == "customer"
    assert_spec_turns(call)


# ---------------------------------------------------------------------------- each format


@pytest.mark.parametrize("fmt", [None, "json"])
def test_json_spec_example(fmt: str | None) -> None:
    text = json.dumps(SPEC_CALL, ensure_ascii=False, indent=2)
    assert_spec_call(only(parse_text(text, "call.json", fmt)))


def test_json_array_gives_one_transcript_per_call() -> None:
    second = {**SPEC_CALL, "id": "20261122-0002", "turns": SPEC_CALL["turns"][:1]}
    items = parse_text(json.dumps([SPEC_CALL, second], ensure_ascii=False), "calls.json")
    assert [i.error for i in items] == [None, None]
    assert_spec_call(items[0].transcript)
    assert items[1].transcript.id == "20261122-0002"
    assert len(items[1].transcript.turns) == 1


def test_json_array_error_names_the_element() -> None:
    bad = {"turns": [{"speaker": "经理", "text": "x"}]}
    items = parse_text(json.dumps([SPEC_CALL, bad], ensure_ascii=False), "calls.json")
    assert items[0].transcript is not None
    assert items[1].error.position == "第 2 通第 1 句的 speaker"
    assert "未知的说话人 '经理'" in items[1].error.reason


@pytest.mark.parametrize("fmt", [None, "jsonl"])
def test_jsonl_spec_example(fmt: str | None) -> None:
    other = {"id": "x2", "channel": "chat", "turns": [{"speaker": "用户", "text": "在吗"}]}
    lines = [json.dumps(SPEC_CALL, ensure_ascii=False), "", json.dumps(other, ensure_ascii=False)]
    items = parse_text("\n".join(lines) + "\n", "calls.jsonl", fmt)
    assert [i.error for i in items] == [None, None]
    assert_spec_call(items[0].transcript)
    assert items[1].transcript.channel == "chat"
    assert items[1].transcript.turns[0].speaker == Speaker.CUSTOMER


@pytest.mark.parametrize("fmt", [None, "csv"])
def test_csv_spec_example(fmt: str | None) -> None:
    assert_spec_call(only(parse_text(SPEC_CSV, "calls.csv", fmt)))


@pytest.mark.parametrize("fmt", [None, "text"])
def test_text_spec_example(fmt: str | None) -> None:
    call = only(parse_text(SPEC_TEXT, "call.txt", fmt))
    assert call.id == "20261122-0001"
    assert_spec_turns(call)


def test_text_header_block_sets_call_fields() -> None:
    text = f"id: 7\n工号{FULL_COLON}12345\ncompany: 智能科技\nchannel: voice\n\n客服: 您好\n"
    call = only(parse_text(text, "call.txt"))
    assert (call.id, call.agent_id, call.company, call.channel) == (
        "7",
        "12345",
        "智能科技",
        "voice",
    )


def test_text_without_header_takes_the_id_from_the_file_name() -> None:
    assert only(parse_text("客服: 您好\n", "calls/20261122-0009.txt")).id == "20261122-0009"


def test_text_traditional_speakers_and_full_width_colon() -> None:
    text = (
        f"話務員{FULL_COLON}您好,請問有什麼可以幫您?\n客戶{FULL_COLON}我的寬頻斷了\n坐席 : 好的\n用戶:嗯\nAgent: ok\n"
    )
    call = only(parse_text(text, "call.txt"))
    assert [t.speaker.value for t in call.turns] == [
        "agent",
        "customer",
        "agent",
        "customer",
        "agent",
    ]
    assert [t.text for t in call.turns] == [
        "您好,請問有什麼可以幫您?",
        "我的寬頻斷了",
        "好的",
        "嗯",
        "ok",
    ]


def test_text_timestamps_in_both_forms() -> None:
    text = (
        "[00:01.5-00:04.1] 客服: 您好\n"
        "[00:00:05-00:00:07] 客户: 你好\n"
        "[01:02:03-01:02:04.5] 客服: 还在吗\n"
        "[02:00.0-02:01.0]客户" + FULL_COLON + "在\n"
    )
    call = only(parse_text(text, "call.txt"))
    assert [(t.start, t.end) for t in call.turns] == [
        (1.5, 4.1),
        (5.0, 7.0),
        (3723.0, 3724.5),
        (120.0, 121.0),
    ]


def test_text_continuation_lines_join_the_previous_turn() -> None:
    text = "客服: 您好,感谢致电\n  智能科技客服中心,\n\n很高兴为您服务。\n客户: 嗯\n"
    call = only(parse_text(text, "call.txt"))
    assert call.turns[0].text == "您好,感谢致电智能科技客服中心,很高兴为您服务。"
    assert call.turns[1].text == "嗯"


def test_empty_turn_text_is_kept() -> None:
    call = only(parse_text('{"turns": [{"speaker": "agent", "text": null}, {"speaker": "客户"}]}'))
    assert [t.text for t in call.turns] == ["", ""]
    assert only(parse_text("客服:\n客户: 喂\n")).turns[0].text == ""
    assert only(parse_text('speaker,text\n客服,""\n客户,喂\n')).turns[0].text == ""


def test_csv_chinese_headers_quoting_and_grouping_by_call() -> None:
    text = (
        "通话编号,角色,内容,开始,结束,工号\n"
        'B,客服,"您好,请问有什么可以帮您?",0,2.5,007\n'
        'A,坐席,"第一行\n第二行","00:01.0","00:02.0",008\n'
        'B,客戶,"他说""不行""",3,4,\n'
        "\n"
        "A,用户,好的,,,008\n"
    )
    items = parse_text(text, "calls.csv")
    assert [i.error for i in items] == [None, None]
    b, a = (i.transcript for i in items)
    assert (b.id, b.agent_id, a.id, a.agent_id) == ("B", "007", "A", "008")
    assert [t.text for t in b.turns] == ["您好,请问有什么可以帮您?", '他说"不行"']
    assert [(t.start, t.end) for t in b.turns] == [(0.0, 2.5), (3.0, 4.0)]
    assert [t.text for t in a.turns] == ["第一行\n第二行", "好的"]
    assert [(t.start, t.end) for t in a.turns] == [(1.0, 2.0), (None, None)]


def test_csv_without_call_id_is_one_call_named_after_the_file() -> None:
    call = only(parse_text("speaker,text\nagent,您好\ncustomer,你好\n", "exports/0042.csv"))
    assert call.id == "0042"
    assert len(call.turns) == 2


def test_csv_tab_separated() -> None:
    call = only(parse_text("说话人\t文本\n客服\t您好,请讲\n", "call.txt"))
    assert call.turns[0].text == "您好,请讲"


# ---------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("text", "expected_turns"),
    [
        (json.dumps(SPEC_CALL, ensure_ascii=False), 2),
        (json.dumps([SPEC_CALL, SPEC_CALL], ensure_ascii=False), 2),
        (json.dumps(SPEC_CALL, ensure_ascii=False) + "\n" + json.dumps(SPEC_CALL), 2),
        (SPEC_CSV, 2),
        (SPEC_TEXT, 2),
        ("[00:00.0-00:04.1] 客服: 您好\n", 1),
    ],
    ids=["json", "json-array", "jsonl", "csv", "text", "text-starting-with-bracket"],
)
@pytest.mark.parametrize("source", ["<stdin>", "call.txt", "call.json", "call.csv"])
def test_auto_detection_by_content(text: str, expected_turns: int, source: str) -> None:
    items = parse_text(text, source)
    assert all(i.error is None for i in items), [str(i.error) for i in items]
    assert all(len(i.transcript.turns) == expected_turns for i in items)


def test_txt_file_containing_json(tmp_path: Path) -> None:
    path = tmp_path / "call.txt"
    path.write_text(json.dumps(SPEC_CALL, ensure_ascii=False), encoding="utf-8")
    assert_spec_call(only(parse_file(path)))


def test_extension_decides_when_content_is_not_recognised() -> None:
    error = only_error(parse_text("speaker,备注\n客服,你好\n", "calls.csv"))
    assert "CSV 表头没有内容(text)列" in error.reason
    error = only_error(parse_text("speaker,备注\n客服,你好\n", "calls.txt"))
    assert error.position == "第 1 行"
    assert "这一行没有说话人" in error.reason


def test_unknown_format_is_an_error_item() -> None:
    assert "未知的格式 'xml'" in only_error(parse_text("客服: x", fmt="xml")).reason


# ---------------------------------------------------------------------------- encodings


def test_utf8_with_bom() -> None:
    data = codecs.BOM_UTF8 + SPEC_CSV.encode("utf-8")
    assert_spec_call(only(parse_bytes(data, "calls.csv")))
    assert decode(data, "x") == SPEC_CSV


def test_gb18030_bytes() -> None:
    data = SPEC_TEXT.replace("客户", "客戶").encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    call = only(parse_bytes(data, "call.txt"))
    assert_spec_turns(call)
    assert decode("联通客服".encode("gbk"), "x") == "联通客服"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom(codec: str) -> None:
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(codec, b"")
    data = bom + json.dumps(SPEC_CALL, ensure_ascii=False).encode(codec)
    assert_spec_call(only(parse_bytes(data, "call.json")))


def test_byte_soup_is_a_clear_encoding_error() -> None:
    data = random.Random(7).randbytes(2000)
    error = only_error(parse_bytes(data, "soup.txt"))
    assert error.source == "soup.txt"
    assert "无法识别文件的编码" in error.reason
    for accepted in ("UTF-8", "UTF-16", "GB18030"):
        assert accepted in error.reason
    with pytest.raises(TranscriptError, match="无法识别文件的编码"):
        decode(bytes(range(256)), "x")


def test_damaged_utf8_is_not_misread_as_gb18030() -> None:
    good = "客服: 您好,很高兴为您服务\n".encode()
    error = only_error(parse_bytes(good + b"\xe4\xb8", "call.txt"))
    assert error.position == f"第 2 行(第 {len(good) + 1} 字节)"
    assert "文件看起来是 UTF-8,但含有无效的字节序列" in error.reason


def test_utf16_without_bom_is_explained() -> None:
    error = only_error(parse_bytes("agent: hello".encode("utf-16-le"), "call.txt"))
    assert "没有字节序标记(BOM)的 UTF-16" in error.reason


# ---------------------------------------------------------------------------- bad input


def test_json_syntax_error_reports_line_and_column() -> None:
    text = '{\n  "id": "1",\n  "turns": [\n    {"speaker": "agent" "text": "x"}\n  ]\n}\n'
    error = only_error(parse_text(text, "call.json"))
    assert error.position == "第 4 行第 25 列"
    assert error.reason == "JSON 格式错误(此处缺少逗号 ,)"
    assert str(error) == f"call.json:第 4 行第 25 列: {error.reason}"
    assert "\n" not in str(error)


def test_jsonl_bad_speaker_on_line_3_does_not_stop_the_others() -> None:
    calls = [{"id": str(n), "turns": [{"speaker": "agent", "text": "您好"}]} for n in range(1, 5)]
    calls[2]["turns"] = [{"speaker": "agent", "text": "您好"}, {"speaker": "老板", "text": "嗯"}]
    text = "\n".join(json.dumps(c, ensure_ascii=False) for c in calls)
    items = parse_text(text, "calls.jsonl")
    assert [i.transcript.id if i.transcript else None for i in items] == ["1", "2", None, "4"]
    error = items[2].error
    assert error.position == "第 3 行第 2 句的 speaker"
    assert "未知的说话人 '老板'" in error.reason
    assert str(error).startswith("calls.jsonl:第 3 行第 2 句的 speaker: 未知的说话人")


def test_jsonl_syntax_error_on_one_line() -> None:
    good = json.dumps({"turns": [{"speaker": "agent", "text": "x"}]})
    items = parse_text(f'{good}\n{{"turns": [}}\n{good}\n', "calls.jsonl")
    assert [i.error is None for i in items] == [True, False, True]
    assert items[1].error.position == "第 2 行第 12 列"


def test_csv_missing_text_column() -> None:
    error = only_error(parse_text("call_id,speaker,备注\n1,客服,你好\n", "calls.csv", "csv"))
    assert error.position == "第 1 行"
    assert "CSV 表头没有内容(text)列" in error.reason
    assert "'备注'" in error.reason
    assert "内容" in error.reason


def test_csv_conflicting_agent_id_names_both_rows() -> None:
    text = "call_id,speaker,text,agent_id\n1,agent,您好,12345\n2,agent,您好,9\n1,customer,嗯,54321\n"
    items = parse_text(text, "calls.csv")
    error = items[0].error
    assert error.position == "第 3 条记录(第 4 行)"
    assert "agent_id" in error.reason
    assert "'54321'" in error.reason
    assert "第 1 条记录(第 2 行)却是 '12345'" in error.reason
    assert items[1].transcript.id == "2"


def test_csv_bad_speaker_and_bad_time_point_at_the_row() -> None:
    error = only_error(parse_text('speaker,text\nagent,"a\nb"\n经理,x\n', "calls.csv"))
    assert error.position == "第 2 条记录(第 4 行)"
    assert "未知的说话人 '经理'" in error.reason
    error = only_error(parse_text("speaker,text,start\nagent,a,soon\n", "calls.csv"))
    assert error.position == "第 1 条记录(第 2 行)"
    assert "开始时间(start):'soon' 不是时间" in error.reason


def test_text_line_before_any_speaker() -> None:
    error = only_error(parse_text("\n您好,请问\n客服: 你好\n", "call.txt"))
    assert error.position == "第 2 行"
    assert "这一行没有说话人" in error.reason


def test_text_timestamp_with_unknown_speaker() -> None:
    error = only_error(parse_text("客服: 你好\n[00:01.0-00:02.0] 经理: 嗯\n", "call.txt"))
    assert error.position == "第 2 行"
    assert "未知的说话人 '经理'" in error.reason


@pytest.mark.parametrize(
    ("text", "source", "position"),
    [
        ('{"id": "1", "turns": []}', "call.json", "turns"),
        ('{"id": "1"}', "call.json", "turns"),
        ("id: 1\n\n", "call.txt", ""),
        ("speaker,text\n", "calls.csv", ""),
    ],
)
def test_zero_turns(text: str, source: str, position: str) -> None:
    error = only_error(parse_text(text, source))
    assert error.position == position
    assert "没有对话内容" in error.reason


def test_empty_input() -> None:
    error = only_error(parse_bytes(b"", "empty.json"))
    assert str(error).startswith("empty.json: 文件是空的")


@pytest.mark.parametrize(
    ("text", "source", "position"),
    [
        ('{"turns": [{"speaker": "agent", "start": 5, "end": 3}]}', "call.json", "第 1 句"),
        ("speaker,text,start,end\nagent,a,0,1\ncustomer,b,5,3\n", "calls.csv", "第 2 条记录(第 3 行)"),
        ("客服: a\n[00:05.0-00:03.0] 客户: b\n", "call.txt", "第 2 行"),
    ],
)
def test_end_before_start(text: str, source: str, position: str) -> None:
    error = only_error(parse_text(text, source))
    assert error.position == position
    assert "结束时间 3.0 秒早于开始时间 5.0 秒" in error.reason


def test_overlapping_turns_are_fine() -> None:
    call = only(parse_text("[00:00-00:05] 客服: 您好\n[00:03-00:04] 客户: 喂\n"))
    assert [t.start for t in call.turns] == [0.0, 3.0]


def test_bad_call_field_in_csv_points_at_its_row() -> None:
    error = only_error(parse_text("speaker,text,channel\nagent,a,\nagent,b,phone\n", "c.csv"))
    assert error.position == "第 2 条记录(第 3 行)"
    assert "渠道(channel)应为 'voice' 或 'chat' 之一,这里是 'phone'" in error.reason


def test_unknown_json_field_lists_the_accepted_ones() -> None:
    error = only_error(parse_text('{"turns": [{"speaker": "agent"}], "caller": "x"}', "c.json"))
    assert error.position == "caller"
    assert "不认识的字段 'caller'" in error.reason
    assert "agent_id" in error.reason


def test_parse_file_problems_are_items(tmp_path: Path) -> None:
    assert only_error(parse_file(tmp_path / "missing.json")).reason == "无法读取文件:文件不存在"
    assert only_error(parse_file(tmp_path)).reason == "这是文件夹,不是转写文件"


def test_transcript_error_is_one_line_and_picklable() -> None:
    import pickle

    error = TranscriptError("a\nb.txt", "第 3 行", "bad\nthing")
    assert str(error) == "a b.txt:第 3 行: bad thing"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.source, copy.position, copy.reason) == ("a\nb.txt", "第 3 行", "bad\nthing")
    assert str(TranscriptError("x.json", "", "文件或文件夹不存在")) == "x.json: 文件或文件夹不存在"


# ---------------------------------------------------------------------------- folders


def test_iter_paths_walks_folders_sorted_and_keeps_files_as_given(tmp_path: Path) -> None:
    for name in [
        "b/c.json",
        "a.txt",
        "b/d/e.csv",
        "b/d/photo.png",
        "z.jsonl",
        "notes.md",
        ".cache/x.json",
        "B2.CSV",
    ]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("客服: x\n", encoding="utf-8")
    single = tmp_path / "b/d/photo.png"
    found = list(iter_paths([tmp_path, single]))
    expected = sorted(tmp_path / n for n in ["b/c.json", "a.txt", "b/d/e.csv", "z.jsonl", "B2.CSV"])
    assert found == [*expected, single]
    with pytest.raises(TranscriptError, match="文件或文件夹不存在"):
        list(iter_paths([tmp_path / "nope"]))


# ---------------------------------------------------------------------------- real data


def test_real_stc3_file_parses_completely() -> None:
    shared_data(REAL_DATA.name)
    items = parse_file(REAL_DATA)
    errors = [str(i.error) for i in items if i.error is not None]
    assert errors == []
    assert len(items) == 390
    assert all(i.transcript.channel == "chat" for i in items)
    assert any(t.text == "" for i in items for t in i.transcript.turns)


def test_real_stc3_file_reencoded_as_gb18030() -> None:
    shared_data(REAL_DATA.name)
    text = REAL_DATA.read_text(encoding="utf-8")
    assert "\uf8ff" in text  # a private-use icon, which GB18030 detection must tolerate
    items = parse_bytes(text.encode("gb18030"), "stc3_test_cn.jsonl")
    assert [str(i.error) for i in items if i.error is not None] == []
    assert [i.transcript for i in items] == [i.transcript for i in parse_file(REAL_DATA)]


# ---------------------------------------------------------------------------- properties

SPEAKERS = sorted(SPEAKER_ALIASES)
ANY_CHAR = st.characters(blacklist_categories=("Cs",), blacklist_characters="\0")
TRICKY = st.sampled_from(list("客服户您好,,\"'\n\r:\uff1a[]{}-\t 　\u2028\x85"))
TEXT = st.text(st.one_of(ANY_CHAR, TRICKY), max_size=30)
ONE_LINE_TEXT = st.text(st.one_of(ANY_CHAR, TRICKY).filter(lambda c: c not in "\r\n"), max_size=30)


@st.composite
def turn_dicts(draw: st.DrawFn, text: st.SearchStrategy[str] = TEXT) -> dict[str, object]:
    turn: dict[str, object] = {"speaker": draw(st.sampled_from(SPEAKERS)), "text": draw(text)}
    if draw(st.booleans()):
        start = draw(st.integers(0, 40_000))
        turn["start"] = start / 10
        turn["end"] = (start + draw(st.integers(0, 600))) / 10
    return turn


def transcripts(text: st.SearchStrategy[str] = TEXT) -> st.SearchStrategy[Transcript]:
    return st.builds(
        lambda call_id, agent_id, turns: Transcript(id=call_id, agent_id=agent_id, turns=turns),
        st.from_regex(r"[A-Za-z0-9\-]{1,12}", fullmatch=True),
        st.none() | st.from_regex(r"[0-9]{1,6}", fullmatch=True),
        st.lists(turn_dicts(text), min_size=1, max_size=6),
    )


def write_json(call: Transcript) -> str:
    return json.dumps(call.model_dump(mode="json", exclude_none=True), ensure_ascii=False)


def write_csv(calls: list[Transcript]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["call_id", "agent_id", "speaker", "text", "start", "end"])
    for call in calls:
        for turn in call.turns:
            times = ["" if v is None else repr(v) for v in (turn.start, turn.end)]
            writer.writerow([call.id, call.agent_id or "", turn.speaker.label, turn.text, *times])
    return out.getvalue()


def clock(seconds: float) -> str:
    tenths = round(seconds * 10)
    return f"{tenths // 600:02d}:{tenths % 600 // 10:02d}.{tenths % 10}"


def write_text(call: Transcript) -> str:
    lines = []
    for turn in call.turns:
        stamp = f"[{clock(turn.start)}-{clock(turn.end)}] " if turn.start is not None else ""
        lines.append(f"{stamp}{turn.speaker.label}: {turn.text}")
    return "\n".join(lines) + "\n"


def parsed(data: str, source: str) -> list[Transcript]:
    items = parse_bytes(data.encode("utf-8"), source)
    assert all(i.error is None for i in items), [str(i.error) for i in items]
    return [i.transcript for i in items]


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(transcripts())
def test_round_trip_json(call: Transcript) -> None:
    assert parsed(write_json(call), "<stdin>") == [call]


@PROPERTY
@given(st.lists(transcripts(), min_size=1, max_size=4))
def test_round_trip_jsonl(calls: list[Transcript]) -> None:
    back = parsed("\n".join(write_json(c) for c in calls) + "\n", "calls.jsonl")
    assert back == calls


@PROPERTY
@given(st.lists(transcripts(), min_size=1, max_size=4, unique_by=lambda c: c.id))
def test_round_trip_csv(calls: list[Transcript]) -> None:
    back = parsed(write_csv(calls), "<stdin>")
    assert [(c.id, c.agent_id, c.turns) for c in back] == [(c.id, c.agent_id, c.turns) for c in calls]


@PROPERTY
@given(transcripts(ONE_LINE_TEXT))
def test_round_trip_text(call: Transcript) -> None:
    (back,) = parsed(write_text(call), "<stdin>")
    assert [(t.speaker, t.text, t.start, t.end) for t in back.turns] == [
        (t.speaker, t.text.strip(), t.start, t.end) for t in call.turns
    ]


def assert_well_formed(items: list[ParsedItem]) -> None:
    assert items
    for item in items:
        assert (item.transcript is None) != (item.error is None)
        if item.error is not None:
            assert "内部错误" not in item.error.reason
            assert "\n" not in str(item.error)


PIECES = st.sampled_from(
    [
        "{", "}", "[", "]", '"turns"', '"speaker"', '"text"', '"agent"', ":", FULL_COLON, ",",
        "\n", "\r\n", " ", "\t", '"', "客服", "客戶", "用户", "null", "1", "-1", "1e999", "NaN",
        '{"speaker": "agent", "text": "x"}', "[00:01.0-00:02.0]", "id: 1", "speaker,text",
        "start", "end", "call_id", "channel", "voice", "phone", "\ufeff", "\x00",
    ]
)  # fmt: skip


@PROPERTY
@given(st.binary(max_size=400))
def test_parse_bytes_never_raises(data: bytes) -> None:
    assert_well_formed(parse_bytes(data, "fuzz.txt"))


@PROPERTY
@given(
    st.lists(PIECES, max_size=40).map("".join),
    st.sampled_from([None, "json", "jsonl", "csv", "text"]),
    st.sampled_from(["<stdin>", "a.json", "a.jsonl", "a.csv", "a.txt"]),
)
def test_parse_text_never_raises_on_near_miss_documents(text: str, fmt: str | None, source: str) -> None:
    assert_well_formed(parse_text(text, source, fmt))
    assert_well_formed(parse_bytes(text.encode("gb18030"), source, fmt))
