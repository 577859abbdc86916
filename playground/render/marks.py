"""The marks drawn over maps, what each means, and how a picture draws them: one source for every map and legend.

``pictures`` draws these marks with ``draw_marks``; ``figures`` draws the same colours as plotly
shapes; ``legend_entries`` gives a page the words for each colour.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from PIL import ImageDraw

Cell = tuple[int, int]
MIN_MARK = 24  # canvas pixels: at least ~8 screen pixels however a canvas is scaled down (up to 3×)


class Mark(NamedTuple):
    """One kind of mark: its colour, the colour's name, and what the mark means."""

    rgb: tuple[int, int, int]
    name: str
    words: str

    @property
    def hex(self) -> str:
        return "#{:02x}{:02x}{:02x}".format(*self.rgb)


FIELD = Mark((255, 212, 0), "yellow", "cells of the receptive field")
FIELD_BOX = Mark((255, 109, 0), "orange", "box one cell around the receptive field, so it shows on large maps")
SELECTED = Mark((0, 200, 83), "green", "the selected cell")
REACHED = Mark((213, 0, 249), "magenta", "cells the chosen input pixel reaches")
MARKS = (FIELD, FIELD_BOX, SELECTED, REACHED)


def legend_entries(marks: Iterable[Mark] = MARKS) -> list[tuple[str, str]]:
    """(colour hex, words) for each mark, e.g. ``("#ffd400", "Yellow: cells of the receptive field")``."""
    return [(m.hex, f"{m.name.capitalize()}: {m.words}") for m in marks]


def draw_marks(
    draw: ImageDraw.ImageDraw,
    x0: int,
    y0: int,
    size: tuple[int, int],
    k: float,
    highlight: Iterable[Cell] = (),
    selected: Cell | None = None,
    reached: Iterable[Cell] = (),
    selected_width: int = 5,
) -> None:
    """Draw the marks over a map of ``k`` pixels per cell whose top-left corner is at (x0, y0).

    Highlighted cells are outlined in yellow when cells are big enough to outline, with an orange
    box one cell around all of them; reached cells in magenta, with a magenta box around them on
    large maps; the selected cell in green, as a box of at least ``MIN_MARK`` pixels with a
    crosshair when its cell is smaller than that, so it can be found on a 512×512 map.

    Args:
        size: the map's (height, width) in pixels: marks are clipped to it.
        selected_width: the selected cell's outline width in pixels.
    """
    h, w = size

    def rect(r0: float, c0: float, r1: float, c1: float, color: tuple[int, int, int], width: int, least: int = 0):
        """Outline cells [r0, r1) × [c0, c1), grown to ``least`` pixels or more and slid inside the map, clipped."""
        top, bottom, left, right = r0 * k, r1 * k, c0 * k, c1 * k
        if bottom <= 0 or right <= 0 or top >= h or left >= w:
            return  # wholly outside (e.g. beyond a zoomed window): clipping would leave a stray line on the edge
        top, bottom = _grow(top, bottom, least, h)
        left, right = _grow(left, right, least, w)
        top, bottom, left, right = max(0, top), min(h - 1, bottom), max(0, left), min(w - 1, right)
        draw.rectangle((x0 + left, y0 + top, x0 + right, y0 + bottom), outline=color, width=width)

    def around(cells: list[Cell], mark: Mark) -> None:
        rows, cols = [r for r, _ in cells], [c for _, c in cells]
        rect(min(rows) - 1, min(cols) - 1, max(rows) + 2, max(cols) + 2, mark.rgb, 4, MIN_MARK)

    field, hits = list(highlight), list(reached)
    if k >= 4:  # single cells are too small to outline on large maps: the surrounding box shows where they are
        for r, c in field:
            rect(r, c, r + 1, c + 1, FIELD.rgb, 3)
        for r, c in hits:
            rect(r, c, r + 1, c + 1, REACHED.rgb, 3)
    elif hits:
        around(hits, REACHED)
    if field:
        around(field, FIELD_BOX)
    if selected is not None:
        r, c = selected
        rect(r, c, r + 1, c + 1, SELECTED.rgb, selected_width, MIN_MARK)
        if k < MIN_MARK:  # a crosshair: short arms out of the box point at the cell
            cx, cy = x0 + (c + 0.5) * k, y0 + (r + 0.5) * k
            inner, outer = MIN_MARK / 2, MIN_MARK
            for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                start, end = (cx + dx * inner, cy + dy * inner), (cx + dx * outer, cy + dy * outer)
                if all(x0 <= x <= x0 + w - 1 and y0 <= y <= y0 + h - 1 for x, y in (start, end)):
                    draw.line((start, end), fill=SELECTED.rgb, width=5)


def _grow(a: float, b: float, least: int, n: int) -> tuple[float, float]:
    """Grow [a, b] about its middle to ``least`` pixels, then slide it inside [0, n − 1] if it fits there."""
    extra = max(0.0, least - (b - a)) / 2
    a, b = a - extra, b + extra
    if extra and b - a <= n - 1:  # a marker at the map's edge keeps its full size
        shift = max(0.0, -a) - max(0.0, b - (n - 1))
        a, b = a + shift, b + shift
    return a, b
