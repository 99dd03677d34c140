"""The geometry of the report's charts; templates/charts.html.j2 draws it as inline SVG, so the
report opens offline, with no script and no font to fetch.

Each source keeps one colour in every chart and table (SOURCE_COLOURS), so a reader who learnt
that orange is social insurance never has to look it up again.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime

from dancu.report import format as fmt
from dancu.report.labels import Language, source_name, text

# Tableau 10, darkened where a light colour would vanish on white paper; "all" is near black.
SOURCE_COLOURS = {
    "all": "#2b2b2b",
    "dan_cu": "#4e79a7",
    "bhxh": "#f28e2b",
    "y_te": "#59a14f",
    "khai_sinh": "#b07aa1",
    "khai_tu": "#9c755f",
    "ket_hon": "#e15759",
    "giao_duc": "#3f9b96",
    "ly_lich_tu_phap": "#b8932b",
}
OTHER_COLOUR = "#8c8c8c"
SOURCE_ORDER = tuple(SOURCE_COLOURS)


def colour(source: str) -> str:
    return SOURCE_COLOURS.get(source, OTHER_COLOUR)


def source_key(source: str) -> tuple[int, str]:
    """Sources in the contract's order, unknown ones after them, 'all' last."""
    if source == "all":
        return (len(SOURCE_ORDER) + 1, source)
    return (SOURCE_ORDER.index(source) if source in SOURCE_ORDER else len(SOURCE_ORDER), source)


def scale(value: float, low: float, high: float, start: float, end: float) -> float:
    """Map `value` in [low, high] onto [start, end]; a flat range maps to the middle."""
    if high == low:
        return (start + end) / 2
    return start + (value - low) / (high - low) * (end - start)


@dataclass(frozen=True)
class Axis:
    """A share axis from `low` to `high` (at most 1), ticks on a round step."""

    low: float
    high: float
    step: float
    decimals: int

    @property
    def ticks(self) -> list[float]:
        count = round((self.high - self.low) / self.step)
        return [self.low + i * self.step for i in range(count + 1)]


def share_axis(values: list[float], ticks: int = 4) -> Axis:
    """Round ticks around the values, precise enough to tell 99,95% from 100%."""
    low, high = min(values), max(values)
    # A flat line shows on a one-point axis; close values on one precise enough to part them.
    spread = 0.01 if high == low else max(high - low, 0.0005)
    raw = spread / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    bottom = max(0.0, math.floor(low / step) * step)
    top = min(1.0, math.ceil(high / step) * step)
    if top <= bottom:
        top = min(1.0, bottom + step)
        bottom = top - step
    decimals = max(0, -math.floor(math.log10(step * 100) + 1e-9))
    return Axis(bottom, top, step, decimals)


@dataclass
class Line:
    source: str
    name: str
    colour: str
    points: str  # "x,y x,y ..." for a polyline
    dots: list[tuple[float, float, str]]  # x, y, hover text
    width: float
    last: str  # the latest value, for the legend


@dataclass
class LineChart:
    title: str
    width: int
    height: int
    left: int
    right: int
    ticks: list[tuple[float, str]]  # y, label
    x_labels: list[tuple[float, str, str]]  # x, label, text-anchor
    lines: list[Line] = field(default_factory=list)


@dataclass
class Dot:
    source: str
    name: str
    colour: str
    y: float
    x: float
    label: str


@dataclass
class DotChart:
    title: str
    width: int
    height: int
    left: int
    plot_right: int
    ticks: list[tuple[float, str]]  # x, label
    dots: list[Dot]
    axis_y: float


def line_chart(
    title: str,
    series: dict[str, list[tuple[datetime, float]]],
    language: Language,
    width: int = 540,
    height: int = 230,
) -> LineChart:
    """One line per source over runs, y ticks as precise as the lines' spread needs."""
    left, right, top, bottom = 58, 205, 26, 30
    times = sorted({t for points in series.values() for t, _ in points})
    axis = share_axis([v for points in series.values() for _, v in points])
    x_of = {t: scale(i, 0, len(times) - 1, left, width - right) for i, t in enumerate(times)}

    def y(v: float) -> float:
        return scale(v, axis.low, axis.high, height - bottom, top)

    lines = []
    for source in sorted(series, key=source_key):
        points = sorted(series[source])
        coords = [(x_of[t], y(v), v) for t, v in points]
        name = source_name(language, source)
        lines.append(
            Line(
                source=source,
                name=name,
                colour=colour(source),
                points=" ".join(f"{x:.1f},{yy:.1f}" for x, yy, _ in coords),
                dots=[(x, yy, f"{name}: {fmt.share(v, language)}") for x, yy, v in coords],
                width=3 if source == "all" else 1.8,
                last=fmt.share(points[-1][1], language),
            )
        )
    runs = text(language, "runs", n=len(times))
    return LineChart(
        title=title,
        width=width,
        height=height,
        left=left,
        right=right,
        ticks=[(y(t), fmt.axis_share(t, axis.decimals, language)) for t in axis.ticks],
        x_labels=[
            (left, fmt.moment(times[0], language), "start"),
            (width - right, f"{fmt.moment(times[-1], language)} ({runs})", "end"),
        ],
        lines=lines,
    )


def dot_chart(
    title: str, values: dict[str, float], language: Language, width: int = 520
) -> DotChart:
    """One labelled dot per source: what one run can honestly show."""
    left, right, top, row = 150, 70, 26, 22
    axis = share_axis(list(values.values()))
    sources = sorted(values, key=source_key)
    height = top + row * len(sources) + 26

    def x(v: float) -> float:
        return scale(v, axis.low, axis.high, left, width - right)

    dots = [
        Dot(
            source=s,
            name=source_name(language, s),
            colour=colour(s),
            y=top + row * i + row / 2,
            x=x(values[s]),
            label=fmt.share(values[s], language),
        )
        for i, s in enumerate(sources)
    ]
    return DotChart(
        title=title,
        width=width,
        height=height,
        left=left,
        plot_right=width - right,
        ticks=[(x(t), fmt.axis_share(t, axis.decimals, language)) for t in axis.ticks],
        dots=dots,
        axis_y=top + row * len(sources) + 4,
    )


@dataclass
class Bar:
    label: str
    count: str
    colour: str
    y: float
    length: float


@dataclass
class BarChart:
    title: str
    width: int
    height: int
    label_width: int
    bars: list[Bar]


def bar_chart(
    title: str,
    bars: list[tuple[str, int, str]],
    language: Language,
    width: int = 720,
    label_width: int = 390,
) -> BarChart:
    """Horizontal bars in the order given, each labelled with its count; (label, count, colour)."""
    bar_height, top = 20, 26
    most = max((n for _, n, _ in bars), default=0) or 1
    return BarChart(
        title=title,
        width=width,
        height=top + bar_height * len(bars) + 6,
        label_width=label_width,
        bars=[
            Bar(
                label=label,
                count=fmt.count(n, language),
                colour=c,
                y=top + i * bar_height,
                length=(width - label_width - 70) * n / most,
            )
            for i, (label, n, c) in enumerate(bars)
        ],
    )
