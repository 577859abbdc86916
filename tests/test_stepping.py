"""The zoom window and Play's order: inside the map, the selected cell on the path, at most ~60 steps."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playground.explorer.stepping import MAX_STEPS, SCOPES, play_order, zoom_window


def test_zoom_window_by_hand():
    assert zoom_window(126, 126, (57, 80)) == (54, 61, 77, 84)  # 7×7 centred
    assert zoom_window(126, 126, (0, 125)) == (0, 7, 119, 126)  # slides inside at a corner, keeps 7×7
    assert zoom_window(126, 126, (1, 2), radius=2) == (0, 5, 0, 5)
    assert zoom_window(4, 30, (3, 29)) == (0, 4, 23, 30)  # 4 rows: all of them
    assert zoom_window(5, 5, (2, 2), radius=0) == (2, 3, 2, 3)
    with pytest.raises(ValueError, match="outside"):
        zoom_window(5, 5, (5, 0))
    with pytest.raises(ValueError, match="radius"):
        zoom_window(5, 5, (0, 0), radius=-1)


def test_play_orders_by_hand():
    window = play_order(126, 126, "window", (57, 80))
    assert window == [(r, c) for r in range(54, 61) for c in range(77, 84)]  # 49 steps, row-major
    rows = play_order(50, 50, "rows", (7, 9))
    assert rows == [(r, 9) for r in range(50)]  # 50 rows: one step each, down the selected column
    assert play_order(100, 100, "rows", (1, 0)) == [(r, 0) for r in range(1, 100, 2)]  # every 2nd row, through 1
    rows = play_order(126, 126, "rows", (57, 80))  # 126 rows: every 3rd row, through row 57
    assert rows == [(r, 80) for r in range(0, 126, 3)] and len(rows) == 42
    raster = play_order(126, 126, "map", (57, 80))
    assert len(raster) == 8 * 7 and raster[:2] == [(6, 12), (6, 29)]  # every 17th row and column, through (57, 80)
    assert play_order(5, 5, "map", (0, 0)) == [(r, c) for r in range(5) for c in range(5)]
    with pytest.raises(ValueError, match="scope"):
        play_order(5, 5, "spiral", (0, 0))
    with pytest.raises(ValueError, match="outside"):
        play_order(5, 5, "rows", (0, 5))


@settings(max_examples=400, deadline=None)
@given(
    h=st.integers(1, 600),
    w=st.integers(1, 600),
    scope=st.sampled_from(SCOPES),
    radius=st.integers(0, 8),
    max_steps=st.sampled_from([1, 10, MAX_STEPS, 100]),
    data=st.data(),
)
def test_play_covers_its_scope_in_few_steps_through_the_selected_cell(h, w, scope, radius, max_steps, data):
    center = (data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, w - 1)))
    order = play_order(h, w, scope, center, radius, max_steps)
    assert 1 <= len(order) <= max_steps and center in order
    assert order == sorted(set(order))  # row-major, no cell twice
    assert all(0 <= r < h and 0 <= c < w for r, c in order)
    rows, cols = sorted({r for r, _ in order}), sorted({c for _, c in order})
    assert len(order) == len(rows) * len(cols)  # a regular grid of rows × columns ...
    steps = {b - a for a, b in itertools.pairwise(rows)} | {b - a for a, b in itertools.pairwise(cols)}
    assert len(steps) <= 1  # ... one stride, on both axes
    r0, r1, c0, c1 = (0, h, 0, w) if scope != "window" else zoom_window(h, w, center, radius)
    if scope == "rows":
        c0, c1 = center[1], center[1] + 1
    assert all(r0 <= r < r1 and c0 <= c < c1 for r, c in order)  # inside its scope
    if steps:  # (one cell alone shows no stride)
        stride = steps.pop()
        assert rows[0] - r0 < stride and r1 - 1 - rows[-1] < stride  # it reaches both ends of its scope
        assert cols[0] - c0 < stride and c1 - 1 - cols[-1] < stride
        if stride > 1:  # the smallest stride that fits: one less would take too many steps

            def count(lo, hi, through, s):
                return sum((i - through) % s == 0 for i in range(lo, hi))

            finer = count(r0, r1, center[0], stride - 1) * count(c0, c1, center[1], stride - 1)
            assert finer > max_steps
    if (r1 - r0) * (c1 - c0) <= max_steps:
        assert len(order) == (r1 - r0) * (c1 - c0)  # a scope that fits is covered cell by cell
