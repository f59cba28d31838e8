"""Inline SVG charts drawn on the server: the score histogram, horizontal bars, weekly
columns, interval columns against a target and trend lines with control limits. Used by the
offline HTML report (``kefu.inspection.html_report``), the platform's quality reports
(``/quality/reports``) and the performance dashboards; a bar with ``href`` is a link (drill-down)."""

from __future__ import annotations

import math
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


# --- interval columns and trend lines (performance dashboards) -------------------------------

PERCENT_TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class _Frame:
    """The plot area of a chart with ``count`` evenly spaced x slots and a linear y scale."""

    w: int
    h: int
    left: int
    top: int
    plot_w: int
    plot_h: int
    count: int
    ticks: tuple[float, ...]  # first = bottom of the y scale, last = top
    percent: bool

    @property
    def step(self) -> float:
        return self.plot_w / max(1, self.count)

    @property
    def base(self) -> float:
        return self.top + self.plot_h

    def x(self, i: int) -> float:
        """The centre of slot ``i``."""
        return self.left + self.step * (i + 0.5)

    def y(self, value: float) -> float:
        lo, hi = self.ticks[0], self.ticks[-1]
        clamped = min(max(float(value), lo), hi)
        return self.base - self.plot_h * (clamped - lo) / (hi - lo)

    def fmt(self, value: float) -> str:
        """What a person reads: 0.911 -> "91.1%" on a percent scale, 86.5 -> "86.5" otherwise."""
        return f"{num(value * 100)}%" if self.percent else num(value)


def _frame(
    w: int, h: int, top: int, count: int, values: Sequence[float | None], *, percent: bool, zero: bool
) -> _Frame:
    left, right, bottom = 38, 14, 40
    if percent:
        ticks: tuple[float, ...] = PERCENT_TICKS
    else:
        ticks = _nice_ticks([v for v in values if v is not None], zero=zero)
    return _Frame(w, h, left, top, w - left - right, h - top - bottom, count, ticks, percent)


def _nice_ticks(known: Sequence[float], *, zero: bool) -> tuple[float, ...]:
    """About four round steps covering the data, padded by a tenth of its spread; ``zero``: start
    at 0 (columns). Never below 0 when the data is not."""
    if not known:
        return (0.0, 1.0)
    lo, hi = min(known), max(known)
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    pad = (hi - lo) * 0.1 or max(abs(hi) * 0.1, 1.0)
    bottom_value = lo if zero and lo == 0 else lo - pad
    if min(known) >= 0:
        bottom_value = max(bottom_value, 0.0)
    step = _nice_step(hi + pad - bottom_value)
    first = math.floor(bottom_value / step)
    last = max(math.ceil((hi + pad) / step), first + 1)
    return tuple(round(i * step, 10) for i in range(first, last + 1))


def _nice_step(span: float) -> float:
    raw = span / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(f * magnitude for f in (1, 2, 2.5, 5, 10) if raw <= f * magnitude * (1 + 1e-9))


def _data_num(value: float | None) -> str:
    """A value for ``data-value`` (read by tests and scripts): rounded to 4 decimals, "" for none."""
    if value is None:
        return ""
    rounded = round(float(value), 4)
    return str(int(rounded)) if rounded == int(rounded) else repr(rounded)


def _text_width(text: str, size: float) -> float:
    """Rough rendered width: CJK characters are square, the rest about 0.6 em."""
    return sum(size if ord(c) >= 0x2E80 else size * 0.6 for c in text)


def _y_axis(frame: _Frame) -> list[str]:
    right = frame.left + frame.plot_w
    out = []
    for value in frame.ticks:
        y = frame.y(value)
        shown = frame.fmt(value) if frame.percent else format(value, ".10g")
        out.append(
            f'<line class="grid" x1="{frame.left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(shown)}</text>'
        )
    out.append(f'<line class="axis" x1="{frame.left}" y1="{frame.base}" x2="{right}" y2="{frame.base}"/>')
    return out


def _x_labels(frame: _Frame, labels: Sequence[str]) -> list[str]:
    """Every label when they fit, else every 2nd, 4th, … (always the first)."""
    if not labels:
        return []
    needed = max(_text_width(short(label, 8), 10) for label in labels) + 6
    every = 1
    while frame.step * every < needed and every < len(labels):
        every *= 2
    return [
        f'<text class="tick" x="{frame.x(i):.1f}" y="{frame.base + 15}" text-anchor="middle">'
        f"{escape(short(label, 8))}</text>"
        for i, label in enumerate(labels)
        if i % every == 0
    ]


def _empty(frame: _Frame) -> str:
    return f'<text class="caption" x="{frame.w / 2}" y="{frame.h / 2}" text-anchor="middle">无数据</text>'


def interval_columns(
    points: Sequence[tuple[str, float | None, str]], target: float | None, *, label: str, percent: bool = True
) -> Markup:
    """One column per interval (``(x label, value, hover)``; value None = no calls: an empty slot
    whose hover says 无来电) against a dashed target line; columns under the target are red."""
    values = [value for _, value, _ in points]
    frame = _frame(560, 230, 22, len(points), [*values, target], percent=percent, zero=True)
    out = [SVG_OPEN.format(w=frame.w, h=frame.h, label=escape(label)), *_y_axis(frame)]
    out.extend(_column(frame, i, point, target) for i, point in enumerate(points))
    out.extend(_x_labels(frame, [x_label for x_label, _, _ in points]))
    if target is not None:
        out.append(_target_line(frame, target))
    if not points:
        out.append(_empty(frame))
    out.append("</svg>")
    return Markup("".join(out))


def _column(frame: _Frame, i: int, point: tuple[str, float | None, str], target: float | None) -> str:
    x_label, value, hover = point
    left = frame.left + i * frame.step
    gap = min(3.0, frame.step * 0.15)
    # the whole slot answers the hover, so thin or missing columns still show their numbers
    hit = (
        f'<rect class="hit" x="{left:.1f}" y="{frame.top}" width="{frame.step:.1f}" height="{frame.plot_h}" '
        'fill="none" pointer-events="all"/>'
    )
    head = f'data-label="{escape(x_label)}" data-value="{_data_num(value)}"'
    if value is None:
        title = hover if "无来电" in hover else f"{hover or x_label}:无来电"
        return f'<g class="interval empty" {head}><title>{escape(title)}</title>{hit}</g>'
    tone = "neutral" if target is None else "bad" if value < target else "good"
    top = frame.y(value)
    height = max(frame.base - top, 1.5)  # a 0 stays visible as a red sliver
    body = (
        f'<g class="interval" {head}><title>{escape(hover)}</title>{hit}'
        f'<rect class="bar {tone}" x="{left + gap:.1f}" y="{frame.base - height:.1f}" '
        f'width="{max(frame.step - 2 * gap, 1.0):.1f}" height="{height:.1f}" rx="1"/>'
    )
    if frame.step >= 36:
        body += (
            f'<text class="value" x="{frame.x(i):.1f}" y="{frame.base - height - 5:.1f}" text-anchor="middle">'
            f"{escape(frame.fmt(value))}</text>"
        )
    return body + "</g>"


def _target_line(frame: _Frame, target: float) -> str:
    y = frame.y(target)
    right = frame.left + frame.plot_w
    return (
        f'<g class="target-line" data-target="{_data_num(target)}">'
        f'<line x1="{frame.left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke-dasharray="6 4"/>'
        f'<text x="{right}" y="{y - 4:.1f}" text-anchor="end">目标 {escape(frame.fmt(target))}</text>'
        "</g>"
    )


def trend_lines(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None], str]],
    *,
    label: str,
    lower: Sequence[float | None] | None = None,
    upper: Sequence[float | None] | None = None,
    percent: bool = False,
) -> Markup:
    """Lines over ``labels`` (``(name, values, css class)``; None breaks the line), a marker with
    a hover per value, optional control limits (``lower``/``upper``) as a dashed band, a legend."""
    limits = [values for values in (lower, upper) if values is not None]
    for values in [*(values for _, values, _ in series), *limits]:
        if len(values) != len(labels):
            raise ValueError(f"{len(values)} values for {len(labels)} labels")
    known = [v for values in [*(values for _, values, _ in series), *limits] for v in values]
    frame = _frame(560, 240, 34, len(labels), known, percent=percent, zero=False)
    out = [SVG_OPEN.format(w=frame.w, h=frame.h, label=escape(label)), *_y_axis(frame)]
    out.extend(_x_labels(frame, labels))
    if limits:
        out.append(_limits(frame, lower, upper))
    out.extend(_line(frame, labels, one) for one in series)
    out.append(_legend(frame, [(name, css) for name, _, css in series], limits=bool(limits)))
    if all(v is None for v in known):
        out.append(_empty(frame))
    out.append("</svg>")
    return Markup("".join(out))


def _runs(values: Sequence[float | None]) -> list[list[int]]:
    """Indices of the unbroken stretches of values (None breaks a stretch)."""
    runs: list[list[int]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(i)
    return [run for run in runs if run]


def _coords(frame: _Frame, indices: Sequence[int], values: Sequence[float | None]) -> list[str]:
    return [f"{frame.x(i):.1f},{frame.y(values[i] or 0.0):.1f}" for i in indices]


def _line(frame: _Frame, labels: Sequence[str], one: tuple[str, Sequence[float | None], str]) -> str:
    name, values, css = one
    out = [f'<g class="series {escape(css)}" data-series="{escape(name)}">']
    out.extend(
        f'<polyline class="line" points="{" ".join(_coords(frame, run, values))}" fill="none" stroke="currentColor"/>'
        for run in _runs(values)
        if len(run) > 1
    )
    for i, (x_label, value) in enumerate(zip(labels, values, strict=True)):
        if value is not None:
            hover = f"{x_label} {name} {frame.fmt(value)}"
            out.append(
                f'<circle class="point" cx="{frame.x(i):.1f}" cy="{frame.y(value):.1f}" r="3" '
                f'data-label="{escape(x_label)}" data-value="{_data_num(value)}">'
                f"<title>{escape(hover)}</title></circle>"
            )
    out.append("</g>")
    return "".join(out)


def _limits(frame: _Frame, lower: Sequence[float | None] | None, upper: Sequence[float | None] | None) -> str:
    """The control limits: a light band where both are known, a dashed line along each."""
    out = ['<g class="limits"><title>控制限</title>']
    if lower is not None and upper is not None:
        both = [None if lo is None or hi is None else 0.0 for lo, hi in zip(lower, upper, strict=True)]
        for run in _runs(both):
            outline = _coords(frame, run, upper) + _coords(frame, run[::-1], lower)
            out.append(f'<polygon class="limit-band" points="{" ".join(outline)}"/>')
    for values in (limit for limit in (lower, upper) if limit is not None):
        for run in _runs(values):
            ends = _coords(frame, run, values)
            if len(run) == 1:  # a lone limit: a short dash around its point
                x, y = frame.x(run[0]), frame.y(values[run[0]] or 0.0)
                ends = [f"{x - frame.step / 3:.1f},{y:.1f}", f"{x + frame.step / 3:.1f},{y:.1f}"]
            out.append(f'<polyline class="limit" points="{" ".join(ends)}" fill="none" stroke-dasharray="4 3"/>')
    out.append("</g>")
    return "".join(out)


def _legend(frame: _Frame, entries: Sequence[tuple[str, str]], *, limits: bool) -> str:
    out = ['<g class="legend">']
    x, y = float(frame.left), 14.0
    for name, css in entries:
        shown = short(name, 14)
        out.append(
            f'<g class="legend-item {escape(css)}">'
            f'<line class="line" x1="{x:.1f}" y1="{y:.1f}" x2="{x + 18:.1f}" y2="{y:.1f}" stroke="currentColor"/>'
            f'<circle class="point" cx="{x + 9:.1f}" cy="{y:.1f}" r="3"/>'
            f'<text x="{x + 24:.1f}" y="{y + 4:.1f}">{escape(shown)}</text></g>'
        )
        x += 24 + _text_width(shown, 11) + 16
    if limits:
        out.append(
            '<g class="legend-item limit-key">'
            f'<line class="limit" x1="{x:.1f}" y1="{y:.1f}" x2="{x + 18:.1f}" y2="{y:.1f}" stroke-dasharray="4 3"/>'
            f'<text x="{x + 24:.1f}" y="{y + 4:.1f}">控制限</text></g>'
        )
    out.append("</g>")
    return "".join(out)


def heat_map(
    rows: Sequence[str],
    columns: Sequence[str],
    need: Sequence[Sequence[int]],
    have: Sequence[Sequence[int]],
    *,
    label: str,
) -> Markup:
    """Requirement against what is scheduled, a cell per row (day) × column (interval): red where
    agents are missing (darker: more missing), green where covered, grey where nothing is needed
    and nobody scheduled; each cell's hover gives both numbers."""
    cell_w, cell_h, left, top = 11, 22, 78, 20
    w, h = left + cell_w * len(columns) + 10, top + cell_h * len(rows) + 26
    out = [SVG_OPEN.format(w=w, h=h, label=escape(label))]
    worst = max(
        [n - s for r_need, r_have in zip(need, have, strict=True) for n, s in zip(r_need, r_have, strict=True)] + [1]
    )
    for r, name in enumerate(rows):
        y = top + r * cell_h
        out.append(
            f'<text class="tick" x="{left - 6}" y="{y + cell_h / 2 + 4:.1f}" text-anchor="end">{escape(name)}</text>'
        )
        for c, column in enumerate(columns):
            n, s = need[r][c], have[r][c]
            if s < n:
                kind, shade = "short", 0.35 + 0.65 * (n - s) / worst
            elif n == 0 and s == 0:
                kind, shade = "idle", 1.0
            else:
                kind, shade = "covered", 1.0
            hover = f"{name} {column}:需要 {n} 人,已排 {s} 人" + (f",缺 {n - s} 人" if s < n else "")
            out.append(
                f'<rect class="heat heat-{kind}" x="{left + c * cell_w}" y="{y}" width="{cell_w - 1}" '
                f'height="{cell_h - 1}" fill-opacity="{shade:.2f}" data-need="{n}" data-have="{s}">'
                f"<title>{escape(hover)}</title></rect>"
            )
    for c, column in enumerate(columns):
        if c % 4 == 0:
            x = left + c * cell_w
            out.append(f'<text class="tick" x="{x}" y="{top + cell_h * len(rows) + 14}">{escape(column)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
