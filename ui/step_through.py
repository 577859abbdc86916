"""Step-through: walk the kernel across the image and read each output cell as arithmetic."""

from __future__ import annotations

import streamlit as st

from playground.conv import ActivationSpec, Stages
from playground.explain import explain, fmt
from playground.figures import map_figure
from ui.pictures import WIDTH, cell_picture, map_picture, rgb_picture, show_picture

P = "cx"
CLICKABLE = {"displayModeBar": False}
SPEEDS = {"slow (1 s)": 1.0, "medium (0.5 s)": 0.5, "fast (0.25 s)": 0.25}


def _move(delta: int, n: int) -> None:
    st.session_state[f"{P}_pos"] = (st.session_state.get(f"{P}_pos", 0) + delta) % n


def _clicked(width: int, n: int) -> None:
    points = st.session_state.get(f"{P}_outmap", {}).get("selection", {}).get("points", [])
    if points:
        row, col = int(points[0]["y"]), int(points[0]["x"])
        st.session_state[f"{P}_pos"] = min(n - 1, row * width + col)


def step_through(stages: Stages, act: ActivationSpec, channel: int) -> None:
    """The controls (outside the fragment so Play can set its timer) and the explained cell."""
    st.subheader("Step through the output")
    _, h, w = stages.conv.shape
    n = h * w
    st.session_state[f"{P}_pos"] = min(st.session_state.get(f"{P}_pos", 0), n - 1)
    c1, c2, c3 = st.columns([1, 1, 2])
    playing = c1.toggle("▶ Play", key=f"{P}_play")
    speed = c2.selectbox("Speed", list(SPEEDS), index=1, key=f"{P}_speed", label_visibility="collapsed")
    c3.caption("Or click a cell of the output map, drag the slider, or use ◀ / ▶.")
    st.fragment(run_every=SPEEDS[speed] if playing else None)(_cell_view)(stages, act, channel, playing)


def _cell_view(stages: Stages, act: ActivationSpec, channel: int, playing: bool) -> None:
    _, h, w = stages.conv.shape
    n = h * w
    key = f"{P}_pos"
    if playing:  # each timer tick reruns this fragment: one step per tick
        _move(1, n)
    b1, b2, b3 = st.columns([1, 8, 1])
    b1.button("◀", key=f"{P}_prev", on_click=_move, args=(-1, n), width="stretch")
    b3.button("▶", key=f"{P}_next", on_click=_move, args=(1, n), width="stretch")
    if n > 1:
        b2.slider("Output cell (row-major index)", 0, n - 1, key=key, label_visibility="collapsed")
    pos = st.session_state[key]
    row, col = divmod(pos, w)
    cell = explain(stages, channel, row, col)
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
            on_select=lambda: _clicked(w, n),
            selection_mode="points",
            config=CLICKABLE,
        )

    names = ("red", "green", "blue") if len(cell.in_channels) == 3 else None
    tabs_for = range(len(cell.in_channels))
    show = 0
    if len(cell.in_channels) > 1:
        show = st.radio(
            "Input channel",
            tabs_for,
            format_func=lambda i: names[i] if names else str(i),
            horizontal=True,
            key=f"{P}_inch",
        )
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
        st.code("\n".join(cell.arithmetic(limit=25)), language=None, wrap_lines=True)
    steps = [f"convolution = **{fmt(cell.conv_value)}**"]
    if cell.bias:
        steps[0] += f" (including bias {fmt(cell.bias)})"
    steps.append(f"after activation = **{fmt(cell.activated)}**")
    if cell.pooled_cell is not None:
        steps.append(f"feeds pooled cell {cell.pooled_cell}, whose value is **{fmt(cell.pooled_value)}**")
    elif stages.pooled is not None:
        steps.append("no pooling window covers this cell (it falls in the uncovered border)")
    st.markdown(" → ".join(steps))
