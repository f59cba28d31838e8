"""The rulebook: the shipped defaults, their seed content, validation errors, centre overrides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kefu.inspection.engine import Inspector
from kefu.inspection.parsers import parse_file
from kefu.inspection.transcript import Transcript
from kefu.rulebook.loader import RulebookError, load_rulebook
from kefu.rulebook.schema import Rulebook

ROOT = Path(__file__).parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = ROOT / "src/kefu/examples"

SPEC_RULE_IDS = [
    "answer_delay",
    "opening",
    "greeting_variant",
    "forbidden_phrase",
    "negative_wording",
    "interruption",
    "dead_air",
    "speech_rate",
    "customer_name",
    "identity_verification",
    "empathy",
    "transfer_etiquette",
    "commitment_time",
    "read_back",
    "privacy",
    "closing",
    "hangup_order",
    "call_duration",
    "silent_call",
]
SEEDS = ("000", "001", "002", "003", "004")
CATEGORY_POINTS = {"opening_closing": 20, "attitude": 30, "business": 30, "language": 20}

# 004 专业用语训练 禁用与推荐用语对照 (SPEC §1)
PAIRS_004 = [
    ("不知道", "我需要查询后告诉您"),
    ("不可能", "按照规定暂不支持"),
    ("您听错了", "可能我的表达不够清楚"),
    ("等一下", "请您稍等片刻"),
    ("我不负责这个", "让我帮您转接专业部门"),
]


def cites_seed(source: str | None) -> bool:
    return source is not None and any(seed in source for seed in SEEDS)


def transcript(*turns: tuple[str, str], **fields: object) -> Transcript:
    return Transcript.model_validate({**fields, "turns": [{"speaker": s, "text": t} for s, t in turns]})


def example(name: str) -> Transcript:
    (item,) = parse_file(EXAMPLES / name)
    assert item.transcript is not None, item.error
    return item.transcript


def write(tmp_path: Path, text: str, name: str = "centre.yaml", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def refused(path: Path) -> RulebookError:
    with pytest.raises(RulebookError) as caught:
        load_rulebook([path])
    return caught.value


def rule_ids(report) -> list[str]:
    return [f.rule for f in report.findings]


# ---------------------------------------------------------------- the shipped rulebook


def test_shipped_rulebook_has_every_spec_rule(rulebook: Rulebook) -> None:
    ids = [rule.id for rule in rulebook.rules]
    assert set(SPEC_RULE_IDS) <= set(ids), set(SPEC_RULE_IDS) - set(ids)
    assert len(ids) == len(set(ids)), "a rule id is used twice"
    assert all(rulebook.rule(rule_id).enabled for rule_id in SPEC_RULE_IDS)


def test_every_rule_cites_a_seed(rulebook: Rulebook) -> None:
    assert [r.id for r in rulebook.rules if not cites_seed(r.source)] == []


def test_every_phrase_set_entry_with_a_source_cites_a_seed(rulebook: Rulebook) -> None:
    bad = [
        (name, entry.text, entry.source)
        for name, phrase_set in rulebook.phrase_sets.items()
        for entry in phrase_set.entries
        if entry.source is not None and not cites_seed(entry.source)
    ]
    bad += [
        (name, None, phrase_set.source)
        for name, phrase_set in rulebook.phrase_sets.items()
        if phrase_set.source is not None and not cites_seed(phrase_set.source)
    ]
    assert bad == []
    # the sets a centre relies on most carry a source on every entry
    for name in ("forbidden", "negative"):
        assert all(cites_seed(e.source) for e in rulebook.phrase_sets[name].entries), name


def test_every_script_holiday_and_template_cites_a_seed(rulebook: Rulebook) -> None:
    assert rulebook.scripts
    assert [s.id for s in rulebook.scripts if not cites_seed(s.source)] == []
    assert [h.id for h in rulebook.greetings.holidays if not cites_seed(h.source)] == []
    assert [t.id for t in rulebook.greetings.templates if not cites_seed(t.source)] == []


def test_categories_are_the_four_of_seed_004(rulebook: Rulebook) -> None:
    names = {key: category.name for key, category in rulebook.categories.items()}
    assert names == {
        "opening_closing": "开场与结束",
        "attitude": "服务态度",
        "business": "业务处理",
        "language": "语言表达",
    }
    assert all("004" in (c.source or "") for c in rulebook.categories.values())


def test_category_points_sum_to_20_30_30_20_for_an_inbound_voice_call(rulebook: Rulebook) -> None:
    totals = dict.fromkeys(rulebook.categories, 0.0)
    for rule in rulebook.rules:
        scope = rule.applies_to
        if scope is None or (scope.direction in (None, "inbound") and scope.channel in (None, "voice")):
            totals[rule.category] += rule.points
    assert totals == CATEGORY_POINTS


def test_a_complete_inbound_call_is_scored_out_of_20_30_30_20(rulebook: Rulebook) -> None:
    """What the QA manager sees: the category maxima of the 004 scorecard on a call
    where every rule applies (README: 开场与结束 20 · 服务态度 30 · 业务处理 30 · 语言表达 20)."""
    call = example("01_consultation_good.json")
    report = Inspector(rulebook).inspect(call)
    assert report.not_applicable == []
    maxima = {key: c.max for key, c in report.categories.items()}
    assert maxima == CATEGORY_POINTS


def test_privacy_and_abuse_are_fatal_and_pass_line_is_80(rulebook: Rulebook) -> None:
    assert rulebook.rule("privacy").fatal
    assert rulebook.rule("abuse").fatal
    assert {r.id for r in rulebook.rules if r.fatal} == {"privacy", "abuse"}
    assert rulebook.pass_line == 80


# ---------------------------------------------------------------- seed content


def test_opening_templates_of_000_003_004(rulebook: Rulebook) -> None:
    templates = {t.id: t.text for t in rulebook.greetings.templates}
    seed_blanks = {
        "000": ({"company": "[企业名称]", "agent_id": "[工号]"}, "您好,[企业名称]客服[工号],很高兴为您服务"),
        "003": (
            {"company": "XX", "agent_name": "YYY"},
            "您好,欢迎致电XX客户服务热线,客服代表YYY很高兴为您服务,请问有什么可以帮助您",
        ),
        "004": (
            {"company": "XX", "agent_id": "XXXX"},
            "感谢您致电XX客服中心,我是客服编号XXXX的工作人员,很高兴为您服务",
        ),
    }
    for seed, (blanks, wording) in seed_blanks.items():
        filled = [
            text.format_map(blanks)
            for text in templates.values()
            if "{company}" in text and set(re.findall(r"\{(\w+)\}", text)) <= set(blanks)
        ]
        assert any(wording in text for text in filled), f"{seed}: {wording}"


@pytest.mark.parametrize(("forbidden", "recommended"), PAIRS_004)
def test_004_forbidden_to_recommended_pairs(rulebook: Rulebook, forbidden: str, recommended: str) -> None:
    entries = [
        entry
        for name in ("forbidden", "negative")
        for entry in rulebook.phrase_sets[name].entries
        if forbidden in (entry.text, entry.quote)
    ]
    assert entries, forbidden
    assert any(e.suggestion == recommended and "004" in (e.source or "") for e in entries)


def test_001_this_has_nothing_to_do_with_me(rulebook: Rulebook) -> None:
    entries = rulebook.phrase_sets["forbidden"].entries
    assert any("这与我无关" in (e.text, e.quote) and "001" in (e.source or "") for e in entries)


def test_003_hello_speak_up(rulebook: Rulebook) -> None:
    entries = rulebook.phrase_sets["forbidden"].entries
    assert any("喂,说话呀" in (e.quote or e.text) and "003" in (e.source or "") for e in entries)
    # and it is caught as said, with its punctuation
    call = transcript(("agent", "喂,说话呀!"))
    findings = Inspector(rulebook).inspect(call).findings
    assert any(f.rule == "forbidden_phrase" and "说话" in (f.evidence or "") for f in findings)


def test_003_negative_wording(rulebook: Rulebook) -> None:
    texts = {e.text for e in rulebook.phrase_sets["negative"].entries}
    assert {"我不能", "我不会", "我不可以"} <= texts


def test_silent_call_script(rulebook: Rulebook) -> None:
    (script,) = [s for s in rulebook.scripts if s.scenario == "无声电话"]
    assert "003" in script.source
    assert script.steps[0] == "您好!请问有什么可以帮助您?"
    assert "对不起,您的电话没有声音,请您换一部电话再次打来,好吗?再见!" in script.steps
    assert sum("5秒" in step for step in script.steps) == 3
    assert script.steps[-1] == "挂机"
    assert any("喂,说话呀" in avoid for avoid in script.avoid)


def test_002_cross_region_and_out_of_scope_scripts(rulebook: Rulebook) -> None:
    from_002 = [s for s in rulebook.scripts if "002" in s.source]
    cross = [s for s in from_002 if any("XYZ10086" in step for step in s.steps)]
    assert cross, "cross-region script"
    assert any("跨区服务热线" in step for step in cross[0].steps)
    scope = [s for s in from_002 if any("三次" in step for step in s.steps)]
    assert scope, "out-of-scope script"
    assert any("请礼貌解释三次后挂机" in step for step in scope[0].steps)
    assert any("已超出我公司服务范围" in step for step in scope[0].steps)


# ---------------------------------------------------------------- bad rulebooks


def assert_problem(error: RulebookError, path: Path, line: int, *words: str) -> None:
    assert error.problems, "no problem reported"
    files_lines = [(file, ln) for file, ln, _ in error.problems]
    assert (str(path), line) in files_lines, error.problems
    reason = next(r for file, ln, r in error.problems if (file, ln) == (str(path), line))
    for word in words:
        assert word in reason, reason
    assert f"{path}:{line}: " in str(error)


RULE_HEAD = """\
rules:
  - id: r1
    name: 测试规则
    category: language
    points: 2
    deduction: 1
    source: 本中心规范
    standard: 标准
    message: 说明
"""  # 9 lines; the next line is line 10


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "company: 智能科技\npass_line: 85\n  oops: 1\n")
    assert_problem(refused(path), path, 3, "不是有效的 YAML", "缩进")


def test_yaml_syntax_error_in_flow_list(tmp_path: Path) -> None:
    path = write(tmp_path, "company: 智能科技\nphrase_sets:\n  forbidden:\n    remove: [就这样吧\n")
    error = refused(path)
    assert error.problems[0][0] == str(path)
    assert "YAML" in error.problems[0][2]
    assert error.problems[0][1] in (4, 5)


def test_unknown_section(tmp_path: Path) -> None:
    path = write(tmp_path, "company: 智能科技\npassline: 85\n")
    assert_problem(refused(path), path, 2, "未知的段「passline」", "rules")


def test_rule_with_a_typo_in_a_key(tmp_path: Path) -> None:
    path = write(tmp_path, RULE_HEAD + "    forbidd: {speaker: agent, phrases: [隔壁家]}\n")
    assert_problem(refused(path), path, 10, "forbidd", "未知的键")


def test_rule_with_both_forbid_and_require(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        RULE_HEAD
        + "    forbid: {speaker: agent, phrases: [隔壁家]}\n"
        + "    require: {exists: {speaker: agent, phrases: [您好]}}\n",
    )
    error = refused(path)
    (problem,) = error.problems
    assert problem[0] == str(path)
    assert problem[1] in (2, 10, 11)  # the rule, or one of the two keys
    assert "forbid" in problem[2] and "require" in problem[2] and "有且只有" in problem[2]


def test_rule_with_unknown_category(tmp_path: Path) -> None:
    path = write(tmp_path, RULE_HEAD.replace("language", "manners") + "    forbid: {phrases: [x]}\n")
    assert_problem(refused(path), path, 4, "未知的类别「manners」", "language")


def test_reference_to_unknown_phrase_set(tmp_path: Path) -> None:
    path = write(tmp_path, RULE_HEAD + "    forbid:\n      speaker: agent\n      set: no_such_set\n")
    assert_problem(refused(path), path, 12, "未知的短语集「no_such_set」")


def test_invalid_regex(tmp_path: Path) -> None:
    path = write(tmp_path, RULE_HEAD + "    forbid:\n      speaker: agent\n      regex: '(隔壁'\n")
    assert_problem(refused(path), path, 12, "(隔壁", "正则表达式", "缺少「)」")


def test_negative_deduction(tmp_path: Path) -> None:
    path = write(tmp_path, RULE_HEAD.replace("deduction: 1", "deduction: -1") + "    forbid: {phrases: [x]}\n")
    assert_problem(refused(path), path, 6, "deduction", "应大于 0")


def test_pass_line_above_100(tmp_path: Path) -> None:
    path = write(tmp_path, "company: 智能科技\npass_line: 120\n")
    assert_problem(refused(path), path, 2, "pass_line", "不能大于 100")


def test_holiday_on_an_impossible_day(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "greetings:\n"
        "  holidays:\n"
        "    - id: founders_day\n"
        "      name: 司庆\n"
        '      solar: ["13-40"]\n'
        "      greeting: 司庆快乐\n"
        "      closing: 再见\n",
    )
    assert_problem(refused(path), path, 5, "13-40", "MM-DD")


def test_capture_regex_without_a_group(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        RULE_HEAD
        + "    capture:\n"
        + "      surname: {speaker: customer, regex: '我姓.'}\n"
        + "    when: {known: surname}\n"
        + "    forbid: {speaker: agent, phrases: [x]}\n",
    )
    assert_problem(refused(path), path, 11, "我姓.", "分组")


def test_file_neither_utf8_nor_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "centre.yaml"
    path.write_bytes(b"company: \xff\xfe\xff\n")
    error = refused(path)
    assert [(file, reason) for file, _, reason in error.problems] == [(str(path), "不是 UTF-8 或 GB18030 编码的文本")]
    assert str(path) in str(error)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    error = refused(path)
    ((file, _, reason),) = error.problems
    assert file == str(path)
    assert reason == "无法读取:文件或文件夹不存在"
    assert str(path) in str(error)


def test_a_script_of_an_unknown_stage_and_a_removed_phrase_that_was_never_there(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "phrase_sets:\n  forbidden:\n    remove: [没有这句话]\n"
        "scripts:\n  - id: s1\n    stage: lunch\n    scenario: 午休\n    title: 午休时来电\n"
        "    steps: [您好]\n    source: 本中心规范\n",
    )
    error = refused(path)
    assert_problem(error, path, 3, "remove:「没有这句话」不在短语集 forbidden 中")
    assert_problem(error, path, 6, "未知的通话阶段「lunch」")


def test_every_schema_problem_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rules:\n  - id: forbidden_phrase\n    deduction: -1\n  - id: call_duration\n    enabld: false\n",
    )
    error = refused(path)
    assert {(file, line) for file, line, _ in error.problems} == {(str(path), 3), (str(path), 5)}


def test_a_patch_error_points_at_the_centre_file(tmp_path: Path) -> None:
    path = write(tmp_path, "pass_line: 85\nrules:\n  - id: forbidden_phrase\n    deduction: 0\n")
    error = refused(path)
    assert [(file, line) for file, line, _ in error.problems] == [(str(path), 4)]
    assert "kefu/rulebook/data" not in str(error)


def test_a_patch_typo_points_at_the_centre_file(tmp_path: Path) -> None:
    path = write(tmp_path, "rules:\n  - id: negative_wording\n    dedcution: 2\n")
    error = refused(path)
    assert [(file, line) for file, line, _ in error.problems] == [(str(path), 3)]
    assert "dedcution" in error.problems[0][2]


# ---------------------------------------------------------------- centre overrides


def test_company_and_pass_line(tmp_path: Path) -> None:
    rulebook = load_rulebook([write(tmp_path, "company: 智能科技\npass_line: 85\n")])
    assert rulebook.company == "智能科技"
    assert rulebook.pass_line == 85
    # the company is what the opening must mention when a transcript names none
    said = transcript(("agent", "您好,欢迎致电智能科技客户服务热线,工号12345,很高兴为您服务。"))
    other = transcript(("agent", "您好,欢迎致电天天快递客户服务热线,工号12345,很高兴为您服务。"))
    inspector = Inspector(rulebook)
    assert "opening" not in rule_ids(inspector.inspect(said))
    assert "opening" in rule_ids(inspector.inspect(other))


def test_pass_line_decides_passed(tmp_path: Path, rulebook: Rulebook) -> None:
    call = example("02_complaint_problems.txt")
    score = Inspector(rulebook).inspect(call).score
    assert 0 < score < 100
    strict = load_rulebook([write(tmp_path, f"pass_line: {min(100, score + 0.5)}\n")])
    lenient = load_rulebook([write(tmp_path, f"pass_line: {score}\n", "lenient.yaml")])
    assert not Inspector(strict).inspect(call).passed
    assert Inspector(lenient).inspect(call).passed


def test_extra_forbidden_entry_keeps_the_defaults(tmp_path: Path, rulebook: Rulebook) -> None:
    path = write(
        tmp_path,
        "phrase_sets:\n"
        "  forbidden:\n"
        "    entries:\n"
        "      - {text: 这不归我们管, suggestion: 我帮您联系负责的部门, source: 本中心规范 3.2}\n",
    )
    centre = load_rulebook([path])
    before = [e.text for e in rulebook.phrase_sets["forbidden"].entries]
    after = [e.text for e in centre.phrase_sets["forbidden"].entries]
    assert after == [*before, "这不归我们管"]
    report = Inspector(centre).inspect(transcript(("agent", "这不归我们管,您等一下。")))
    found = {f.evidence: f.suggestion for f in report.findings if f.rule == "forbidden_phrase"}
    assert found == {"这不归我们管": "我帮您联系负责的部门", "等一下": "请您稍等片刻"}


def test_remove_drops_a_default_entry(tmp_path: Path, rulebook: Rulebook) -> None:
    path = write(tmp_path, "phrase_sets:\n  forbidden:\n    remove: [就这样吧]\n")
    centre = load_rulebook([path])
    texts = [e.text for e in centre.phrase_sets["forbidden"].entries]
    assert "就这样吧" not in texts
    assert len(texts) == len(rulebook.phrase_sets["forbidden"].entries) - 1
    call = transcript(("agent", "就这样吧。"))
    assert "forbidden_phrase" in rule_ids(Inspector(rulebook).inspect(call))
    assert "forbidden_phrase" not in rule_ids(Inspector(centre).inspect(call))


def test_replace_true_replaces_a_set(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "phrase_sets:\n"
        "  forbidden:\n"
        "    replace: true\n"
        "    entries:\n"
        "      - {text: 不归我管, suggestion: 我帮您联系负责的部门, source: 本中心规范 3.2}\n",
    )
    centre = load_rulebook([path])
    assert [e.text for e in centre.phrase_sets["forbidden"].entries] == ["不归我管"]
    report = Inspector(centre).inspect(transcript(("agent", "不归我管,您等一下。")))
    assert [f.evidence for f in report.findings if f.rule == "forbidden_phrase"] == ["不归我管"]


def test_rule_patch_changes_only_that_field(tmp_path: Path, rulebook: Rulebook) -> None:
    path = write(tmp_path, "rules:\n  - {id: forbidden_phrase, deduction: 2}\n")
    centre = load_rulebook([path])
    before = rulebook.rule("forbidden_phrase").model_dump()
    after = centre.rule("forbidden_phrase").model_dump()
    assert after["deduction"] == 2
    assert {k: v for k, v in after.items() if k != "deduction"} == {k: v for k, v in before.items() if k != "deduction"}
    assert [r.id for r in centre.rules] == [r.id for r in rulebook.rules]
    report = Inspector(centre).inspect(transcript(("agent", "您听错了。")))
    assert [f.deduction for f in report.findings if f.rule == "forbidden_phrase"] == [2]


def long_consultation() -> Transcript:
    call = example("01_consultation_good.json")
    assert call.answered_at is not None
    return call.model_copy(update={"ended_at": call.answered_at.replace(minute=20)})


def test_disabled_rule_is_never_reported(tmp_path: Path, rulebook: Rulebook) -> None:
    call = long_consultation()
    assert "call_duration" in rule_ids(Inspector(rulebook).inspect(call))
    centre = load_rulebook([write(tmp_path, "rules:\n  - {id: call_duration, enabled: false}\n")])
    assert centre.rule("call_duration").enabled is False
    inspector = Inspector(centre)
    for name in ("01_consultation_good.json", "02_complaint_problems.txt"):
        report = inspector.inspect(example(name))
        assert "call_duration" not in rule_ids(report) + report.not_applicable
    report = inspector.inspect(call)
    assert "call_duration" not in rule_ids(report) + report.not_applicable
    assert report.score == 100


NEW_RULE = """\
phrase_sets:
  competitors:
    label: 竞争对手
    entries: [隔壁家, 某某公司]
rules:
  - id: no_competitor
    name: 不提竞品
    category: language
    points: 4
    deduction: 2
    source: 本中心规范 5.1
    standard: 不主动提及竞争对手
    message: 提及竞争对手
    suggestion: 介绍我们自己的产品优势
    forbid: {speaker: agent, set: competitors}
"""


def test_a_new_rule_is_added_and_fires(tmp_path: Path, rulebook: Rulebook) -> None:
    centre = load_rulebook([write(tmp_path, NEW_RULE)])
    assert [r.id for r in centre.rules] == [*(r.id for r in rulebook.rules), "no_competitor"]
    inspector = Inspector(centre)
    call = transcript(
        ("agent", "您好,请问有什么可以帮您?"),
        ("customer", "隔壁家比你们便宜。"),
        ("agent", "隔壁家的质量不行。"),
    )
    findings = [f for f in inspector.inspect(call).findings if f.rule == "no_competitor"]
    assert len(findings) == 1  # the customer may name a competitor; only the agent is checked
    (finding,) = findings
    assert (finding.turn, finding.evidence, finding.category, finding.deduction) == (
        2,
        "隔壁家",
        "language",
        2,
    )
    assert finding.suggestion == "介绍我们自己的产品优势"
    assert "no_competitor" not in rule_ids(inspector.inspect(example("01_consultation_good.json")))


def test_gb18030_centre_file(tmp_path: Path) -> None:
    text = "# 本中心规范\ncompany: 智能科技\nphrase_sets:\n  forbidden:\n    entries: [这不归我们管]\n"
    path = write(tmp_path, text, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    centre = load_rulebook([path])
    assert centre.company == "智能科技"
    assert "这不归我们管" in [e.text for e in centre.phrase_sets["forbidden"].entries]


def test_gb18030_centre_file_errors_still_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "company: 智能科技\n通过线: 85\n", encoding="gb18030")
    assert_problem(refused(path), path, 2, "通过线")


# ---------------------------------------------------------------- the README's example


def test_readme_example_is_the_fixture() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    assert (FIXTURES / "centre.yaml").read_text("utf-8") in blocks


def test_readme_example_validates_and_its_effects_hold(rulebook: Rulebook) -> None:
    centre = load_rulebook([FIXTURES / "centre.yaml"])
    assert centre.company == "智能科技"
    assert centre.pass_line == 85
    forbidden = {e.text: e for e in centre.phrase_sets["forbidden"].entries}
    assert "就这样吧" not in forbidden
    assert forbidden["这不归我们管"].suggestion == "我帮您联系负责的部门"
    assert forbidden["这不归我们管"].source == "本中心规范 3.2"
    assert "我问谁" in forbidden  # the defaults stay
    assert centre.rule("call_duration").enabled is False
    assert centre.rule("forbidden_phrase").deduction == 2
    new = centre.rule("no_competitor")
    assert (new.category, new.points, new.deduction) == ("language", 4, 2)

    inspector = Inspector(centre)
    call = transcript(
        ("agent", "您好,欢迎致电智能科技客服热线,工号12345,很高兴为您服务,请问有什么可以帮您?"),
        ("customer", "某某公司比你们便宜。"),
        ("agent", "某某公司的服务不如我们,这不归我们管,就这样吧。"),
    )
    report = inspector.inspect(call)
    by_rule: dict[str, list[str | None]] = {}
    for f in report.findings:
        by_rule.setdefault(f.rule, []).append(f.evidence)
    assert by_rule["no_competitor"] == ["某某公司"]
    assert by_rule["forbidden_phrase"] == ["这不归我们管"]
    assert "opening" not in by_rule  # the company comes from the centre file
    assert [f.deduction for f in report.findings if f.rule == "forbidden_phrase"] == [2]
    assert report.pass_line == 85

    long_call = long_consultation()
    assert "call_duration" in rule_ids(Inspector(rulebook).inspect(long_call))
    assert "call_duration" not in rule_ids(inspector.inspect(long_call))
