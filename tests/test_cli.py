"""The ``kefu`` command, run as a user runs it: a real process, real files, exit statuses."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kefu.inspection.parsers import parse_file
from kefu.rulebook.loader import load_rulebook

KEFU = Path(sys.executable).parent / "kefu"
EXAMPLES = Path(__file__).parents[1] / "src/kefu/examples"
FIXTURES = Path(__file__).parent / "fixtures"

REPORT_KEYS = {"id", "score", "passed", "fatal", "categories", "findings", "not_applicable"}
FINDING_KEYS = {
    "rule",
    "category",
    "deduction",
    "turn",
    "start",
    "end",
    "evidence",
    "message",
    "suggestion",
}
FORMATS = ("table", "json", "jsonl", "csv", "html")

GOOD_CALL = {
    "id": "good-0001",
    "channel": "voice",
    "direction": "inbound",
    "agent_id": "12345",
    "agent_name": "小李",
    "company": "智能科技",
    "turns": [
        {"speaker": "agent", "text": "您好,感谢致电智能科技客服中心,工号12345,很高兴为您服务。"},
        {"speaker": "customer", "text": "我想查一下套餐。"},
        {"speaker": "agent", "text": "不知道,你问我我问谁。"},
    ],
}
# The comma after "agent" is missing on line 4.
BAD_JSON = '{\n  "id": "bad-0001",\n  "turns": [\n    {"speaker": "agent" "text": "您好"}\n  ]\n}\n'


def kefu(*args: str | Path, cwd: Path | None = None, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb", **settings}
    env.pop("KEFU_DEBUG", None)
    return subprocess.run(
        [str(KEFU), *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=cwd,
        timeout=120,
    )


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr
    assert "内部错误" not in result.stdout + result.stderr


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def example_ids() -> list[str]:
    ids = []
    for path in sorted(EXAMPLES.iterdir()):
        for item in parse_file(path):
            assert item.transcript is not None, item.error
            ids.append(item.transcript.id or path.stem)
    return ids


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    path = tmp_path / "good.json"
    path.write_text(json.dumps(GOOD_CALL, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_command_is_installed() -> None:
    assert KEFU.exists(), KEFU


# ---------------------------------------------------------------- help


def test_help() -> None:
    result = kefu("--help")
    assert result.returncode == 0
    for command in ("qa", "rules", "greet", "check"):
        assert command in result.stdout


def test_qa_help() -> None:
    result = kefu("qa", "--help")
    assert result.returncode == 0
    for option in ("--format", "--rules", "--out"):
        assert option in result.stdout
    for fmt in FORMATS:
        assert fmt in result.stdout


def test_rules_help() -> None:
    result = kefu("rules", "--help")
    assert result.returncode == 0
    for command in ("list", "show", "validate", "scripts"):
        assert command in result.stdout


ENGLISH_HELP = re.compile(r"Usage|Options|Arguments|Commands|Show this message|default:|required")


@pytest.mark.parametrize("args", [["--help"], ["qa", "--help"], ["rules", "--help"], ["serve", "--help"], []])
def test_help_is_chinese(args: list[str]) -> None:
    result = kefu(*args)
    assert result.returncode == (2 if not args else 0)  # `kefu` alone shows the help as a refusal
    assert "用法:kefu" in result.stdout and "显示此帮助并退出" in result.stdout
    assert not ENGLISH_HELP.search(result.stdout), result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["qa", "--fromat", "json"], "没有选项 --fromat(您是不是想用 --format"),
        (["serve", "--workers", "100"], "选项 --workers 的值不对:不能大于 64"),
        (["serve", "--port", "http"], "选项 --port 的值不对:应为整数"),
        (["rules", "show"], "缺少参数 规则"),
        (["rules", "show", "forbidden_phrase", "opening"], "多余的参数:opening"),
        (["rules", "shwo"], "没有命令「shwo」(您是不是想用 show?)"),
        (["nosuch"], "没有命令「nosuch」"),
        (["greet", "--at"], "选项 --at 后面需要一个值"),
    ],
)
def test_command_line_mistakes_are_explained_in_chinese(args: list[str], message: str) -> None:
    result = kefu(*args)
    no_traceback(result)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"kefu:错误:{message}"), result.stderr


# ---------------------------------------------------------------- qa


def test_qa_without_paths_inspects_the_examples() -> None:
    result = kefu("qa")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    ids = example_ids()
    assert len(ids) >= 5
    for call_id in ids:
        assert call_id in result.stdout, call_id
    assert f"共 {len(ids)} 通" in result.stdout


def test_qa_json_is_the_spec_report() -> None:
    result = kefu("qa", EXAMPLES / "02_complaint_problems.txt", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert isinstance(report, dict)
    assert set(report) >= REPORT_KEYS
    assert report["id"] == "02_complaint_problems"
    assert isinstance(report["score"], int | float) and 0 <= report["score"] <= 100
    assert report["passed"] is (report["score"] >= 80 and not report["fatal"])
    assert set(report["categories"]) <= {"opening_closing", "attitude", "business", "language"}
    for category in report["categories"].values():
        assert 0 <= category["score"] <= category["max"]
    assert report["findings"]
    for finding in report["findings"]:
        assert set(finding) >= FINDING_KEYS, finding
    assert all(isinstance(rule, str) for rule in report["not_applicable"])
    rules = {f["rule"] for f in report["findings"]}
    assert {"forbidden_phrase", "negative_wording"} <= rules
    (unknown,) = [f for f in report["findings"] if f["evidence"] == "不知道"]
    assert unknown["suggestion"] == "我需要查询后告诉您"
    assert unknown["category"] == "language"
    assert unknown["deduction"] > 0


def test_qa_json_for_several_calls_is_an_array() -> None:
    result = kefu(
        "qa",
        EXAMPLES / "01_consultation_good.json",
        EXAMPLES / "03_online_chats.jsonl",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    reports = json.loads(result.stdout)
    assert isinstance(reports, list)
    assert [r["id"] for r in reports] == ["20261122-0001", "chat-0001", "chat-0002"]
    assert all(set(r) >= REPORT_KEYS for r in reports)


def test_qa_jsonl_is_one_object_per_line() -> None:
    result = kefu("qa", EXAMPLES, "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(example_ids())
    reports = [json.loads(line) for line in lines]
    assert sorted(r["id"] for r in reports) == sorted(example_ids())
    assert all(set(r) >= REPORT_KEYS for r in reports)


def test_qa_csv_has_one_row_per_finding() -> None:
    path = EXAMPLES / "02_complaint_problems.txt"
    findings = json.loads(kefu("qa", path, "--format", "json").stdout)["findings"]
    result = kefu("qa", path, "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == len(findings)
    assert {"rule", "deduction", "evidence", "suggestion"} <= set(rows[0])
    assert [row["rule"] for row in rows] == [f["rule"] for f in findings]
    assert [row["evidence"] for row in rows] == [f["evidence"] or "" for f in findings]


def test_qa_csv_out_writes_a_file_excel_can_read(tmp_path: Path) -> None:
    out = tmp_path / "findings.csv"
    result = kefu("qa", EXAMPLES, "--format", "csv", "--out", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert {row["call_id"] for row in rows} == set(example_ids())


def test_qa_out_into_a_missing_folder_says_why_in_chinese(tmp_path: Path, good_file: Path) -> None:
    target = tmp_path / "no-such-folder" / "report.json"
    result = kefu("qa", good_file, "--format", "json", "--out", target)
    no_traceback(result)
    assert result.returncode == 2
    assert one_line(result.stderr) == f"kefu:错误:无法写入 {target}:文件或文件夹不存在"


def test_qa_html_out_writes_a_page_with_charts(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = kefu("qa", EXAMPLES, "--format", "html", "--out", out)
    assert result.returncode == 0, result.stderr
    page = out.read_text("utf-8")
    assert "<svg" in page
    for call_id in example_ids():
        assert call_id in page
    assert str(out) in result.stderr  # tells where it went


def test_qa_folder_with_a_malformed_file(tmp_path: Path, good_file: Path) -> None:
    (tmp_path / "bad.json").write_text(BAD_JSON, encoding="utf-8")
    result = kefu("qa", tmp_path)
    no_traceback(result)
    assert result.returncode == 1
    (error,) = [line for line in result.stderr.splitlines() if "bad.json" in line]
    assert "bad.json:第 4 行第 25 列: JSON 格式错误(此处缺少逗号 ,)" in error
    assert "good-0001" in result.stdout
    assert "bad-0001" not in result.stdout

    as_json = kefu("qa", tmp_path, "--format", "json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["id"] == "good-0001"
    assert "bad.json" in as_json.stderr


def test_qa_gb18030_file(tmp_path: Path) -> None:
    path = tmp_path / "gbk.txt"
    text = "客服: 您好,很高兴为您服务。\n客户: 我想查一下话费。\n客服: 不知道,你问我我问谁。\n"
    path.write_bytes(text.encode("gb18030"))
    result = kefu("qa", path, "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    evidence = {f["evidence"] for f in report["findings"]}
    assert {"不知道", "我问谁"} <= evidence


def test_qa_unknown_encoding(tmp_path: Path) -> None:
    path = tmp_path / "weird.json"
    path.write_bytes(b'{"turns": [{"speaker": "agent", "text": "\x80\x80\x80 \xff\xff"}]}')
    result = kefu("qa", path)
    no_traceback(result)
    assert result.returncode != 0
    (error,) = [line for line in result.stderr.splitlines() if "weird.json" in line]
    assert "无法识别文件的编码" in error


def test_qa_missing_path(tmp_path: Path) -> None:
    result = kefu("qa", tmp_path / "nope.json")
    no_traceback(result)
    assert result.returncode != 0
    assert one_line(result.stderr).endswith("nope.json: 文件或文件夹不存在")


def test_qa_unknown_format(good_file: Path) -> None:
    result = kefu("qa", good_file, "--format", "xml")
    no_traceback(result)
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "xml" in line
    for fmt in FORMATS:
        assert fmt in line


def test_qa_with_a_broken_rulebook(tmp_path: Path, good_file: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("company: 智能科技\npass_line: 85\nrules:\n  - {id: opening, pointz: 3}\n")
    result = kefu("qa", good_file, "--rules", broken)
    no_traceback(result)
    assert result.returncode == 2
    assert f"{broken}:4: " in result.stderr
    assert "pointz" in result.stderr
    assert result.stdout.strip() == ""


def test_qa_with_the_centre_rulebook(good_file: Path) -> None:
    plain = json.loads(kefu("qa", good_file, "--format", "json").stdout)
    result = kefu("qa", good_file, "--rules", FIXTURES / "centre.yaml", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["pass_line"] == 85
    deductions = {f["rule"]: f["deduction"] for f in report["findings"]}
    assert deductions["forbidden_phrase"] == 2
    assert {f["rule"]: f["deduction"] for f in plain["findings"]}["forbidden_phrase"] == 1


# ---------------------------------------------------------------- rules


def test_rules_list_lists_every_rule() -> None:
    result = kefu("rules", "list")
    assert result.returncode == 0, result.stderr
    for rule in load_rulebook().rules:
        assert rule.id in result.stdout, rule.id
        assert rule.name in result.stdout, rule.name


def test_rules_list_with_the_centre_rulebook() -> None:
    result = kefu("rules", "list", "--rules", FIXTURES / "centre.yaml")
    assert result.returncode == 0, result.stderr
    assert "85" in result.stdout  # the centre's pass line
    (disabled,) = [line for line in result.stdout.splitlines() if "call_duration" in line]
    assert "停用" in disabled
    (patched,) = [line for line in result.stdout.splitlines() if "forbidden_phrase" in line]
    assert "停用" not in patched
    assert "no_competitor" in result.stdout


def test_rules_show() -> None:
    result = kefu("rules", "show", "forbidden_phrase")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "forbidden_phrase" in out
    assert "category: language" in out
    assert "set: forbidden" in out
    assert "deduction: 1" in out
    assert "服务禁语" in out


def test_rules_show_unknown_rule() -> None:
    result = kefu("rules", "show", "nope")
    no_traceback(result)
    assert result.returncode == 2
    assert "nope" in one_line(result.stderr)


def test_rules_validate_good_file() -> None:
    result = kefu("rules", "validate", FIXTURES / "centre.yaml")
    assert result.returncode == 0, result.stderr
    assert "centre.yaml" in result.stdout


def test_rules_validate_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("pass_line: 85\nrules:\n  - id: forbidden_phrase\n    deduction: -1\n")
    result = kefu("rules", "validate", bad)
    no_traceback(result)
    assert result.returncode == 2
    assert f"{bad}:4: " in result.stderr
    assert "deduction" in result.stderr


# ---------------------------------------------------------------- greet


def test_greet_spring_festival() -> None:
    result = kefu("greet", "--at", "2026-02-17T08:30")
    assert result.returncode == 0, result.stderr
    assert "春节好" in result.stdout
    (festival,) = [h for h in load_rulebook().greetings.holidays if h.name == "春节"]
    assert festival.closing in result.stdout
    assert "早上好" not in result.stdout


def test_greet_friday_evening() -> None:
    result = kefu("greet", "--at", "2026-11-27T20:00")
    assert result.returncode == 0, result.stderr
    assert "晚上好" in result.stdout
    assert "祝您周末愉快,再见!" in result.stdout


def test_greet_garbage() -> None:
    result = kefu("greet", "--at", "garbage")
    no_traceback(result)
    assert result.returncode == 2
    assert "--at「garbage」不是日期和时间" in one_line(result.stderr)


def test_greet_is_on_the_centres_clock() -> None:
    """KEFU_TIMEZONE decides the time shown and the greeting, as on the platform's workbench."""
    moment = "2026-11-23T23:40:00+00:00"  # Tuesday 07:40 in Shanghai, still Monday evening in UTC
    shanghai = kefu("greet", "--at", moment, KEFU_TIMEZONE="Asia/Shanghai")
    assert "时间:2026-11-24 07:40 周二(Asia/Shanghai)" in shanghai.stdout and "早上好" in shanghai.stdout
    utc = kefu("greet", "--at", moment, KEFU_TIMEZONE="UTC")
    assert "时间:2026-11-23 23:40 周一(UTC)" in utc.stdout and "晚上好" in utc.stdout
    typed = kefu("greet", "--at", "2026-11-24T07:40", KEFU_TIMEZONE="Asia/Shanghai")  # no zone: the centre's
    assert "时间:2026-11-24 07:40" in typed.stdout and "早上好" in typed.stdout
    # Now is now on the centre's clock, whatever the machine's zone (+14:00 is nobody's machine).
    zone = ZoneInfo("Pacific/Kiritimati")
    before = datetime.now(zone).replace(second=0, microsecond=0, tzinfo=None)
    now = kefu("greet", KEFU_TIMEZONE="Pacific/Kiritimati")
    after = datetime.now(zone).replace(tzinfo=None)
    shown = re.search(r"时间:(\d{4}-\d\d-\d\d \d\d:\d\d)", now.stdout)
    assert shown is not None, now.stdout
    assert before <= datetime.strptime(shown[1], "%Y-%m-%d %H:%M") <= after


# ---------------------------------------------------------------- check


def test_check_finds_forbidden_and_negative_wording() -> None:
    result = kefu("check", "不知道,你问我我问谁")
    assert result.returncode == 1
    assert "我需要查询后告诉您" in result.stdout  # 004's replacement for 不知道
    assert "我问谁" in result.stdout
    assert "对不起,这个问题我马上帮您处理,请您稍等。" in result.stdout


@pytest.mark.parametrize("sentence", ["请问您有什么事?", "不知道您对哪个套餐更感兴趣呢"])
def test_check_accepts_polite_forms(sentence: str) -> None:
    result = kefu("check", sentence)
    assert result.returncode == 0, result.stdout
    assert "建议" not in result.stdout


def test_check_traditional_characters() -> None:
    result = kefu("check", "你聽錯了")
    assert result.returncode == 1
    assert "可能我的表达不够清楚" in result.stdout


CDR = """通话编号,振铃时间,接听时间,挂机时间,工号,班组,主叫号码,来电原因,保持时长
A1,2026-11-03 09:00:00,2026-11-03 09:00:08,2026-11-03 09:03:08,10001,一组,13800000001,账单,10
A2,2026-11-03 09:10:00,2026-11-03 09:10:30,2026-11-03 09:14:00,10002,二组,13800000002,宽带,
A3,2026-11-03 09:20:00,,2026-11-03 09:20:03,,,13800000003,账单,
A4,2026-11-04 10:00:00,,2026-11-04 10:00:50,,,13800000004,账单,
A5,2026-11-05 10:00:00,2026-11-05 10:00:05,2026-11-05 10:02:05,10001,一组,13800000001,账单,
A6,2026-12-02 10:00:00,2026-12-02 10:00:05,2026-12-02 10:02:05,10002,二组,13800000002,宽带,
"""


def test_kefu_kpi_computes_a_month_from_a_switch_export(tmp_path: Path) -> None:
    """November: A1–A5. Service level 2 of 4 (A3 gave up within 5 s and does not count, A4 after
    50 s is a failure, A2 answered after 30 s); abandonment 1 of 4; ASA (8 + 30 + 5) / 3; handling
    (180 + 10 + 210 + 120) / 3; first-contact resolution 2 of 3 (A1's customer called again about
    the bill two days later; A2's call back falls in December, after the seven days)."""
    cdr = tmp_path / "话单.csv"
    cdr.write_text(CDR, encoding="utf-8")
    done = kefu("kpi", cdr, "--month", "2026-11", "--format", "json")
    assert done.returncode == 0, done.stderr
    centre = json.loads(done.stdout)["全中心"]
    assert centre["offered"] == 5 and centre["answered"] == 3
    assert (centre["service_level"]["numerator"], centre["service_level"]["denominator"]) == (2, 4)
    assert (centre["abandonment"]["numerator"], centre["abandonment"]["denominator"]) == (1, 4)
    assert centre["asa"]["value"] == pytest.approx(43 / 3) and centre["handling"]["value"] == pytest.approx(520 / 3)
    assert (centre["fcr"]["numerator"], centre["fcr"]["denominator"]) == (2, 3)
    teams = json.loads(kefu("kpi", cdr, "--month", "2026-11", "--by", "team", "--format", "json").stdout)
    assert sorted(teams) == ["(未填)", "一组", "二组"] and teams["一组"]["service_level"]["value"] == 1.0
    table = kefu("kpi", cdr, "--month", "2026-11")
    assert "全中心" in table.stdout and "50.0%(2/4)" in table.stdout and "5 秒内挂断的不计入" in table.stdout


def test_kefu_kpi_names_every_bad_row(tmp_path: Path) -> None:
    cdr = tmp_path / "bad.csv"
    cdr.write_text(
        "振铃时间,接听时间,保持时长\n2026-11-03 09:00,明天,x\n,2026-11-03 09:00,\n2026-11-03 09:00,2026-11-03 08:59,\n",
        encoding="utf-8",
    )
    done = kefu("kpi", cdr)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    for problem in ("第 2 行:接听时间:时间格式不正确", "第 2 行:保持时长:应为秒数", "第 3 行:振铃时间:不能为空",
                    "第 4 行:接听时间:接听时间早于振铃时间"):  # fmt: skip
        assert problem in done.stderr, done.stderr
