"""The explorer's transposed-convolution views: its stages, its size rule, and one output cell as its terms.

The twin of ``ui.explorer_views`` and ``ui.step_through`` for ``playground.explorer.transposed``: the same
pictures, formulas and cell controls, with the input cells and kernel weights that made the selected cell
highlighted, since in a transposed convolution each input cell scatters the kernel rather than a window
gathering it.
"""

from __future__ import annotations

import streamlit as st

from playground.explorer.explain import fmt
from playground.explorer.transposed import TransposedCell, TransposedStages, explain_transposed
from playground.render.figures import map_figure
from ui.explorer_controls import Settings
from ui.explorer_views import formula, hidden_frame, shape_text
from ui.keys import EXPLORER
from ui.pictures import WIDTH, map_picture, rgb_picture, show_picture
from ui.present import Reveal
from ui.step_through import CLICKABLE, cell_controls, clamp_cell, clicked, move

P = EXPLORER.prefix
LETTERS = "S = stride, P = padding, D = dilation, F = size, OP = output padding"
MAX_ROWS = 16  # terms listed in the table under the arithmetic


def titles(settings: Settings) -> list[str]:
    return ["Input", "Transposed convolution", f"{settings.act.name} activation"]


def selected(stages: TransposedStages, channel: int) -> TransposedCell:
    """The selected output cell, kept inside the output, explained."""
    _, h, w = stages.output.shape
    return explain_transposed(stages, channel, *clamp_cell(h, w))


def _inputs(cell: TransposedCell) -> list[tuple[int, int]]:
    return sorted({t.input for ts in cell.terms for t in ts})


def _input_picture(stages: TransposedStages, cell: TransposedCell | None, title: str, width: int = WIDTH):
    field = _inputs(cell) if cell else []
    if stages.input.shape[0] == 3 and (cell is None or len(cell.in_channels) == 3):
        return rgb_picture(stages.input, title, highlight=field, width=width)
    channel = cell.in_channels[0] if cell else 0
    return map_picture(stages.input[channel], title, signed=False, highlight=field, width=width)


def stage_row(stages: TransposedStages, settings: Settings, channel: int, shown: int,
              cell: TransposedCell | None = None) -> None:  # fmt: skip
    """Input, transposed convolution and activation side by side, each with its shape.

    Args:
        shown: how many stages to draw; the others keep their place as an empty frame (presentation mode).
        cell: when given, the input cells that made it are outlined on the input and the cell on the maps.
    """
    names = titles(settings)
    cols = st.container(key=f"{P}_stages").columns(len(names))
    mark = (cell.row, cell.col) if cell else None
    for i, (col, title) in enumerate(zip(cols, names, strict=True)):
        with col:
            if i >= shown:
                hidden_frame(i, title)
            elif i == 0:
                show_picture(_input_picture(stages, cell, title), key=f"{P}_s_input")
                st.caption(f"shape {shape_text(stages.input)} (C×H×W)")
            else:
                t = stages.output if i == 1 else stages.activated
                show_picture(map_picture(t[channel], title, selected=mark), key=f"{P}_s_{title.split()[0]}")
                lo, hi = fmt(float(t[channel].min())), fmt(float(t[channel].max()))
                st.caption(f"shape {shape_text(t)}  \nrange {lo} … {hi}")


def arithmetic(cell: TransposedCell, limit: int = 25) -> None:
    """The cell's sum written out, then its value after the activation."""
    st.code("\n".join(cell.arithmetic(limit=limit)), language=None, wrap_lines=True)
    bias = f" (including bias {fmt(cell.bias)})" if cell.bias else ""
    st.markdown(f"transposed convolution = **{fmt(cell.value)}**{bias} → after activation = **{fmt(cell.activated)}**")


def _terms_table(cell: TransposedCell) -> str:
    """The first input channel's terms as a markdown table: which input cell meets which kernel weight."""
    terms = cell.terms[0]
    rows = [f"| ({t.input[0]}, {t.input[1]}) | {fmt(t.value)} | ({t.tap[0]}, {t.tap[1]}) | {fmt(t.weight)} | "
            f"{fmt(t.value * t.weight)} |" for t in terms[:MAX_ROWS]]  # fmt: skip
    more = f"\n\n… and {len(terms) - MAX_ROWS} more." if len(terms) > MAX_ROWS else ""
    head = "| input cell | value | kernel position | weight | product |\n|---|---|---|---|---|\n"
    return head + "\n".join(rows) + more


def cell_view(stages: TransposedStages, channel: int) -> None:
    """Pick an output cell: the input cells and kernel weights that made it, highlighted, and its sum."""
    _, h, w = stages.output.shape
    cell = selected(stages, channel)
    cell_controls(h, w)
    row, col = cell.row, cell.col
    taps = sorted({t.tap for ts in cell.terms for t in ts})
    kernel = stages.weight[cell.in_channels[0], channel % stages.weight.shape[1]]  # (kH, kW) as applied
    left, middle, right = st.columns([1.2, 0.8, 1.2])
    with left:
        title = f"Input: the cells that reach ({row}, {col})"
        show_picture(_input_picture(stages, cell, title, width=2 * WIDTH), key=f"{P}_t_input")
    with middle:
        show_picture(map_picture(kernel, "Kernel: the weights used", highlight=taps, colorbar=False),
                     key=f"{P}_t_kernel")  # fmt: skip
    with right:
        st.plotly_chart(
            map_figure(stages.output[channel], f"Output: cell ({row}, {col})", selected=(row, col), clickable=True,
                       height=max(300, min(600, round(420 * h / w) + 90))),
            key=f"{P}_outmap", on_select=clicked, selection_mode="points", config=CLICKABLE,
        )  # fmt: skip
    written, table = st.columns([1.2, 1])
    n = sum(len(ts) for ts in cell.terms)
    with written:
        st.markdown(f"**Cell ({row}, {col}): {n} input × weight product{'s' if n != 1 else ''}, summed**")
        arithmetic(cell)
    with table:
        if cell.terms[0]:
            channel_note = f" (input channel {cell.in_channels[0]})" if len(cell.in_channels) > 1 else ""
            st.markdown(f"**Which input cell meets which weight**{channel_note}")
            st.markdown(_terms_table(cell))
        else:
            st.info("No input cell reaches this cell: the kernel's copies leave a gap here, so it holds only the bias.")


def show(stages: TransposedStages, settings: Settings, channel: int, bar: list | None) -> None:
    """The whole transposed view; ``bar`` is presentation mode's bar of controls (None otherwise)."""
    if bar is None:
        st.subheader("Every stage")
        stage_row(stages, settings, channel, 3)
        st.caption("No pooling after a transposed convolution. Computed maps: red positive, blue negative.")
        st.subheader("Output size, worked out")
        formula("Transposed convolution", stages.axes, letters=LETTERS)
        for note in stages.notes:
            st.info(note)
        st.subheader("Step through the output")
        cell_view(stages, channel)
        return
    _, h, w = stages.output.shape
    reveal = Reveal(f"{P}_reveal", 5, lambda d: move(d, h, w))
    cell = selected(stages, channel)
    reveal.bar(bar[5:8], [*titles(settings), "output size", f"cell ({cell.row}, {cell.col}) as arithmetic"], P)
    done = reveal.step == reveal.last
    stage_row(stages, settings, channel, min(reveal.step, 3), cell if done else None)
    sizes, worked = st.columns([1, 1.1], gap="medium")
    with sizes:
        if reveal.step > 3:
            formula("Transposed convolution", stages.axes, compact=True)
    with worked:
        if done:
            st.markdown(f"**Cell ({cell.row}, {cell.col}): the products that reach it** (→ moves on)")
            arithmetic(cell, limit=12)
