"""Charts drawn on the server as inline SVG: they need no JavaScript, and each comes with its
numbers as a table (``templates/tutoring/_chart.html``), which is what screen readers read.

The SVG is sized by its ``viewBox`` (so it shrinks to a phone's width), coloured by the
stylesheet's bar classes and by presentation attributes (the Content-Security-Policy allows
no inline styles), and named by its ``<title>`` and ``<desc>`` (``role="img"``). A chart holds
only numbers and labels it is given; every label is escaped.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 560
_ids = itertools.count(1)


@dataclass(frozen=True)
class Point:
    label: str
    value: float | None
    #: The value as the table shows it (with its unit).
    shown: str


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    #: What the chart shows, in a sentence (its ``<desc>`` and the table's caption).
    summary: str
    what: str
    measure: str
    points: tuple[Point, ...]
    svg: Markup

    @property
    def empty(self) -> bool:
        return all(p.value is None for p in self.points)


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _short(label: str, size: int = 22) -> str:
    return label if len(label) <= size else label[:size - 1] + "…"


def _frame(key: str, title: str, summary: str, height: int, body: list[str]) -> Markup:
    ids = f"chart-{key}-{next(_ids)}"
    return Markup(
        f'<svg class="chart-svg" role="img" aria-labelledby="{ids}-title {ids}-desc" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'focusable="false" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ids}-title">{escape(title)}</title>'
        f'<desc id="{ids}-desc">{escape(summary)}</desc>' + "".join(body) + "</svg>")


def _top(points: list[Point], top: float | None) -> float:
    values = [p.value for p in points if p.value is not None]
    return max([top or 0, *values, 0]) or 1


def bars(key: str, title: str, summary: str, points: list[Point], *, what: str,
         measure: str, top: float | None = None) -> Chart:
    """Horizontal bars, one a row, labelled at the left and valued at the right; ``top`` is
    the axis's end (100 for percentages), else the largest value."""
    label_width, value_width, row = 170, 70, 26
    span = WIDTH - label_width - value_width
    end = _top(points, top)
    body = []
    for index, point in enumerate(points):
        y = 8 + index * row
        body.append(f'<text x="{label_width - 8}" y="{y + 14}" text-anchor="end" '
                    f'font-size="12" fill="currentColor">{escape(_short(point.label))}</text>')
        body.append(f'<rect class="bar-track" x="{label_width}" y="{y + 2}" width="{span}" '
                    f'height="16"/>')
        if point.value is not None:
            size = max(0.0, min(1.0, point.value / end)) * span
            body.append(f'<rect class="bar-fill" x="{label_width}" y="{y + 2}" '
                        f'width="{size:.1f}" height="16"/>')
        body.append(f'<text x="{WIDTH - 4}" y="{y + 14}" text-anchor="end" font-size="12" '
                    f'fill="currentColor">{escape(point.shown)}</text>')
    height = 16 + max(1, len(points)) * row
    return Chart(key, title, summary, what, measure, tuple(points),
                 _frame(key, title, summary, height, body))


def columns(key: str, title: str, summary: str, points: list[Point], *, what: str,
            measure: str, top: float | None = None, unit: str = "") -> Chart:
    """Vertical columns over time (one a week, say), with the axis's top and zero marked and
    every few labels written under the columns."""
    left, bottom, height = 44, 36, 200
    plot = height - bottom - 12
    span = WIDTH - left - 8
    end = _top(points, top)
    width = span / max(1, len(points))
    body = [f'<line x1="{left}" y1="{12 + plot}" x2="{WIDTH - 8}" y2="{12 + plot}" '
            f'stroke="currentColor" stroke-width="1"/>',
            f'<text x="{left - 6}" y="16" text-anchor="end" font-size="11" '
            f'fill="currentColor">{escape(_number(end) + unit)}</text>',
            f'<text x="{left - 6}" y="{12 + plot}" text-anchor="end" font-size="11" '
            f'fill="currentColor">0</text>']
    every = max(1, len(points) // 6)
    for index, point in enumerate(points):
        x = left + index * width
        if point.value is not None:
            size = max(0.0, min(1.0, point.value / end)) * plot
            body.append(f'<rect class="bar-fill" x="{x + width * 0.15:.1f}" '
                        f'y="{12 + plot - size:.1f}" width="{width * 0.7:.1f}" '
                        f'height="{size:.1f}"/>')
        if index % every == 0:
            body.append(f'<text x="{x + width / 2:.1f}" y="{height - 14}" text-anchor="middle" '
                        f'font-size="11" fill="currentColor">{escape(point.label)}</text>')
    return Chart(key, title, summary, what, measure, tuple(points),
                 _frame(key, title, summary, height, body))


__all__ = ["Chart", "Point", "bars", "columns"]
