"""A deterministic circular layout for the agreement network, and the geometry of its edges.

The few prominent parties (the node's own, Korea, Japan, the United States) sit on a small inner
triangle; every other party sits on the outer circle, ordered by the direction of the prominent
parties it is bound to, so that edges stay short and cross little. Parallel agreements between the
same two parties are drawn as curves bowed apart. Pure functions: no I/O, same input, same picture.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Canvas:
    """The drawing area: `width` × `height`, centre, and the two radii."""

    width: float = 960
    height: float = 740
    inner: float = 135
    outer: float = 325

    @property
    def centre(self) -> Point:
        return Point(self.width / 2, self.height / 2 + 6)


def _on_circle(c: Point, radius: float, angle: float) -> Point:
    return Point(round(c.x + radius * math.cos(angle), 1), round(c.y + radius * math.sin(angle), 1))


def circular_layout(
    core: Sequence[str],
    outer: Sequence[str],
    links: Mapping[str, frozenset[str]],
    canvas: Canvas = Canvas(),
) -> dict[str, Point]:
    """Returns a position for every party: `core` on the inner circle (the first at the top),
    `outer` on the outer circle. `links[p]` are the parties p is bound to; an outer party is
    placed near the mean direction of the core parties it is linked to (the others after them),
    ties broken by code."""
    c = canvas.centre
    pos: dict[str, Point] = {}
    angles: dict[str, float] = {}
    n_core = len(core)
    for i, code in enumerate(core):
        a = -math.pi / 2 + 2 * math.pi * i / max(n_core, 1)
        angles[code] = a
        pos[code] = c if n_core == 1 else _on_circle(c, canvas.inner, a)

    def preferred(code: str) -> tuple[int, float, str]:
        near = [angles[k] for k in core if k in links.get(code, frozenset())]
        if not near:
            return (1, 0.0, code)
        x = sum(math.cos(a) for a in near)
        y = sum(math.sin(a) for a in near)
        a = math.atan2(y, x) if abs(x) + abs(y) > 1e-9 else angles[core[0]]
        # Measure from the top, clockwise, so the order starts where the first core party is.
        return (0, (a + math.pi / 2) % (2 * math.pi), code)

    ordered = sorted(outer, key=preferred)
    n = len(ordered)
    if n:
        # Centre each party's slot on its preferred angle as far as the even spacing allows: rotate
        # the whole ring so the mean offset between slot and preference is zero.
        slots = [2 * math.pi * i / n for i in range(n)]
        prefs = [preferred(p) for p in ordered]
        diffs = [pr[1] - s for pr, s in zip(prefs, slots, strict=True) if pr[0] == 0]
        shift = (
            math.atan2(sum(math.sin(d) for d in diffs), sum(math.cos(d) for d in diffs))
            if diffs
            else 0.0
        )
        for code, slot in zip(ordered, slots, strict=True):
            pos[code] = _on_circle(c, canvas.outer, slot + shift - math.pi / 2)
    return pos


def edge_path(a: Point, b: Point, bend: float) -> tuple[str, Point]:
    """Returns the SVG path from `a` to `b` bowed sideways by `bend` pixels (0: straight), and
    the point halfway along it (where a label goes)."""
    mx, my = (a.x + b.x) / 2, (a.y + b.y) / 2
    if bend == 0:
        return f"M{a.x:.1f},{a.y:.1f} L{b.x:.1f},{b.y:.1f}", Point(mx, my)
    dx, dy = b.x - a.x, b.y - a.y
    length = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / length, dx / length
    # A quadratic curve's midpoint lies halfway to its control point.
    cx, cy = mx + 2 * bend * nx, my + 2 * bend * ny
    return (
        f"M{a.x:.1f},{a.y:.1f} Q{cx:.1f},{cy:.1f} {b.x:.1f},{b.y:.1f}",
        Point(mx + bend * nx, my + bend * ny),
    )


def bends(count: int, spacing: float = 14.0) -> list[float]:
    """Returns the sideways offsets of `count` parallel edges: 0 for one, then symmetric pairs."""
    if count == 1:
        return [0.0]
    return [spacing * (i - (count - 1) / 2) for i in range(count)]


def label_anchor(p: Point, centre: Point, gap: float) -> tuple[Point, str]:
    """Returns where a party's label goes (outside the circle, away from the centre) and its
    text-anchor (`start`, `middle` or `end`)."""
    dx, dy = p.x - centre.x, p.y - centre.y
    d = math.hypot(dx, dy) or 1.0
    ux, uy = dx / d, dy / d
    at = Point(round(p.x + ux * gap, 1), round(p.y + uy * gap + 4, 1))
    anchor = "middle" if abs(ux) < 0.35 else ("start" if ux > 0 else "end")
    return at, anchor
