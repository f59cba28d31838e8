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
from markupsafe import Markup, escape

from kefu.inspection.scorecard import Finding, Report
from kefu.inspection.transcript import Transcript

__all__ = ["render_html"]

BINS = [(10 * i, 10 * i + 9) for i in range(9)] + [(90, 100)]
TOP_RULES = 10
TOP_AGENTS = 12
UNKNOWN_AGENT = "未知"


# --------------------------------------------------------------------------- formatting


def _num(value: float) -> str:
    """87.0 -> "87", 92.5 -> "92.5"."""
    rounded = round(float(value), 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


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


def _bin_index(score: float) -> int:
    return min(max(int(float(score) // 10), 0), len(BINS) - 1)


def _agent_label(transcript: Transcript, report: Report) -> str:
    name = report.agent_name or transcript.agent_name
    agent_id = report.agent_id or transcript.agent_id
    if name and agent_id:
        return f"{name}({agent_id})"
    return name or agent_id or UNKNOWN_AGENT


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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

_SVG_OPEN = (
    '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" '
    'width="{w}" height="{h}" role="img" aria-label="{label}">'
)


def _histogram(scores: list[float], pass_lines: list[float]) -> Markup:
    w, h = 400, 230
    left, right, top, bottom = 30, 14, 22, 40
    plot_w, plot_h = w - left - right, h - top - bottom
    counts = [0] * len(BINS)
    for score in scores:
        counts[_bin_index(score)] += 1
    peak = max([*counts, 1])
    step = plot_w / len(BINS)
    pass_line = min(pass_lines) if pass_lines else None
    out = [_SVG_OPEN.format(w=w, h=h, label="分数分布")]
    # y grid: 0, peak/2, peak (integers only)
    for value in sorted({0, peak // 2, peak}):
        y = top + plot_h - plot_h * value / peak
        out.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{w - right}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
    for i, ((lo, hi), count) in enumerate(zip(BINS, counts, strict=True)):
        x = left + i * step
        bar_h = plot_h * count / peak
        y = top + plot_h - bar_h
        below = pass_line is not None and hi < pass_line
        cls = "bar bad" if below else "bar good"
        out.append(f'<g class="bin" data-bin="{lo}-{hi}" data-count="{count}">')
        out.append(f"<title>{lo}–{hi} 分:{count} 通</title>")
        if count:
            out.append(
                f'<rect class="{cls}" x="{x + 2:.1f}" y="{y:.1f}" '
                f'width="{step - 4:.1f}" height="{bar_h:.1f}" rx="2"/>'
                f'<text class="value" x="{x + step / 2:.1f}" y="{y - 5:.1f}" '
                f'text-anchor="middle">{count}</text>'
            )
        out.append("</g>")
        out.append(f'<text class="tick" x="{x:.1f}" y="{top + plot_h + 15}" text-anchor="middle">{lo}</text>')
    out.append(
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{w - right}" y2="{top + plot_h}"/>'
        f'<text class="tick" x="{w - right}" y="{top + plot_h + 15}" '
        f'text-anchor="middle">100</text>'
        f'<text class="caption" x="{left + plot_w / 2:.1f}" y="{h - 6}" '
        f'text-anchor="middle">分数(每档 10 分,90–100 为一档)</text>'
    )
    for line in sorted(set(pass_lines)):
        x = left + plot_w * min(max(line, 0), 100) / 100
        out.append(
            f'<g class="pass-line" data-pass-line="{_num(line)}">'
            f'<line x1="{x:.1f}" y1="{top - 8}" x2="{x:.1f}" y2="{top + plot_h}"/>'
            f'<text x="{x - 4:.1f}" y="{top - 10}" text-anchor="end">合格线 {_num(line)}</text>'
            "</g>"
        )
    out.append("</svg>")
    return Markup("".join(out))


@dataclass
class Bar:
    key: str  # goes into data-rule / data-agent
    name: str
    sub: str
    count: int
    title: str
    tone: str = "neutral"  # good | bad | neutral
    href: str | None = None


def _hbars(bars: list[Bar], label: str, kind: str) -> Markup:
    """Horizontal bars: two-line label on the left, bar, number at the bar's end."""
    w, row_h, label_w, right = 400, 32, 150, 40
    h = max(1, len(bars)) * row_h + 8
    bar_w = w - label_w - right
    peak = max([b.count for b in bars] + [1])
    out = [_SVG_OPEN.format(w=w, h=h, label=escape(label))]
    for i, bar in enumerate(bars):
        y = 4 + i * row_h
        length = max(2.0, bar_w * bar.count / peak) if bar.count else 0.0
        body = (
            f'<g class="hbar" data-{kind}="{escape(bar.key)}" data-count="{bar.count}">'
            f"<title>{escape(bar.title)}</title>"
            f'<text class="name" x="{label_w - 8}" y="{y + 12}" text-anchor="end">'
            f"{escape(_short(bar.name, 11))}</text>"
            f'<text class="sub" x="{label_w - 8}" y="{y + 24}" text-anchor="end">'
            f"{escape(_short(bar.sub, 26))}</text>"
            f'<rect class="bar {escape(bar.tone)}" x="{label_w}" y="{y + 5}" '
            f'width="{length:.1f}" height="{row_h - 12}" rx="2"/>'
            f'<text class="value" x="{label_w + length + 5:.1f}" y="{y + 19}">{bar.count}</text>'
            "</g>"
        )
        out.append(f'<a href="{escape(bar.href)}">{body}</a>' if bar.href else body)
    if not bars:
        out.append(f'<text class="caption" x="{w / 2}" y="{h / 2 + 4}" text-anchor="middle">无</text>')
    out.append("</svg>")
    return Markup("".join(out))


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
