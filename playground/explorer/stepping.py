"""Which cells the step-through shows and plays: the zoom window around a cell, and Play's order.

A 126×126 output has 15,876 cells: Play cannot visit them all. ``play_order`` picks at most
``max_steps`` cells of a scope, always including the selected cell, so a page can start Play there.
"""

from __future__ import annotations

Cell = tuple[int, int]
SCOPES = ("window", "rows", "map")
MAX_STEPS = 60


def zoom_window(h: int, w: int, center: Cell, radius: int = 3) -> tuple[int, int, int, int]:
    """The (2·radius+1)² window around ``center`` in an h×w map, as half-open (row0, row1, col0, col1).

    At the edges the window slides inside the map, keeping its size, so ``center`` is then off its
    middle; a map smaller than the window gives the whole map.

    Raises:
        ValueError: ``center`` is outside the map, or ``radius`` is negative.
    """
    _check(h, w, center)
    if radius < 0:
        raise ValueError(f"The zoom radius must be 0 or more, got {radius}.")

    def span(n: int, c: int) -> tuple[int, int]:
        size = min(n, 2 * radius + 1)
        start = min(max(0, c - radius), n - size)
        return start, start + size

    return *span(h, center[0]), *span(w, center[1])


def play_order(h: int, w: int, scope: str, center: Cell, radius: int = 3, max_steps: int = MAX_STEPS) -> list[Cell]:
    """The cells Play visits in an h×w map, in order: at most ``max_steps``, ``center`` among them.

    Compute it once when Play starts: the window moves with the selected cell.

    Args:
        scope: "window": the zoom window's cells (``zoom_window(h, w, center, radius)``) row-major;
            "rows": down the selected column, one cell per row; "map": a raster over the whole
            map, row-major. A scope with more cells than ``max_steps`` is stepped every s-th row
            and column (the smallest s that fits), counted from ``center`` so it stays on the path.
        center: the selected (row, col).

    Raises:
        ValueError: unknown scope, ``center`` outside the map, or ``max_steps`` < 1.
    """
    _check(h, w, center)
    if scope not in SCOPES:
        raise ValueError(f"Unknown scope {scope!r}; choose one of {', '.join(SCOPES)}.")
    if max_steps < 1:
        raise ValueError(f"max_steps must be at least 1, got {max_steps}.")
    r, c = center
    if scope == "window":
        r0, r1, c0, c1 = zoom_window(h, w, center, radius)
    elif scope == "rows":
        r0, r1, c0, c1 = 0, h, c, c + 1
    else:
        r0, r1, c0, c1 = 0, h, 0, w
    s = 1
    while True:
        rows = [i for i in range(r0, r1) if (i - r) % s == 0]
        cols = [j for j in range(c0, c1) if (j - c) % s == 0]
        if len(rows) * len(cols) <= max_steps:
            return [(i, j) for i in rows for j in cols]
        s += 1


def _check(h: int, w: int, center: Cell) -> None:
    if not (0 <= center[0] < h and 0 <= center[1] < w):
        raise ValueError(f"Cell {tuple(center)} is outside the {h}×{w} map.")
