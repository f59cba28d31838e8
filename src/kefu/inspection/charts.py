"""Inline SVG charts drawn on the server: the score histogram, horizontal bars and weekly
columns. Used by the offline HTML report (``kefu.inspection.html_report``) and the platform's
quality reports (``/quality/reports``); a bar with ``href`` is a link (drill-down)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BINS = [(10 * i, 10 * i + 9) for i in range(9)] + [(90, 100)]

SVG_OPEN = (
    '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" '
    'width="{w}" height="{h}" role="img" aria-label="{label}">'
)


def num(value: float) -> str:
    """87.0 -> "87", 92.5 -> "92.5"."""
    rounded = round(float(value), 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bin_index(score: float) -> int:
    """The histogram bin of a score: 0–9 … 80–89, then 90–100 together."""
    return min(max(int(float(score) // 10), 0), len(BINS) - 1)


def _link(body: str, href: str | None) -> str:
    return f'<a href="{escape(href)}">{body}</a>' if href else body


def histogram(counts: Sequence[int], pass_lines: Sequence[float], hrefs: Sequence[str | None] | None = None) -> Markup:
    """Calls per score bin (``counts`` follows ``BINS``); bins under the lowest pass line are red."""
    w, h = 400, 230
    left, right, top, bottom = 30, 14, 22, 40
    plot_w, plot_h = w - left - right, h - top - bottom
    peak = max([*counts, 1])
    step = plot_w / len(BINS)
    pass_line = min(pass_lines) if pass_lines else None
    out = [SVG_OPEN.format(w=w, h=h, label="分数分布")]
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
        body = [f'<g class="bin" data-bin="{lo}-{hi}" data-count="{count}">', f"<title>{lo}–{hi} 分:{count} 通</title>"]
        if count:
            body.append(
                f'<rect class="{cls}" x="{x + 2:.1f}" y="{y:.1f}" '
                f'width="{step - 4:.1f}" height="{bar_h:.1f}" rx="2"/>'
                f'<text class="value" x="{x + step / 2:.1f}" y="{y - 5:.1f}" '
                f'text-anchor="middle">{count}</text>'
            )
        body.append("</g>")
        out.append(_link("".join(body), hrefs[i] if hrefs and count else None))
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
            f'<g class="pass-line" data-pass-line="{num(line)}">'
            f'<line x1="{x:.1f}" y1="{top - 8}" x2="{x:.1f}" y2="{top + plot_h}"/>'
            f'<text x="{x - 4:.1f}" y="{top - 10}" text-anchor="end">合格线 {num(line)}</text>'
            "</g>"
        )
    out.append("</svg>")
    return Markup("".join(out))


@dataclass
class Bar:
    key: str  # goes into data-rule / data-agent / …
    name: str
    sub: str
    count: float  # the bar's length
    title: str
    tone: str = "neutral"  # good | bad | neutral
    href: str | None = None
    value: str | None = None  # shown at the bar's end instead of ``count``


def hbars(bars: list[Bar], label: str, kind: str, scale: float | None = None) -> Markup:
    """Horizontal bars: two-line label on the left, bar, number at the bar's end. ``scale``: the
    length of a full bar (default: the longest bar)."""
    w, row_h, label_w, right = 400, 32, 150, 40
    h = max(1, len(bars)) * row_h + 8
    bar_w = w - label_w - right
    peak = scale or max([b.count for b in bars] + [1])
    out = [SVG_OPEN.format(w=w, h=h, label=escape(label))]
    for i, bar in enumerate(bars):
        y = 4 + i * row_h
        length = max(2.0, bar_w * bar.count / peak) if bar.count else 0.0
        shown = bar.value if bar.value is not None else num(bar.count)
        body = (
            f'<g class="hbar" data-{kind}="{escape(bar.key)}" data-count="{num(bar.count)}">'
            f"<title>{escape(bar.title)}</title>"
            f'<text class="name" x="{label_w - 8}" y="{y + 12}" text-anchor="end">'
            f"{escape(short(bar.name, 11))}</text>"
            f'<text class="sub" x="{label_w - 8}" y="{y + 24}" text-anchor="end">'
            f"{escape(short(bar.sub, 26))}</text>"
            f'<rect class="bar {escape(bar.tone)}" x="{label_w}" y="{y + 5}" '
            f'width="{length:.1f}" height="{row_h - 12}" rx="2"/>'
            f'<text class="value" x="{label_w + length + 5:.1f}" y="{y + 19}">{escape(shown)}</text>'
            "</g>"
        )
        out.append(_link(body, bar.href))
    if not bars:
        out.append(f'<text class="caption" x="{w / 2}" y="{h / 2 + 4}" text-anchor="middle">无</text>')
    out.append("</svg>")
    return Markup("".join(out))


@dataclass
class Column:
    """One week (or any period) of a trend: a bar for the mean score, a dot for the pass rate."""

    key: str
    label: str
    value: float | None  # 0–100; None: no calls
    rate: float | None  # 0–1
    title: str
    href: str | None = None


def trend(columns: list[Column], label: str, pass_line: float | None = None) -> Markup:
    """Columns on a 0–100 scale (mean score), the pass rate as a line over them."""
    w, h = 560, 230
    left, right, top, bottom = 30, 14, 22, 40
    plot_w, plot_h = w - left - right, h - top - bottom
    step = plot_w / max(1, len(columns))
    out = [SVG_OPEN.format(w=w, h=h, label=escape(label))]
    for value in (0, 50, 100):
        y = top + plot_h - plot_h * value / 100
        out.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{w - right}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
    dots: list[tuple[float, float]] = []
    for i, column in enumerate(columns):
        x = left + i * step
        body = [f'<g class="week" data-week="{escape(column.key)}"><title>{escape(column.title)}</title>']
        if column.value is not None:
            bar_h = plot_h * min(max(column.value, 0), 100) / 100
            y = top + plot_h - bar_h
            tone = "bad" if pass_line is not None and column.value < pass_line else "good"
            body.append(
                f'<rect class="bar {tone}" x="{x + 3:.1f}" y="{y:.1f}" width="{max(step - 6, 2):.1f}" '
                f'height="{bar_h:.1f}" rx="2"/>'
                f'<text class="value" x="{x + step / 2:.1f}" y="{y - 5:.1f}" text-anchor="middle">'
                f"{num(column.value)}</text>"
            )
        body.append("</g>")
        out.append(_link("".join(body), column.href if column.value is not None else None))
        out.append(
            f'<text class="tick" x="{x + step / 2:.1f}" y="{top + plot_h + 15}" text-anchor="middle">'
            f"{escape(column.label)}</text>"
        )
        if column.rate is not None:
            dots.append((x + step / 2, top + plot_h - plot_h * column.rate))
    if len(dots) > 1:
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in dots)
        out.append(f'<polyline class="rate" points="{points}"/>')
    out.extend(f'<circle class="rate" cx="{x:.1f}" cy="{y:.1f}" r="3"/>' for x, y in dots)
    out.append(
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{w - right}" y2="{top + plot_h}"/>'
        f'<text class="caption" x="{left + plot_w / 2:.1f}" y="{h - 6}" text-anchor="middle">'
        "柱:平均最终得分 · 折线:合格率(0–100%)</text>"
    )
    if not columns:
        out.append(f'<text class="caption" x="{w / 2}" y="{h / 2}" text-anchor="middle">无</text>')
    out.append("</svg>")
    return Markup("".join(out))
