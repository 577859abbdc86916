"""Step-through: walk the kernel across the image and read each output cell as arithmetic; and the reverse.

At any map size: the selected cell is shown in a zoomed neighbourhood with its numbers, Play
walks a bounded path (the zoom window, the selected column, or a raster of the map) in at most
60 steps, and the reverse view starts from one input pixel and marks every cell it reaches.
"""

from __future__ import annotations

import streamlit as st

from playground.explorer.conv import Stages
from playground.explorer.explain import CellExplanation, explain
from playground.explorer.failures import plural
from playground.explorer.reverse import reach_from_input
from playground.explorer.stepping import SCOPES, play_order
from playground.render.figures import map_figure
from ui.charts import clicked_cell
from ui.explorer_controls import FIELDS
from ui.explorer_views import arithmetic
from ui.keys import EXPLORER, KEEP
from ui.pictures import WIDTH, cell_picture, legend_picture, map_picture, rgb_picture, show_picture, zoom_picture
from ui.state import publish

P = EXPLORER.prefix
CLICKABLE = {"displayModeBar": False}
SPEEDS = {"slow (1 s)": 1.0, "medium (0.5 s)": 0.5, "fast (0.25 s)": 0.25}
SCOPE_WORDS = {"window": "the 7×7 window", "rows": "down this column", "map": "across the map"}


def move(delta: int, h: int, w: int) -> None:
    """Move the selected cell ``delta`` cells on in reading order (wrapping around the map)."""
    ss = st.session_state
    pos = (ss[f"{P}_row"] * w + ss[f"{P}_col"] + delta) % (h * w)
    ss[f"{P}_row"], ss[f"{P}_col"] = divmod(pos, w)


def clamp_cell(h: int, w: int) -> tuple[int, int]:
    """The selected (row, col), kept inside an h×w map when the map shrinks (call before the cell sliders)."""
    ss = st.session_state
    row, col = min(ss[f"{P}_row"], h - 1), min(ss[f"{P}_col"], w - 1)
    if (row, col) != (ss[f"{P}_row"], ss[f"{P}_col"]):
        ss[f"{P}_row"], ss[f"{P}_col"] = row, col
    return row, col


def selected_cell(stages: Stages, channel: int) -> CellExplanation:
    """The selected output cell, kept inside the map, explained."""
    _, h, w = stages.conv.shape
    return explain(stages, channel, *clamp_cell(h, w))


def clicked() -> None:
    """A click on the output map (key ``cx_outmap``) selects the clicked cell."""
    if (cell := clicked_cell(f"{P}_outmap")) is not None:
        st.session_state[f"{P}_row"], st.session_state[f"{P}_col"] = cell


def _plan(h: int, w: int) -> None:
    """Play was switched on: fix its path now (the zoom window moves with the cell it visits)."""
    ss = st.session_state
    ss[f"{P}_row"], ss[f"{P}_col"] = min(ss[f"{P}_row"], h - 1), min(ss[f"{P}_col"], w - 1)
    ss[f"{P}_path"] = play_order(h, w, ss[f"{P}_scope"], (ss[f"{P}_row"], ss[f"{P}_col"]))
    ss[f"{P}_path_at"] = ss[f"{P}_path"].index((ss[f"{P}_row"], ss[f"{P}_col"]))


def _step_on(h: int, w: int) -> None:
    ss = st.session_state
    path = ss.get(f"{P}_path")
    if not path or any(r >= h or c >= w for r, c in path):  # the map changed while playing: a new path
        _plan(h, w)
        path = ss[f"{P}_path"]
    ss[f"{P}_path_at"] = (ss.get(f"{P}_path_at", 0) + 1) % len(path)
    ss[f"{P}_row"], ss[f"{P}_col"] = path[ss[f"{P}_path_at"]]


def step_through(stages: Stages, channel: int) -> None:
    """The controls (outside the fragment so Play can set its timer) and the explained cell."""
    _, h, w = stages.conv.shape
    c1, c2, c3, c4 = st.columns([1, 1.3, 1.3, 2], vertical_alignment="center")
    playing = c1.toggle("▶ Play", key=f"{P}_play", on_change=_plan, args=(h, w))
    c2.selectbox("Play walks", SCOPES, format_func=SCOPE_WORDS.get, key=f"{P}_scope", persist_state=KEEP,
                 help="Play visits at most 60 cells, so it covers its path in seconds at any map size.")  # fmt: skip
    speed = c3.selectbox("Speed", list(SPEEDS), index=1, key=f"{P}_speed", label_visibility="collapsed")
    c4.caption("Or click a cell of the output map, drag the sliders, or use ◀ / ▶.")
    st.fragment(run_every=SPEEDS[speed] if playing else None)(_cell_view)(stages, channel, playing)


def cell_controls(h: int, w: int) -> None:
    """◀, the row and column sliders and ▶ that move the selected cell of an h×w output."""
    b1, b2, b3, b4 = st.columns([1, 4, 4, 1], vertical_alignment="bottom")
    b1.button("◀", key=f"{P}_prev", on_click=move, args=(-1, h, w), width="stretch")
    b4.button("▶", key=f"{P}_next", on_click=move, args=(1, h, w), width="stretch")
    if h > 1:
        b2.slider(f"Row (0–{h - 1})", 0, h - 1, key=f"{P}_row", persist_state=KEEP)
    if w > 1:
        b3.slider(f"Column (0–{w - 1})", 0, w - 1, key=f"{P}_col", persist_state=KEEP)


def _cell_view(stages: Stages, channel: int, playing: bool) -> None:
    _, h, w = stages.conv.shape
    if playing:  # each timer tick reruns this fragment: one step per tick
        _step_on(h, w)
    cell = selected_cell(stages, channel)
    cell_controls(h, w)
    row, col = cell.row, cell.col
    field = [(r, c) for r in cell.rows for c in cell.cols]

    left, right = st.columns(2)
    padded_title = f"Padded input: receptive field of cell ({row}, {col})"
    with left:
        # A half-width column: twice the canvas of a stage column, so text is drawn at the same size.
        if stages.padded.shape[0] == 3 and stages.groups == 1:
            pic = rgb_picture(stages.padded, padded_title, highlight=field, width=2 * WIDTH)
        else:
            padded = stages.padded[cell.in_channels[0]]
            pic = map_picture(padded, padded_title, signed=False, highlight=field, width=2 * WIDTH)
        show_picture(pic, key=f"{P}_field")
        show_picture(legend_picture(), key=f"{P}_legend")
    with right:
        st.plotly_chart(
            map_figure(
                stages.conv[channel],
                f"Convolution output: cell ({row}, {col})",
                selected=(row, col),
                clickable=True,
                height=max(300, min(600, round(520 * h / w) + 90)),  # a half-width column: as tall as the map needs
            ),
            key=f"{P}_outmap",
            on_select=clicked,
            selection_mode="points",
            config=CLICKABLE,
        )

    names = ("red", "green", "blue") if len(cell.in_channels) == 3 else None
    show = 0
    if len(cell.in_channels) > 1:
        ss = st.session_state
        ss[f"{P}_inch"] = min(ss[f"{P}_inch"], len(cell.in_channels) - 1)
        show = st.radio("Input channel", range(len(cell.in_channels)), horizontal=True, key=f"{P}_inch",
                        format_func=lambda i: names[i] if names else str(i), persist_state=KEEP)  # fmt: skip
    panels = [
        ("Patch (input values)", cell.patch[show], False),
        ("Kernel weights", cell.weights[show], True),
        ("Products", cell.products[show], True),
    ]
    zoomed, pictures, written = st.columns([1, 2, 1.4])
    with zoomed:
        title = f"Output around ({row}, {col})"
        show_picture(zoom_picture(stages.conv[channel], (row, col), title=title), key=f"{P}_zoom")
    with pictures:
        show_picture(cell_picture(panels), key=f"{P}_cell")
    with written:
        st.markdown("**The dot product, written out**")
        arithmetic(cell, stages.pooled is not None)
    if not playing:  # ◀ ▶, a click or a slider moved the cell in this fragment alone: the link follows it
        publish("explorer", FIELDS, in_fragment=True)


def reverse_view(stages: Stages, channel: int) -> None:
    """Pick an input pixel: every convolution cell and pooled cell it reaches, marked in magenta."""
    ss = st.session_state
    _, h, w = stages.input.shape
    ss[f"{P}_rev_row"], ss[f"{P}_rev_col"] = min(ss[f"{P}_rev_row"], h - 1), min(ss[f"{P}_rev_col"], w - 1)
    a, b = st.columns(2)
    if h > 1:
        a.slider(f"Input row (0–{h - 1})", 0, h - 1, key=f"{P}_rev_row", persist_state=KEEP)
    if w > 1:
        b.slider(f"Input column (0–{w - 1})", 0, w - 1, key=f"{P}_rev_col", persist_state=KEEP)
    pixel = (ss[f"{P}_rev_row"], ss[f"{P}_rev_col"])
    reach = reach_from_input(stages, *pixel)
    n = len(reach.conv)
    cols = st.columns(3 if stages.pooled is not None else 2)
    with cols[0]:
        padded = stages.padded[0]
        show_picture(map_picture(padded, f"Pixel {pixel} (padded input)", signed=False, reached=reach.padded),
                     key=f"{P}_rev_in")  # fmt: skip
    with cols[1]:
        show_picture(map_picture(stages.conv[channel], f"Reaches {n} convolution cell{'s' if n != 1 else ''}",
                                 reached=reach.conv), key=f"{P}_rev_conv")  # fmt: skip
    if stages.pooled is not None:
        m = len(reach.pooled)
        with cols[2]:
            show_picture(map_picture(stages.pooled[channel], f"and {m} pooled cell{'s' if m != 1 else ''}",
                                     reached=reach.pooled), key=f"{P}_rev_pool")  # fmt: skip
    pooled = f" and {plural(len(reach.pooled), 'pooled cell')}" if stages.pooled is not None else ""
    st.markdown(f"Input pixel {pixel} reaches **{plural(n, 'convolution cell')}**{pooled}.")
    st.caption(
        "Magenta: the cells whose receptive field holds this pixel (with reflect, replicate or circular padding, "
        "also its copies in the border). A stride that skips the border can leave a pixel reaching nothing."
    )
