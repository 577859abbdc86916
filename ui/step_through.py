"""Step-through: walk the kernel across the image and read each output cell as arithmetic."""

from __future__ import annotations

import streamlit as st

from playground.conv import Stages
from playground.explain import CellExplanation, explain
from playground.figures import map_figure
from ui.explorer_views import arithmetic
from ui.pictures import WIDTH, cell_picture, map_picture, rgb_picture, show_picture

P = "cx"
KEEP = "session"
CLICKABLE = {"displayModeBar": False}
SPEEDS = {"slow (1 s)": 1.0, "medium (0.5 s)": 0.5, "fast (0.25 s)": 0.25}


def move(delta: int, h: int, w: int) -> None:
    """Move the selected cell ``delta`` cells on in reading order (wrapping around the map)."""
    ss = st.session_state
    pos = (ss[f"{P}_row"] * w + ss[f"{P}_col"] + delta) % (h * w)
    ss[f"{P}_row"], ss[f"{P}_col"] = divmod(pos, w)


def selected_cell(stages: Stages, channel: int) -> CellExplanation:
    """The selected output cell, kept inside the map when the map shrinks (call before the cell sliders), explained."""
    ss = st.session_state
    _, h, w = stages.conv.shape
    row, col = min(ss[f"{P}_row"], h - 1), min(ss[f"{P}_col"], w - 1)
    if (row, col) != (ss[f"{P}_row"], ss[f"{P}_col"]):
        ss[f"{P}_row"], ss[f"{P}_col"] = row, col
    return explain(stages, channel, row, col)


def _clicked() -> None:
    points = st.session_state.get(f"{P}_outmap", {}).get("selection", {}).get("points", [])
    if points:
        st.session_state[f"{P}_row"], st.session_state[f"{P}_col"] = int(points[0]["y"]), int(points[0]["x"])


def step_through(stages: Stages, channel: int) -> None:
    """The controls (outside the fragment so Play can set its timer) and the explained cell."""
    c1, c2, c3 = st.columns([1, 1, 2])
    playing = c1.toggle("▶ Play", key=f"{P}_play")
    speed = c2.selectbox("Speed", list(SPEEDS), index=1, key=f"{P}_speed", label_visibility="collapsed")
    c3.caption("Or click a cell of the output map, drag the sliders, or use ◀ / ▶.")
    st.fragment(run_every=SPEEDS[speed] if playing else None)(_cell_view)(stages, channel, playing)


def _cell_view(stages: Stages, channel: int, playing: bool) -> None:
    _, h, w = stages.conv.shape
    if playing:  # each timer tick reruns this fragment: one step per tick
        move(1, h, w)
    cell = selected_cell(stages, channel)
    b1, b2, b3, b4 = st.columns([1, 4, 4, 1], vertical_alignment="bottom")
    b1.button("◀", key=f"{P}_prev", on_click=move, args=(-1, h, w), width="stretch")
    b4.button("▶", key=f"{P}_next", on_click=move, args=(1, h, w), width="stretch")
    if h > 1:
        b2.slider(f"Row (0–{h - 1})", 0, h - 1, key=f"{P}_row", persist_state=KEEP)
    if w > 1:
        b3.slider(f"Column (0–{w - 1})", 0, w - 1, key=f"{P}_col", persist_state=KEEP)
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
            on_select=_clicked,
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
    pictures, written = st.columns([2, 1])
    with pictures:
        show_picture(cell_picture(panels), key=f"{P}_cell")
    with written:
        st.markdown("**The dot product, written out**")
        arithmetic(cell, stages.pooled is not None)
