"""A batch of inspected calls as one self-contained HTML page (SPEC §2).

``render_html`` takes ``(Transcript, Report)`` pairs and returns a single HTML document:
no external CSS, scripts, fonts or network, so it can be mailed around and opened from
disk. Charts are inline SVG built here; everything else is the Jinja2 template
``templates/report.html.j2``. Transcript text is untrusted: it only ever reaches the
page through Jinja2 autoescaping or :func:`markupsafe.escape`.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from kefu.inspection.charts import BINS, Bar, histogram
from kefu.inspection.charts import bin_index as _bin_index
from kefu.inspection.charts import hbars as _hbars
from kefu.inspection.charts import num as _num
from kefu.inspection.scorecard import Finding, Report
from kefu.inspection.transcript import Transcript

__all__ = ["render_html"]

TOP_RULES = 10
TOP_AGENTS = 12
UNKNOWN_AGENT = "未知"


# --------------------------------------------------------------------------- formatting


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, rest = divmod(max(0.0, float(seconds)), 60)
    return f"{int(minutes):02d}:{rest:04.1f}"


def _span_time(start: float | None, end: float | None) -> str:
    if start is None and end is None:
        return ""
    if end is None or end == start:
        return _clock(start)
    return f"{_clock(start)}–{_clock(end)}"


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", value) or "x"


def _agent_label(transcript: Transcript, report: Report) -> str:
    name = report.agent_name or transcript.agent_name
    agent_id = report.agent_id or transcript.agent_id
    if name and agent_id:
        return f"{name}({agent_id})"
    return name or agent_id or UNKNOWN_AGENT


# --------------------------------------------------------------------------- page model


@dataclass
class Segment:
    """A run of turn text covered by the same set of findings (indexes into the call's)."""

    text: str
    hits: list[int]
    title: str = ""
    css: str = ""


@dataclass
class TurnView:
    number: int  # 1-based, as shown
    anchor: str
    speaker: str
    speaker_label: str
    time: str
    empty: bool
    segments: list[Segment]
    whole: list[int]  # findings that point at the turn without a span
    whole_title: str
    hits: list[int]  # every finding on this turn, for the chips under it


@dataclass
class FindingView:
    anchor: str
    finding: Finding
    rule_anchor: str
    category: str
    deduction: str
    turn_number: int | None
    turn_anchor: str | None
    time: str
    tooltip: str


@dataclass
class CallView:
    anchor: str
    call_id: str
    agent: str
    report: Report
    transcript: Transcript
    score: str
    categories: list[dict[str, object]]
    findings: list[FindingView]
    turns: list[TurnView]
    meta: list[tuple[str, str]]


@dataclass
class RuleStat:
    rule: str
    name: str
    anchor: str
    count: int = 0
    calls: list[CallView] = field(default_factory=list)


def _tooltip(finding: Finding) -> str:
    advice = finding.suggestion or finding.message
    label = "建议" if finding.suggestion else "说明"
    return f"{finding.rule_name}({finding.rule})— {label}:{advice}"


def _segments(text: str, spans: list[tuple[int, int, int]]) -> list[Segment]:
    """Cut ``text`` at every span boundary so overlapping spans become flat, disjoint runs."""
    cuts = sorted({0, len(text)} | {s for s, _, _ in spans} | {e for _, e, _ in spans})
    segments: list[Segment] = []
    for a, b in itertools.pairwise(cuts):
        if a >= b:
            continue
        hits = [i for s, e, i in spans if s <= a and b <= e]
        if segments and segments[-1].hits == hits:
            segments[-1].text += text[a:b]
        else:
            segments.append(Segment(text[a:b], hits))
    return segments


def _call_view(position: int, transcript: Transcript, report: Report, rule_stats: dict[str, RuleStat]) -> CallView:
    anchor = f"call-{position}"
    findings: list[FindingView] = []
    spans: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    whole: dict[int, list[int]] = defaultdict(list)
    turn_count = len(transcript.turns)
    for n, f in enumerate(report.findings):
        # a turn index outside the transcript is shown in the table but cannot be highlighted
        at = f.turn if f.turn is not None and 0 <= f.turn < turn_count else None
        if at is not None:
            length = len(transcript.turns[at].text)
            start, end = f.evidence_span or (0, 0)
            start, end = max(0, min(start, length)), max(0, min(end, length))
            if start < end:
                spans[at].append((start, end, n))
            else:  # no span, or one that is empty or outside the text: light whole-turn mark
                whole[at].append(n)
        category = report.categories.get(f.category)
        findings.append(
            FindingView(
                anchor=f"{anchor}-f{n + 1}",
                finding=f,
                rule_anchor=f"rule-{_slug(f.rule)}",
                category=category.name if category else f.category,
                deduction=_num(f.deduction),
                turn_number=f.turn + 1 if f.turn is not None else None,
                turn_anchor=None if at is None else f"{anchor}-t{at + 1}",
                time=_span_time(f.start, f.end),
                tooltip=_tooltip(f),
            )
        )

    turns: list[TurnView] = []
    for index, turn in enumerate(transcript.turns):
        segments = _segments(turn.text, spans.get(index, []))
        for seg in segments:
            seg.title = "\n".join(findings[i].tooltip for i in seg.hits)
            classes = ["multi"] if len(seg.hits) > 1 else []
            if any(report.findings[i].fatal for i in seg.hits):
                classes.append("fatal")
            seg.css = " ".join(classes)
        on_turn = sorted({i for _, _, i in spans.get(index, [])} | set(whole.get(index, [])))
        turns.append(
            TurnView(
                number=index + 1,
                anchor=f"{anchor}-t{index + 1}",
                speaker=turn.speaker.value,
                speaker_label=turn.speaker.label,
                time=_span_time(turn.start, turn.end),
                empty=not turn.text.strip(),
                segments=segments,
                whole=whole.get(index, []),
                whole_title="\n".join(findings[i].tooltip for i in whole.get(index, [])),
                hits=on_turn,
            )
        )

    meta: list[tuple[str, str]] = []
    if transcript.channel:
        meta.append(("渠道", {"voice": "语音", "chat": "在线"}[transcript.channel.value]))
    if transcript.direction:
        meta.append(("方向", {"inbound": "呼入", "outbound": "呼出"}[transcript.direction.value]))
    if transcript.call_time:
        meta.append(("时间", transcript.call_time.strftime("%Y-%m-%d %H:%M:%S")))
    if transcript.answered_at and transcript.ended_at:
        seconds = (transcript.ended_at - transcript.answered_at).total_seconds()
        meta.append(("通话时长", _clock(seconds)))
    if transcript.hangup_by:
        meta.append(("挂机方", {"agent": "客服", "customer": "客户"}[transcript.hangup_by.value]))
    meta.append(("轮次", str(turn_count)))
    meta.append(("规则库", report.rulebook_version))

    view = CallView(
        anchor=anchor,
        call_id=report.id or transcript.id or "(无编号)",
        agent=_agent_label(transcript, report),
        report=report,
        transcript=transcript,
        score=_num(report.score),
        categories=[
            {
                "name": c.name,
                "score": _num(c.score),
                "max": _num(c.max),
                "ratio": 0 if c.max <= 0 else round(100 * c.score / c.max),
            }
            for c in report.categories.values()
        ],
        findings=findings,
        turns=turns,
        meta=meta,
    )
    for f in report.findings:
        stat = rule_stats.setdefault(f.rule, RuleStat(f.rule, f.rule_name, f"rule-{_slug(f.rule)}"))
        stat.count += 1
        if not stat.calls or stat.calls[-1] is not view:
            stat.calls.append(view)
    return view


# --------------------------------------------------------------------------- SVG charts


def _histogram(scores: list[float], pass_lines: list[float]) -> Markup:
    counts = [0] * len(BINS)
    for score in scores:
        counts[_bin_index(score)] += 1
    return histogram(counts, pass_lines)


def _rule_bars(stats: list[RuleStat]) -> list[Bar]:
    return [
        Bar(
            key=s.rule,
            name=s.name,
            sub=s.rule,
            count=s.count,
            title=f"{s.name}({s.rule}):{s.count} 条,涉及 {len(s.calls)} 通",
            tone="bad",
            href=f"#{s.anchor}",
        )
        for s in stats
    ]


def _agent_bars(calls: list[CallView]) -> list[Bar]:
    """Findings per agent, most first (ties: lower average score first)."""
    groups: dict[str, list[CallView]] = defaultdict(list)
    for call in calls:
        groups[call.agent].append(call)
    ranked: list[tuple[int, float, str, Bar]] = []
    for agent, members in groups.items():
        count = sum(len(c.findings) for c in members)
        average = sum(c.report.score for c in members) / len(members)
        passed = sum(c.report.passed for c in members)
        bar = Bar(
            key=agent,
            name=agent,
            sub=f"均分 {_num(average)} · {len(members)} 通",
            count=count,
            title=f"{agent}:{count} 条问题,{len(members)} 通,均分 {_num(average)},合格 {passed} 通",
            tone="good" if passed == len(members) else "bad",
        )
        ranked.append((-count, average, agent, bar))
    ranked.sort(key=lambda r: r[:3])
    return [r[3] for r in ranked]


# --------------------------------------------------------------------------- entry point


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("kefu.inspection", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def render_html(
    items: Sequence[tuple[Transcript, Report]],
    failures: Sequence[str] = (),
    title: str = "质检报告",
) -> str:
    """One self-contained HTML page for a batch of inspected calls, worst calls first."""
    order = sorted(range(len(items)), key=lambda i: (float(items[i][1].score), i))
    rule_stats: dict[str, RuleStat] = {}
    calls = [_call_view(position, *items[i], rule_stats) for position, i in enumerate(order, start=1)]
    reports = [c.report for c in calls]
    total = len(calls)
    passed = sum(r.passed for r in reports)
    stats = sorted(rule_stats.values(), key=lambda s: (-s.count, s.rule))
    pass_lines = sorted({r.pass_line for r in reports})
    agents = _agent_bars(calls)
    summary = {
        "calls": total,
        "average": _num(sum(r.score for r in reports) / total) if total else "—",
        "pass_rate": f"{100 * passed / total:.1f}%" if total else "—",
        "passed": passed,
        "failed": total - passed,
        "fatal": sum(r.fatal for r in reports),
        "findings": sum(len(r.findings) for r in reports),
        "failures": len(failures),
        "pass_lines": "、".join(_num(p) for p in pass_lines),
        "versions": "、".join(sorted({r.rulebook_version for r in reports})),
    }
    charts = {}
    if total:
        charts = {
            "histogram": _histogram([r.score for r in reports], pass_lines),
            "rules": _hbars(_rule_bars(stats[:TOP_RULES]), "问题最多的规则", kind="rule"),
            "agents": _hbars(agents[:TOP_AGENTS], "按客服统计", kind="agent"),
        }
    template = _environment().get_template("report.html.j2")
    return template.render(
        title=title,
        summary=summary,
        failures=[str(f).replace("\n", " ").strip() for f in failures],
        calls=calls,
        charts=charts,
        rules=stats,
        shown_rules=min(len(stats), TOP_RULES),
        agents=agents,
        shown_agents=min(len(agents), TOP_AGENTS),
    )
