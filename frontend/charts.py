"""Server-rendered control charts (styrdiagram) as inline SVG geometry: the template draws what this computes.

Pure presentation: the numbers, limits and signals come from avvikelser.patterns; this only places them on a
canvas. Every coordinate is a preformatted string with a dot as decimal separator, so the Swedish locale's
number formatting never reaches an SVG attribute. No inline styles: the template colours by CSS class.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 640
HEIGHT = 200
LEFT = 44
RIGHT = 12
TOP = 12
BOTTOM = 34
MAX_X_LABELS = 8
FLAG_SIZE = 6  # half-width of the diamond that marks a flagged point


def _f(value: float) -> str:
    return f"{value:.1f}"


def _as_list(value, n: int) -> list[float]:
    if isinstance(value, list | tuple):
        return [float(v) for v in value]
    return [float(value or 0.0)] * n


@dataclass
class Point:
    index: int
    x: str
    y: str
    value: float
    label: str
    url: str
    flagged: bool
    description: str
    diamond: str = ""  # the polygon points of the flagged marker


@dataclass
class ControlChart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    plot_right: str = ""
    plot_bottom: str = ""
    line: str = ""
    centre: str = ""  # polyline points (a u-chart's limits vary per period, so every line is a polyline)
    upper: str = ""
    lower: str = ""
    show_lower: bool = False
    points: list[Point] = field(default_factory=list)
    y_ticks: list[tuple[str, str]] = field(default_factory=list)  # (label, y)
    x_labels: list[tuple[str, str]] = field(default_factory=list)  # (label, x)

    @property
    def flagged(self) -> list[Point]:
        return [p for p in self.points if p.flagged]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}".replace(".", ",")


def control_chart(values: Sequence[float], *, centre, upper, lower, labels: Sequence[str], urls: Sequence[str],
                  flagged: set[int], descriptions: Sequence[str]) -> ControlChart:
    """A chart of `values` over the periods `labels`, with the centre line and control limits (a number, or
    one per period for a u-chart), each point linking to `urls[i]` and described by `descriptions[i]`."""
    n = len(values)
    centres, uppers, lowers = _as_list(centre, n), _as_list(upper, n), _as_list(lower, n)
    top_value = _nice_max(max([*values, *uppers, 1.0]) * 1.05)
    plot_right = WIDTH - RIGHT
    plot_bottom = HEIGHT - BOTTOM
    span_x = plot_right - LEFT
    span_y = plot_bottom - TOP

    def x_at(i: int) -> float:
        return LEFT + (span_x * (i + 0.5) / n if n else 0)

    def y_at(value: float) -> float:
        return plot_bottom - span_y * min(max(value, 0.0), top_value) / top_value

    def polyline(series: list[float]) -> str:
        if n == 1:
            y = _f(y_at(series[0]))
            return f"{_f(LEFT)},{y} {_f(plot_right)},{y}"
        return " ".join(f"{_f(x_at(i))},{_f(y_at(v))}" for i, v in enumerate(series))

    chart = ControlChart(plot_right=_f(plot_right), plot_bottom=_f(plot_bottom))
    if not n:
        return chart
    chart.line = polyline([float(v) for v in values])
    chart.centre = polyline(centres)
    chart.upper = polyline(uppers)
    chart.lower = polyline(lowers)
    chart.show_lower = any(v > 0 for v in lowers)
    for i, value in enumerate(values):
        x, y = x_at(i), y_at(float(value))
        point = Point(index=i, x=_f(x), y=_f(y), value=value, label=labels[i], url=urls[i], flagged=i in flagged,
                      description=descriptions[i])
        if point.flagged:
            s = FLAG_SIZE
            point.diamond = f"{_f(x)},{_f(y - s)} {_f(x + s)},{_f(y)} {_f(x)},{_f(y + s)} {_f(x - s)},{_f(y)}"
        chart.points.append(point)
    chart.y_ticks = [(_number(v), _f(y_at(v))) for v in (0.0, top_value / 2, top_value)]
    step = max(1, math.ceil(n / MAX_X_LABELS))
    chart.x_labels = [(labels[i], _f(x_at(i))) for i in range(0, n, step)]
    return chart


def heat_level(value: int, highest: int, levels: int = 5) -> int:
    """0 for nothing, else 1..levels by the share of the highest value (the CSS class heat-<level>)."""
    if value <= 0 or highest <= 0:
        return 0
    return max(1, min(levels, math.ceil(levels * value / highest)))
