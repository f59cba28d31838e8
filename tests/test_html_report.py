"""The batch HTML report: summary, SVG charts, highlighted transcripts, escaping."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from kefu.inspection.html_report import render_html
from kefu.inspection.scorecard import Finding, Report
from kefu.inspection.transcript import Transcript

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        found = []
        for node in self.iter():
            if tag is not None and node.tag != tag:
                continue
            if all(_attr_matches(node, k, v) for k, v in attrs.items()):
                found.append(node)
        return found

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())


def _attr_matches(node: Node, key: str, value: str) -> bool:
    key = key.rstrip("_").replace("_", "-")
    if key == "class":
        return value in node.classes()
    return node.attrs.get(key) == value


class TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent  # type: ignore[assignment]
        assert node is not self.root, f"stray </{tag}>"
        self.current = node.parent  # type: ignore[assignment]

    def handle_data(self, data):
        self.current.children.append(data)


def parse(page: str) -> Node:
    builder = TreeBuilder()
    builder.feed(page)
    builder.close()
    assert builder.current is builder.root, f"unclosed <{builder.current.tag}>"
    return builder.root


def by_id(root: Node, element_id: str) -> Node:
    (node,) = root.find_all(id=element_id)
    return node


def strip_tags(fragment: str) -> str:
    root = parse(fragment)
    return root.text


# --------------------------------------------------------------------------- fixtures


def opening(agent_id: str = "12346") -> str:
    return f"您好,欢迎致电智能科技,我是客服小王,工号{agent_id},请问有什么可以帮您?"


OPENING = opening()
CLOSING = "请问还有其他可以帮到您的吗?感谢您的来电,再见。"


def call(call_id: str, *turns: tuple[str, str], **extra) -> Transcript:
    return Transcript.model_validate(
        {
            "id": call_id,
            "company": "智能科技",
            "turns": [{"speaker": s, "text": t} for s, t in turns],
            **extra,
        }
    )


@pytest.fixture(scope="module")
def forbidden(inspector):
    t = call(
        "bad-1",
        ("agent", OPENING),
        ("customer", "我的宽带断了。"),
        ("agent", "你问我我问谁,我不知道。"),
        ("customer", ""),
        ("agent", CLOSING),
        agent_id="12346",
        agent_name="小王",
    )
    return t, inspector.inspect(t)


@pytest.fixture(scope="module")
def clean(inspector):
    t = call(
        "good-2",
        ("agent", opening("12347")),
        ("customer", "我想问一下宽带怎么报装。"),
        ("agent", "好的,您可以在营业厅办理,我也可以现在帮您登记。"),
        ("agent", CLOSING),
        agent_id="12347",
    )
    return t, inspector.inspect(t)


@pytest.fixture(scope="module")
def traditional(inspector):
    t = call(
        "tw-3",
        ("客服", "您好,歡迎致電智能科技,我是客服小王,工號888,很高興為您服務。"),
        ("客戶", "我的帳單不對。"),
        ("客服", "你問我我問誰,我不清楚。"),
        ("客服", "請問還有其他可以幫到您的嗎?感謝您的來電,再見。"),
    )
    return t, inspector.inspect(t)


@pytest.fixture(scope="module")
def batch(forbidden, clean, traditional):
    items = [clean, forbidden, traditional]
    return items, render_html(items)


def rule_findings(report: Report, rule: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule]


def test_fixtures_mean_what_the_tests_assume(forbidden, clean, traditional):
    assert rule_findings(forbidden[1], "forbidden_phrase")
    assert rule_findings(traditional[1], "forbidden_phrase")
    assert clean[1].findings == []
    assert clean[1].score == 100


# --------------------------------------------------------------------------- summary


def test_summary_numbers(batch):
    items, page = batch
    root = parse(page)
    reports = [r for _, r in items]
    assert by_id(root, "sum-calls").text == "3"
    assert float(by_id(root, "sum-average").text) == pytest.approx(sum(r.score for r in reports) / 3, abs=0.05)
    passed = sum(r.passed for r in reports)
    assert by_id(root, "sum-passed").text == f"{passed}/3"
    assert by_id(root, "sum-pass-rate").text == f"{100 * passed / 3:.1f}%"
    assert by_id(root, "sum-fatal").text == "0"
    assert by_id(root, "sum-findings").text == str(sum(len(r.findings) for r in reports))
    assert by_id(root, "sum-failures").text == "0"
    assert not root.find_all(id="failures")


def test_fatal_count_and_failed_call(forbidden, clean):
    t, r = forbidden
    fatal = replace(r, score=0, fatal=True, passed=False)
    root = parse(render_html([(t, fatal), clean]))
    assert by_id(root, "sum-fatal").text == "1"
    assert by_id(root, "sum-passed").text == "1/2"
    assert by_id(root, "sum-pass-rate").text == "50.0%"
    section = by_id(root, "call-1")
    badges = {b.text for b in section.find_all("span", class_="badge")}
    assert {"致命项", "不合格"} <= badges


def test_failures_are_listed_prominently_and_escaped(clean):
    failures = ["a.json: 第 3 行 JSON 格式错误", "<b>x</b>.csv: 缺少 speaker 列"]
    page = render_html([clean], failures=failures)
    root = parse(page)
    box = by_id(root, "failures")
    assert [li.text for li in box.find_all("li", class_="failure")] == failures
    assert "2 个文件解析失败" in box.text
    assert by_id(root, "sum-failures").text == "2"
    assert "<b>x</b>" not in page
    # before the summary, not buried at the end
    assert page.index('id="failures"') < page.index('id="summary"')


def test_empty_batch_says_there_are_no_calls():
    page = render_html([], failures=["only.json: 无法解析"])
    root = parse(page)
    assert "没有通话" in by_id(root, "no-calls").text
    assert by_id(root, "sum-calls").text == "0"
    assert by_id(root, "sum-average").text == "—"
    assert not root.find_all("svg")
    assert [li.text for li in root.find_all("li", class_="failure")] == ["only.json: 无法解析"]


# --------------------------------------------------------------------------- charts


def bins(root: Node) -> dict[str, int]:
    out = {}
    for g in root.find_all("g", class_="bin"):
        count = int(g.attrs["data-count"])
        values = [t.text for t in g.find_all("text", class_="value")]
        assert values == ([str(count)] if count else [])
        out[g.attrs["data-bin"]] = count
    return out


def test_histogram_puts_each_score_in_its_bin(forbidden):
    t, r = forbidden
    scored = [(t, replace(r, score=s)) for s in (0, 9.9, 10, 79.9, 80, 100, 100)]
    root = parse(render_html(scored))
    assert bins(root) == {
        "0-9": 2, "10-19": 1, "20-29": 0, "30-39": 0, "40-49": 0, "50-59": 0,
        "60-69": 0, "70-79": 1, "80-89": 1, "90-100": 2,
    }  # fmt: skip
    (line,) = root.find_all("g", class_="pass-line")
    assert line.attrs["data-pass-line"] == "80"
    assert "合格线 80" in line.text


def test_histogram_of_real_batch(batch):
    items, page = batch
    expected = {}
    for _, r in items:
        low = min(int(r.score // 10) * 10, 90)
        label = f"{low}-{100 if low == 90 else low + 9}"
        expected[label] = expected.get(label, 0) + 1
    counts = bins(parse(page))
    assert {k: v for k, v in counts.items() if v} == expected


def test_rule_bar_shows_count_and_links_to_the_calls(batch):
    items, page = batch
    root = parse(page)
    count = sum(len(rule_findings(r, "forbidden_phrase")) for _, r in items)
    assert count >= 2
    (bar,) = root.find_all("g", data_rule="forbidden_phrase")
    assert bar.attrs["data-count"] == str(count)
    assert bar.find_all("text", class_="value")[0].text == str(count)
    assert "服务禁语" in bar.text and "forbidden_phrase" in bar.text
    assert bar.parent is not None and bar.parent.tag == "a"
    assert bar.parent.attrs["href"] == "#rule-forbidden_phrase"
    entry = by_id(root, "rule-forbidden_phrase")
    linked = {a.text for a in entry.find_all("a")}
    assert linked == {"bad-1", "tw-3"}
    for a in entry.find_all("a"):
        assert root.find_all(id=a.attrs["href"][1:]), a.attrs["href"]


def test_agent_chart(batch):
    items, page = batch
    root = parse(page)
    bars = {g.attrs["data-agent"]: g for g in root.find_all("g", class_="hbar") if "data-agent" in g.attrs}
    assert set(bars) == {"小王(12346)", "12347", "未知"}
    bad = next(r for _, r in items if r.id == "bad-1")
    assert bars["小王(12346)"].attrs["data-count"] == str(len(bad.findings))
    assert bars["12347"].attrs["data-count"] == "0"
    assert f"均分 {bad.score:g}" in bars["小王(12346)"].text


# --------------------------------------------------------------------------- per call


def test_calls_sorted_worst_first_with_details(batch):
    items, page = batch
    root = parse(page)
    sections = root.find_all("section", class_="call")
    ids = [s.find_all("span", class_="call-id")[0].text for s in sections]
    expected = [r.id for _, r in sorted(items, key=lambda item: item[1].score)]
    assert ids == expected
    assert [s.attrs["id"] for s in sections] == ["call-1", "call-2", "call-3"]
    bad = next(r for _, r in items if r.id == "bad-1")
    section = next(s for s in sections if "bad-1" in s.text)
    for cat in bad.categories.values():
        assert f"{cat.name} {cat.score:g}/{cat.max:g}" in " ".join(section.text.split())
    for na in bad.not_applicable_reasons:
        assert na.rule in section.find_all("p", class_="na")[0].text
        assert na.missing in section.find_all("p", class_="na")[0].text
    rows = section.find_all("tr", class_="finding")
    assert [r.attrs["data-rule"] for r in rows] == [f.rule for f in bad.findings]
    forbidden_row = next(r for r in rows if r.attrs["data-rule"] == "forbidden_phrase")
    finding = rule_findings(bad, "forbidden_phrase")[0]
    for text in (finding.message, finding.standard, finding.source, finding.suggestion):
        assert text and text in forbidden_row.text
    assert f"第 {finding.turn + 1} 句" in forbidden_row.text


def turn_node(root: Node, call_anchor: str, index: int) -> Node:
    return by_id(root, f"{call_anchor}-t{index + 1}")


def call_anchor(root: Node, call_id: str) -> str:
    for section in root.find_all("section", class_="call"):
        if section.find_all("span", class_="call-id")[0].text == call_id:
            return section.attrs["id"]
    raise AssertionError(call_id)


def text_of(turn: Node) -> Node:
    return turn.find_all("span", class_="text")[0]


def test_evidence_is_marked_with_rule_and_suggestion(batch, forbidden, traditional):
    _, page = batch
    root = parse(page)
    for transcript, report in (forbidden, traditional):
        anchor = call_anchor(root, report.id)
        finding = rule_findings(report, "forbidden_phrase")[0]
        assert finding.turn is not None and finding.evidence_span is not None
        start, end = finding.evidence_span
        original = transcript.turns[finding.turn].text[start:end]
        turn = turn_node(root, anchor, finding.turn)
        marks = [m for m in turn.find_all("mark") if original in m.text]
        assert marks, (original, [m.text for m in turn.find_all("mark")])
        assert finding.rule_name in marks[0].attrs["title"]
        assert finding.suggestion and finding.suggestion in marks[0].attrs["title"]
        assert text_of(turn).text == transcript.turns[finding.turn].text
    # the traditional call keeps its own characters
    assert "我問誰" in {m.text for m in root.find_all("mark")}


def extra_finding(rule: str, turn: int, span: tuple[int, int] | None, **kw) -> Finding:
    return Finding(
        rule=rule,
        rule_name=kw.pop("rule_name", rule.upper()),
        category="language",
        deduction=1,
        turn=turn,
        evidence_span=span,
        message="m",
        standard="s",
        source="src",
        suggestion=kw.pop("suggestion", f"改为{rule}"),
        **kw,
    )


def test_overlapping_spans_keep_every_character(forbidden):
    t, r = forbidden
    text = "0123456789"
    t = t.model_copy(update={"turns": [*t.turns, t.turns[0].model_copy(update={"text": text})]})
    n = len(t.turns) - 1
    extra = [
        extra_finding("aa", n, (0, 5)),
        extra_finding("bb", n, (3, 8)),
        extra_finding("cc", n, (3, 8)),
        extra_finding("dd", n, (7, 99)),  # past the end: clamped
        extra_finding("ee", n, (4, 4)),  # empty: treated as whole-turn
        extra_finding("ff", 999, (0, 1)),  # no such turn: listed, not highlighted
    ]
    r = replace(r, findings=[*r.findings, *extra])
    page = render_html([(t, r)])
    root = parse(page)
    turn = turn_node(root, "call-1", n)
    assert text_of(turn).text == text
    match = re.search(rf'<li id="call-1-t{n + 1}".*?</li>', page, re.S)
    assert match and text in re.sub(r"\s", "", strip_tags(match.group(0)))
    marks = {m.text: m for m in turn.find_all("mark")}
    assert "".join(marks) == "0123456789"
    assert list(marks) == ["012", "34", "56", "7", "89"]
    assert "AA" in marks["012"].attrs["title"] and "BB" not in marks["012"].attrs["title"]
    for rule in ("AA", "BB", "CC"):
        assert rule in marks["34"].attrs["title"]
    assert "multi" in marks["34"].classes() and "multi" not in marks["012"].classes()
    assert "AA" not in marks["56"].attrs["title"] and "CC" in marks["56"].attrs["title"]
    assert all(rule in marks["7"].attrs["title"] for rule in ("BB", "CC", "DD"))
    assert "改为dd" in marks["89"].attrs["title"]
    whole = text_of(turn)
    assert "whole" in whole.classes() and "EE" in whole.attrs["title"]
    (row,) = [tr for tr in root.find_all("tr", class_="finding") if tr.attrs["data-rule"] == "ff"]
    assert "第 1000 句" in row.text and not row.find_all("a", href="#call-1-t1000")
    assert all("FF" not in m.attrs["title"] for m in root.find_all("mark"))


def test_finding_without_span_highlights_the_whole_turn_lightly(forbidden):
    t, r = forbidden
    r = replace(r, findings=[extra_finding("zz", 0, None, rule_name="整句问题")])
    root = parse(render_html([(t, r)]))
    first = text_of(turn_node(root, "call-1", 0))
    assert "whole" in first.classes()
    assert "整句问题" in first.attrs["title"] and "改为zz" in first.attrs["title"]
    assert not first.find_all("mark")
    second = text_of(turn_node(root, "call-1", 1))
    assert "whole" not in second.classes() and "title" not in second.attrs


def test_empty_turn_and_speaker_labels(batch, forbidden):
    root = parse(batch[1])
    anchor = call_anchor(root, "bad-1")
    empty = turn_node(root, anchor, 3)
    assert text_of(empty).text == "(空)"
    labels = [turn_node(root, anchor, i).find_all("span", class_="who")[0].text for i in range(len(forbidden[0].turns))]
    assert labels == ["客服", "客户", "客服", "客户", "客服"]


def test_turn_times_are_shown(inspector):
    t = Transcript.model_validate(
        {
            "id": "timed",
            "turns": [
                {"speaker": "agent", "start": 0, "end": 4.1, "text": OPENING},
                {"speaker": "customer", "start": 65.5, "end": 70, "text": "好的"},
            ],
        }
    )
    root = parse(render_html([(t, inspector.inspect(t))]))
    assert "00:00.0–00:04.1" in turn_node(root, "call-1", 0).text
    assert "01:05.5–01:10.0" in turn_node(root, "call-1", 1).text


# --------------------------------------------------------------------------- safety


def test_untrusted_text_is_escaped(inspector):
    evil = "<script>alert(1)</script>"
    t = Transcript.model_validate(
        {
            "id": f'x"><img src=x onerror=alert(1)>{evil}',
            "agent_name": evil,
            "turns": [
                {"speaker": "agent", "text": OPENING},
                {"speaker": "customer", "text": evil},
                {"speaker": "agent", "text": f"{evil}你问我我问谁"},
            ],
        }
    )
    report = inspector.inspect(t)
    assert rule_findings(report, "forbidden_phrase")
    page = render_html([(t, report)], title=evil)
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    root = parse(page)
    assert text_of(turn_node(root, "call-1", 1)).text == evil
    assert text_of(turn_node(root, "call-1", 2)).text == f"{evil}你问我我问谁"
    assert root.find_all("title")[0].text == evil


def test_page_is_self_contained(batch):
    page = batch[1]
    root = parse(page)
    assert root.find_all("html")[0].attrs["lang"] == "zh-CN"
    assert not root.find_all("script") and not root.find_all("link") and not root.find_all("img")
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", page)
    assert "@import" not in page and "url(" not in page
    for a in root.find_all("a"):
        href = a.attrs.get("href") or ""
        assert href.startswith("#"), href
        assert root.find_all(id=href[1:]), href
    assert len(root.find_all("svg")) == 3
