"""Charts as inline SVG: the report opens offline, with no script and no font to fetch."""

from datetime import datetime
from html import escape

PALETTE = ("#1b6ca8", "#d9822b", "#2e8b57", "#b03a48", "#6a4c93", "#8c6d31", "#4a4a4a")
FONT = "font-family:system-ui,sans-serif;font-size:11px"


def scale(value: float, low: float, high: float, start: float, end: float) -> float:
    """Map `value` in [low, high] onto [start, end]; a flat range maps to the middle."""
    if high == low:
        return (start + end) / 2
    return start + (value - low) / (high - low) * (end - start)


def line_chart(
    title: str,
    series: dict[str, list[tuple[datetime, float]]],
    width: int = 460,
    height: int = 220,
) -> str:
    """One line per series over time, y as a share; a point per run with its value on hover."""
    left, right, top, bottom = 44, 110, 24, 28
    values = [v for points in series.values() for _, v in points]
    times = sorted({t for points in series.values() for t, _ in points})
    low = min([*values, 1.0]) if values else 0.0
    low = max(0.0, min(low, 1.0) - 0.02)
    x_of = {
        t: scale(i, 0, max(len(times) - 1, 1), left, width - right) for i, t in enumerate(times)
    }
    if len(times) == 1:
        x_of = {times[0]: (left + width - right) / 2}

    def y(v: float) -> float:
        return scale(v, low, 1.0, height - bottom, top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" style="{FONT}">',
        f'<text x="{left}" y="14" font-weight="bold">{escape(title)}</text>',
    ]
    for tick in (low, (low + 1) / 2, 1.0):
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#ddd"/><text x="{left - 4}" y="{y(tick) + 4:.1f}" text-anchor="end">'
            f"{tick:.0%}</text>"
        )
    if times:
        parts.append(
            f'<text x="{left}" y="{height - 8}">{times[0]:%Y-%m-%d %H:%M}</text>'
            f'<text x="{width - right}" y="{height - 8}" text-anchor="end">'
            f"{times[-1]:%Y-%m-%d %H:%M} ({len(times)} runs)</text>"
        )
    for i, (name, points) in enumerate(sorted(series.items())):
        colour = PALETTE[i % len(PALETTE)]
        coords = [(x_of[t], y(v), v) for t, v in sorted(points)]
        path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy, _ in coords)
        parts.append(
            f'<polyline class="series" data-series="{escape(name)}" points="{path}" fill="none" '
            f'stroke="{colour}" stroke-width="{3 if name == "all" else 1.5}"/>'
        )
        for x, yy, v in coords:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="3" fill="{colour}">'
                f"<title>{escape(name)}: {v:.2%}</title></circle>"
            )
        legend_y = top + 14 * i
        parts.append(
            f'<rect x="{width - right + 10}" y="{legend_y}" width="10" height="10" '
            f'fill="{colour}"/><text x="{width - right + 24}" y="{legend_y + 9}">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(title: str, bars: list[tuple[str, int]], width: int = 560) -> str:
    """Horizontal bars, largest first as given, each labelled with its count."""
    label_width, bar_height, top = 230, 18, 24
    height = top + bar_height * len(bars) + 8
    most = max((n for _, n in bars), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" style="{FONT}">',
        f'<text x="0" y="14" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, count) in enumerate(bars):
        y = top + i * bar_height
        length = (width - label_width - 60) * count / most
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 12}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 2}" width="{length:.1f}" height="{bar_height - 5}" '
            f'fill="{PALETTE[0]}"/><text x="{label_width + length + 4:.1f}" y="{y + 12}">'
            f"{count:,}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
