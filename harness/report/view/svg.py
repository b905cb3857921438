"""Small inline-SVG charts for the report: grouped bars with CI whiskers, and lines.

Written here rather than with a plotting library because the report must be one
self-contained, script-free, accessible file: every chart is plain SVG with a <title>,
a <desc> and aria labelling, and each bar or point carries its value as a tooltip. The
renderer always puts a data table beside each chart, so the SVG is never the only copy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from harness.report.labels import fmt

__all__ = [
    "LABEL_CHAR_W",
    "PALETTE",
    "SPAN_COLOURS",
    "Band",
    "Bar",
    "HLine",
    "RatioRow",
    "Series",
    "Span",
    "VLine",
    "bar_chart",
    "category_lines",
    "fmt",
    "line_chart",
    "nice_max",
    "ratio_chart",
    "span_chart",
    "time_chart",
]

# Dark enough for >= 4.5:1 contrast on white; blue/orange stay distinct for colour-blind readers.
PALETTE: Mapping[str, str] = {
    "azure": "#1f5fa8",
    "s3": "#a14d00",
    "p50": "#1f5fa8",
    "p90": "#5b6b00",
    "p99": "#8e2a5e",
    "app": "#1f5fa8",
    "worker": "#5b6b00",
    "generator": "#8e2a5e",
}
FALLBACK_COLOURS = ("#2e6b30", "#6a1b9a", "#37474f", "#8c5a00")
FONT = 'font-family="system-ui, sans-serif"'


@dataclass(frozen=True)
class Bar:
    value: float
    low: float | None = None
    high: float | None = None


# The widest a character of an 11 px system-ui label is taken to be (digits and lowercase
# are ~6 px; a little over, so an estimate never lets two labels touch).
LABEL_CHAR_W = 6.6
LABEL_LINE_H = 13


def _words(text: str) -> list[str]:
    """Words, a number kept with a short unit after it ("1 KiB", "100 MiB" stay whole)."""
    words: list[str] = []
    for word in text.split():
        if words and words[-1].replace(",", "").isdigit() and len(words[-1]) + len(word) < 8:
            words[-1] += f" {word}"
        else:
            words.append(word)
    return words


def _tokens(text: str) -> list[tuple[str, str]]:
    """(separator before, piece): words, and hyphenated words split after each hyphen."""
    pieces: list[tuple[str, str]] = []
    for word in _words(text):
        parts = word.split("-")
        for i, part in enumerate(parts):
            piece = part + ("-" if i < len(parts) - 1 else "")
            if piece:
                pieces.append(("" if i else " ", piece))
    return pieces


def _wrap(text: str, max_chars: int) -> list[str]:
    lines: list[str] = []
    for sep, piece in _tokens(text):
        while len(piece) > max_chars:  # only when the chart could not widen enough
            lines.append(piece[:max_chars])
            sep, piece = "", piece[max_chars:]
        if lines and len(lines[-1]) + len(sep) + len(piece) <= max_chars:
            lines[-1] += (sep if lines[-1] else "") + piece
        else:
            lines.append(piece)
    return lines or [""]


def category_lines(categories: Sequence[str], column: float) -> list[list[str]]:
    """Each category label wrapped to lines no wider than its `column` (px): at spaces,
    after hyphens, and inside a word only if one word is wider than the column."""
    max_chars = max(1, math.floor(column / LABEL_CHAR_W))
    return [_wrap(c, max_chars) for c in categories]


def _widest_piece(categories: Sequence[str]) -> int:
    return max((len(p) for c in categories for _, p in _tokens(c)), default=0)


def _tick(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else fmt(x)


def nice_max(value: float) -> float:
    """The smallest 1/2/2.5/5 x 10^k at or above `value` (1 for non-positive input)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    base = math.pow(10, math.floor(math.log10(value)))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * base * (1 + 1e-9):
            return step * base
    return 10 * base


def _colour(name: str, index: int) -> str:
    key = name.lower().split()[0] if name else ""
    return PALETTE.get(key, FALLBACK_COLOURS[index % len(FALLBACK_COLOURS)])


def _open(chart_id: str, title: str, desc: str, width: int, height: int) -> list[str]:
    return [
        f'<svg viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" {FONT}>',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
        f'<text x="8" y="18" font-size="14" font-weight="600" fill="#111">{escape(title)}</text>',
    ]


def _legend(names: Sequence[str], width: int) -> list[str]:
    parts, x = [], width - 8
    for i, name in reversed(list(enumerate(names))):
        x -= 20 + 7 * len(name)
        parts.append(f'<rect x="{x}" y="26" width="10" height="10" fill="{_colour(name, i)}"/>')
        parts.append(f'<text x="{x + 14}" y="35" font-size="11" fill="#111">{escape(name)}</text>')
    return parts


def _y_axis(left: int, top: int, plot_h: int, right: int, ymax: float, unit: str) -> list[str]:
    parts = []
    for k in range(6):
        v = ymax * k / 5
        y = top + plot_h - plot_h * k / 5
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" '
            f'fill="#333">{fmt(v)}</text>'
        )
    parts.append(
        f'<text x="12" y="{top + plot_h / 2:.0f}" font-size="11" fill="#333" '
        f'transform="rotate(-90 12 {top + plot_h / 2:.0f})" text-anchor="middle">'
        f"{escape(unit)}</text>"
    )
    return parts


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[str],
    values: Mapping[tuple[str, str], Bar],
    unit: str,
    *,
    width: int = 640,
    height: int = 300,
) -> str:
    """Grouped bars: one group per category, one bar per series, whiskers for CIs.
    Category labels wrap to their column; a word wider than its column widens the chart,
    and labels of more than two lines make it taller, so labels never run into each other."""
    left, right, top, bottom = 60, 10, 46, 48
    n = max(len(categories), 1)
    width = max(width, math.ceil(left + right + n * (_widest_piece(categories) * LABEL_CHAR_W)))
    plot_w, plot_h = width - left - right, height - top - bottom
    wrapped = category_lines(categories, plot_w / n)
    extra = max((len(lines) for lines in wrapped), default=1) - 2
    if extra > 0:
        height += LABEL_LINE_H * extra
        bottom += LABEL_LINE_H * extra
    highest = max([b.high if b.high is not None else b.value for b in values.values()] or [0])
    ymax = nice_max(highest)
    parts = _open(chart_id, title, desc, width, height) + _legend(series, width)
    parts += _y_axis(left, top, plot_h, width - right, ymax, unit)
    group_w = plot_w / max(len(categories), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    base_y = top + plot_h

    def y(v: float) -> float:
        return base_y - plot_h * max(v, 0.0) / ymax

    for ci, cat in enumerate(categories):
        gx = left + ci * group_w
        for line, text in enumerate(wrapped[ci]):
            parts.append(
                f'<text x="{gx + group_w / 2:.1f}" y="{base_y + 15 + LABEL_LINE_H * line}" '
                f'font-size="11" text-anchor="middle" fill="#111">{escape(text)}</text>'
            )
        for si, name in enumerate(series):
            x = gx + group_w * 0.1 + si * bar_w
            bar = values.get((cat, name))
            if bar is None:
                parts.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{base_y - 3}" font-size="9" '
                    f'text-anchor="middle" fill="#555">n/a</text>'
                )
                continue
            label = f"{name}, {cat}: {fmt(bar.value)} {unit}"
            if bar.low is not None and bar.high is not None:
                label += f" (CI {fmt(bar.low)} to {fmt(bar.high)})"
            parts.append(
                f'<rect x="{x:.1f}" y="{y(bar.value):.1f}" width="{bar_w * 0.92:.1f}" '
                f'height="{base_y - y(bar.value):.1f}" fill="{_colour(name, si)}">'
                f"<title>{escape(label)}</title></rect>"
            )
            if bar.low is not None and bar.high is not None:
                cx = x + bar_w * 0.46
                y_lo, y_hi = y(bar.low), y(bar.high)
                parts.append(
                    f'<path d="M{cx:.1f} {y_lo:.1f}V{y_hi:.1f}M{cx - 4:.1f} {y_hi:.1f}h8'
                    f'M{cx - 4:.1f} {y_lo:.1f}h8" stroke="#000" stroke-width="1.2"/>'
                )
    parts.append(
        f'<line x1="{left}" y1="{base_y}" x2="{width - right}" y2="{base_y}" stroke="#333"/></svg>'
    )
    return "".join(parts)


def line_chart(
    chart_id: str,
    title: str,
    desc: str,
    lines: Mapping[str, Sequence[tuple[float, float]]],
    unit: str,
    x_label: str,
    *,
    markers: Mapping[str, float] | None = None,
    width: int = 640,
    height: int = 300,
) -> str:
    """Lines over categorical x values (evenly spaced, e.g. 1/4/16/64 workers); a ring
    marks `markers[name]` (the knee) on that line."""
    left, right, top, bottom = 60, 16, 46, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = sorted({x for pts in lines.values() for x, _ in pts})
    ymax = nice_max(max([y for pts in lines.values() for _, y in pts] or [0]))
    parts = _open(chart_id, title, desc, width, height) + _legend(list(lines), width)
    parts += _y_axis(left, top, plot_h, width - right, ymax, unit)
    base_y = top + plot_h
    step = plot_w / max(len(xs) - 1, 1)
    pos = {x: left + (i * step if len(xs) > 1 else plot_w / 2) for i, x in enumerate(xs)}
    for x in xs:
        parts.append(
            f'<text x="{pos[x]:.1f}" y="{base_y + 16}" font-size="11" '
            f'text-anchor="middle" fill="#111">{_tick(x)}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 8}" font-size="11" '
        f'text-anchor="middle" fill="#333">{escape(x_label)}</text>'
    )
    for i, (name, pts) in enumerate(lines.items()):
        colour = _colour(name, i)
        ordered = sorted(pts)
        coords = [(pos[x], base_y - plot_h * y / ymax) for x, y in ordered]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for (x, yv), (px, py) in zip(ordered, coords, strict=True):
            parts.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(f'{name}, {fmt(x)}: {fmt(yv)} {unit}')}</title>"
                "</circle>"
            )
            if markers and markers.get(name) == x:
                parts.append(
                    f'<circle cx="{px:.1f}" cy="{py:.1f}" r="8" fill="none" '
                    f'stroke="{colour}" stroke-width="2"/>'
                    f'<text x="{px + (-10 if px > width - 60 else 10):.1f}" y="{py - 10:.1f}" '
                    f'font-size="10" text-anchor="{"end" if px > width - 60 else "start"}" '
                    f'fill="{colour}">knee</text>'
                )
    parts.append(
        f'<line x1="{left}" y1="{base_y}" x2="{width - right}" y2="{base_y}" stroke="#333"/></svg>'
    )
    return "".join(parts)


@dataclass(frozen=True)
class RatioRow:
    """One row of a ratio chart: a point with its CI, the goal and the noise floor."""

    label: str
    value: float
    low: float
    high: float
    goal: float
    noise_floor: float
    verdict: str


VERDICT_COLOURS = {"met": "#1b5e20", "not met": "#b00020", "undecided": "#8a4b00"}


def ratio_chart(chart_id: str, title: str, desc: str, rows: Sequence[RatioRow]) -> str:
    """Horizontal dot-and-whisker chart of ratios around 1: per row the 95% CI, a point
    coloured by verdict, a solid goal mark and a shaded band from goal - floor to goal."""
    left, right, top, row_h = 170, 16, 46, 24
    width, height = 640, top + row_h * max(len(rows), 1) + 40
    plot_w = width - left - right
    lows = [min(r.low, r.goal - r.noise_floor) for r in rows] or [0.9]
    highs = [max(r.high, 1.0) for r in rows] or [1.1]
    lo = math.floor(min(lows) * 20 - 0.5) / 20
    hi = math.ceil(max(highs) * 20 + 0.5) / 20

    def x(v: float) -> float:
        return left + plot_w * (min(max(v, lo), hi) - lo) / (hi - lo)

    parts = _open(chart_id, title, desc, width, height)
    legend = (("met", "met"), ("not met", "not met"), ("undecided", "undecided"))
    lx = width - 8
    for key, name in reversed(legend):
        lx -= 20 + 6 * len(name)
        parts.append(f'<circle cx="{lx + 5}" cy="31" r="5" fill="{VERDICT_COLOURS[key]}"/>')
        parts.append(f'<text x="{lx + 13}" y="35" font-size="11" fill="#111">{name}</text>')
    bottom = top + row_h * len(rows)
    steps = round((hi - lo) / 0.05)
    every = max(1, math.ceil(steps / 8))
    for k in range(0, steps + 1, every):
        v = lo + k * 0.05
        parts.append(
            f'<line x1="{x(v):.1f}" y1="{top}" x2="{x(v):.1f}" y2="{bottom}" stroke="#e4e4e4"/>'
            f'<text x="{x(v):.1f}" y="{bottom + 14}" font-size="10" text-anchor="middle" '
            f'fill="#333">{v:.2f}</text>'
        )
    parts.append(
        f'<line x1="{x(1.0):.1f}" y1="{top}" x2="{x(1.0):.1f}" y2="{bottom}" stroke="#777" '
        f'stroke-dasharray="4 3"/>'
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 6}" font-size="11" '
        f'text-anchor="middle" fill="#333">ops/s ratio (candidate / reference); dashed: 1, '
        f"solid red: goal, shaded: goal minus noise floor</text>"
    )
    for i, r in enumerate(rows):
        y = top + row_h * i + row_h / 2
        colour = VERDICT_COLOURS.get(r.verdict, "#37474f")
        band = x(r.goal) - x(r.goal - r.noise_floor)
        tip = (
            f"{r.label}: {fmt(r.value)} (CI {fmt(r.low)} to {fmt(r.high)}), goal {fmt(r.goal)}, "
            f"noise floor {r.noise_floor:.1%}: {r.verdict}"
        )
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#111">{escape(r.label)}</text>'
            f'<rect x="{x(r.goal - r.noise_floor):.1f}" y="{y - 9:.1f}" width="{band:.1f}" '
            f'height="18" fill="#f3d9d9"/>'
            f'<line x1="{x(r.goal):.1f}" y1="{y - 10:.1f}" x2="{x(r.goal):.1f}" '
            f'y2="{y + 10:.1f}" stroke="#b00020" stroke-width="2"/>'
            f'<path d="M{x(r.low):.1f} {y:.1f}H{x(r.high):.1f}M{x(r.low):.1f} {y - 5:.1f}v10'
            f'M{x(r.high):.1f} {y - 5:.1f}v10" stroke="#000" stroke-width="1.2"/>'
            f'<circle cx="{x(r.value):.1f}" cy="{y:.1f}" r="5" fill="{colour}">'
            f"<title>{escape(tip)}</title></circle>"
        )
    parts.append(
        f'<line x1="{left}" y1="{bottom}" x2="{width - right}" y2="{bottom}" stroke="#333"/></svg>'
    )
    return "".join(parts)


@dataclass(frozen=True)
class Series:
    """One line of a time chart: (x, y) points, its colour, dashed or solid."""

    name: str
    points: Sequence[tuple[float, float]]
    colour: str = ""
    dashed: bool = False


@dataclass(frozen=True)
class VLine:
    """A vertical marker on a time chart (a phase change, a fault) with its label."""

    value: float
    label: str
    colour: str = "#555"


@dataclass(frozen=True)
class HLine:
    """A horizontal reference line (a limit, a threshold) with its label."""

    value: float
    label: str
    colour: str = "#b00020"


MAX_PATH_POINTS = 400


def envelope(
    points: Sequence[tuple[float, float]], limit: int = MAX_PATH_POINTS
) -> list[tuple[float, float]]:
    """At most `limit` points in x order: above it, the lowest and the highest point of
    each of limit / 2 equal slices, so a spike is never thinned away."""
    ordered = sorted(points)
    if len(ordered) <= limit:
        return ordered
    buckets = limit // 2
    kept: list[tuple[float, float]] = []
    for b in range(buckets):
        chunk = ordered[b * len(ordered) // buckets : (b + 1) * len(ordered) // buckets]
        if chunk:
            low, high = min(chunk, key=lambda p: p[1]), max(chunk, key=lambda p: p[1])
            kept += sorted({low, high})
    return kept


def time_chart(
    chart_id: str,
    title: str,
    desc: str,
    series: Sequence[Series],
    unit: str,
    x_label: str = "seconds since the start",
    *,
    hlines: Sequence[HLine] = (),
    vlines: Sequence[VLine] = (),
    width: int = 640,
    height: int = 300,
) -> str:
    """Lines over a numeric x axis (time); dashed series and labelled horizontal lines.
    Each point up to 60 per line carries its value as a tooltip; longer lines are drawn
    as their envelope (`envelope`)."""
    left, right, top, bottom = 60, 16, 46, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [x for s in series for x, _ in s.points] + [v.value for v in vlines]
    ys = [y for s in series for _, y in s.points] + [h.value for h in hlines]
    xstep = nice_max(max(xs or [0]) / 6)
    xmax = xstep * max(1, math.ceil(max(xs or [0]) / xstep - 1e-9))
    xticks = round(xmax / xstep)
    ymax = nice_max(max(ys or [0]) * 1.05)
    parts = _open(chart_id, title, desc, width, height)
    lx = width - 8
    for i, s in reversed(list(enumerate(series))):
        colour = s.colour or _colour(s.name, i)
        lx -= 30 + 6 * len(s.name)
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        parts.append(
            f'<line x1="{lx}" y1="31" x2="{lx + 18}" y2="31" stroke="{colour}" '
            f'stroke-width="2.5"{dash}/>'
            f'<text x="{lx + 22}" y="35" font-size="11" fill="#111">{escape(s.name)}</text>'
        )
    parts += _y_axis(left, top, plot_h, width - right, ymax, unit)
    base_y = top + plot_h

    def px(x: float) -> float:
        return left + plot_w * x / xmax

    def py(y: float) -> float:
        return base_y - plot_h * max(y, 0.0) / ymax

    for k in range(xticks + 1):
        x = xstep * k
        parts.append(
            f'<text x="{px(x):.1f}" y="{base_y + 16}" font-size="11" text-anchor="middle" '
            f'fill="#111">{_tick(x)}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 8}" font-size="11" '
        f'text-anchor="middle" fill="#333">{escape(x_label)}</text>'
    )
    for i, s in enumerate(series):
        colour = s.colour or _colour(s.name, i)
        drawn = envelope(s.points)
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in drawn)
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
        )
        if len(drawn) <= 60:
            for x, y in drawn:
                parts.append(
                    f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="{colour}">'
                    f"<title>{escape(f'{s.name}, {fmt(x)} s: {fmt(y)} {unit}')}</title>"
                    "</circle>"
                )
    for row, v in enumerate(sorted(vlines, key=lambda v: v.value)):
        label_y = top + 10 + 12 * (row % 2)
        parts.append(
            f'<line x1="{px(v.value):.1f}" y1="{top}" x2="{px(v.value):.1f}" y2="{base_y}" '
            f'stroke="{v.colour}" stroke-width="1" stroke-dasharray="3 3">'
            f"<title>{escape(f'{v.label} at {fmt(v.value)} s')}</title></line>"
            f'<text x="{px(v.value) + 3:.1f}" y="{label_y}" font-size="10" fill="{v.colour}" '
            f'stroke="#fff" stroke-width="3" paint-order="stroke">{escape(v.label)}</text>'
        )
    for h in hlines:
        parts.append(
            f'<line x1="{left}" y1="{py(h.value):.1f}" x2="{width - right}" '
            f'y2="{py(h.value):.1f}" stroke="{h.colour}" stroke-width="1.5" '
            f'stroke-dasharray="2 3"><title>{escape(f"{h.label}: {fmt(h.value)} {unit}")}'
            "</title></line>"
            f'<text x="{width - right - 4}" y="{py(h.value) - 4:.1f}" font-size="10" '
            f'text-anchor="end" fill="{h.colour}" stroke="#fff" stroke-width="3" '
            f'paint-order="stroke">{escape(h.label)}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{base_y}" x2="{width - right}" y2="{base_y}" stroke="#333"/></svg>'
    )
    return "".join(parts)


@dataclass(frozen=True)
class Band:
    """A shaded stretch of the x axis across every row (an injected fault)."""

    start: float
    end: float
    label: str


@dataclass(frozen=True)
class Span:
    """A bar on one row of a span chart, from `start` to `end`; `kind` picks its colour
    (one of SPAN_COLOURS) and `tip` is its tooltip."""

    row: str
    start: float
    end: float
    kind: str
    tip: str


SPAN_COLOURS: Mapping[str, str] = {"pending": "#c77700", "firing": "#b00020"}
BAND_FILL = "#dde7f3"


def span_chart(
    chart_id: str,
    title: str,
    desc: str,
    rows: Sequence[str],
    spans: Sequence[Span],
    bands: Sequence[Band],
    x_label: str,
    *,
    width: int = 720,
) -> str:
    """A timeline: one row per name (labels on the left), bars for the spans, shaded
    bands for the faults, labelled above the plot. Every bar and band has a tooltip."""
    row_h, top, bottom = 22, 62, 40
    left = 16 + math.ceil(LABEL_CHAR_W * max((len(r) for r in rows), default=4))
    right = 16
    height = top + row_h * max(len(rows), 1) + bottom
    plot_w = width - left - right
    ends = [s.end for s in spans] + [b.end for b in bands]
    xstep = nice_max(max(ends or [1.0]) / 6)
    xmax = xstep * max(1, math.ceil(max(ends or [1.0]) / xstep - 1e-9))
    base_y = top + row_h * max(len(rows), 1)

    def px(x: float) -> float:
        return left + plot_w * max(0.0, min(x, xmax)) / xmax

    parts = _open(chart_id, title, desc, width, height)
    lx = width - 8
    legend = [("fault", BAND_FILL), ("firing", SPAN_COLOURS["firing"])]
    legend.append(("pending", SPAN_COLOURS["pending"]))
    for name, colour in legend:
        lx -= 24 + 7 * len(name)
        parts.append(
            f'<rect x="{lx}" y="26" width="12" height="10" fill="{colour}"/>'
            f'<text x="{lx + 16}" y="35" font-size="11" fill="#111">{name}</text>'
        )
    for i, band in enumerate(bands):
        x0, x1 = px(band.start), px(band.end)
        parts.append(
            f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 1.0):.1f}" '
            f'height="{base_y - top}" fill="{BAND_FILL}">'
            f"<title>{escape(f'{band.label}: {fmt(band.start)} s to {fmt(band.end)} s')}</title>"
            f'</rect><text x="{x0 + 2:.1f}" y="{top - 6 - 11 * (i % 2)}" font-size="10" '
            f'fill="#1f3f66">{escape(band.label)}</text>'
        )
    for index, row in enumerate(rows):
        y = top + row_h * index
        parts.append(
            f'<text x="{left - 6}" y="{y + row_h / 2 + 4:.1f}" font-size="11" '
            f'text-anchor="end" fill="#111">{escape(row)}</text>'
            f'<line x1="{left}" y1="{y + row_h:.1f}" x2="{width - right}" y2="{y + row_h:.1f}" '
            f'stroke="#eee"/>'
        )
    index_of = {row: i for i, row in enumerate(rows)}
    for span in spans:
        if span.row not in index_of:
            continue
        y = top + row_h * index_of[span.row] + 5
        x0, x1 = px(span.start), px(span.end)
        colour = SPAN_COLOURS.get(span.kind, "#37474f")
        parts.append(
            f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0, 2.0):.1f}" '
            f'height="{row_h - 10}" fill="{colour}"><title>{escape(span.tip)}</title></rect>'
        )
    for k in range(round(xmax / xstep) + 1):
        x = xstep * k
        parts.append(
            f'<line x1="{px(x):.1f}" y1="{base_y}" x2="{px(x):.1f}" y2="{base_y + 4}" '
            f'stroke="#333"/><text x="{px(x):.1f}" y="{base_y + 16}" font-size="11" '
            f'text-anchor="middle" fill="#111">{_tick(x)}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 8}" font-size="11" '
        f'text-anchor="middle" fill="#333">{escape(x_label)}</text>'
        f'<line x1="{left}" y1="{base_y}" x2="{width - right}" y2="{base_y}" stroke="#333"/></svg>'
    )
    return "".join(parts)
