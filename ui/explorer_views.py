"""The explorer's views: the row of stages, the size formulas and one cell's arithmetic.

Each takes what it shows as parameters and draws into the current container, so the page can
place them (a tall page normally; one screen, revealed step by step, in presentation mode).
"""

from __future__ import annotations

import streamlit as st
import torch

from playground.explorer.conv import ConfigError, Stages
from playground.explorer.explain import CellExplanation, fmt
from playground.explorer.shapes import AxisSize
from ui.explorer_controls import Settings
from ui.keys import EXPLORER
from ui.pictures import map_picture, rgb_picture, show_picture

P = EXPLORER.prefix


def shape_text(t: torch.Tensor) -> str:
    return "×".join(str(d) for d in t.shape)


def hidden_frame(i: int, title: str) -> None:
    """Stage ``i``'s place in presentation mode before it is revealed: an empty frame with its title."""
    with st.container(border=True, key=f"{P}_hidden_{i}"):
        st.markdown(f"**{i + 1} · {title}**  \n*next: press → or Next*")


def output_channel(n_out: int, settings: Settings) -> int:
    """Which of ``n_out`` output channels to show: a choice when there are several, kept inside the range."""
    if n_out == 1:
        return 0
    ss = st.session_state
    names = ("red", "green", "blue") if settings.conv.per_channel and n_out == 3 else settings.filter_names
    ss[f"{P}_channel"] = min(ss[f"{P}_channel"], n_out - 1)
    return st.radio("Output channel shown", range(n_out), format_func=lambda i: f"{i}: {names[i]}",
                    horizontal=True, key=f"{P}_channel", persist_state="session")  # fmt: skip


def summary(settings: Settings) -> str:
    """The layer's settings in one markdown paragraph, beside the kernel."""
    c, t = settings.conv, settings.transposed
    if t is not None:
        return (f"Transposed convolution: stride {t.stride}, dilation {t.dilation}, padding (rows, cols) "
                f"{t.padding}, output padding {t.output_padding}, bias {fmt(t.bias)}  \n"
                f"Activation: {settings.act.name} · no pooling")  # fmt: skip
    return (f"Stride {c.stride}, dilation {c.dilation}, padding (top, bottom, left, right) {c.padding} in "
            f"{c.padding_mode} mode, bias {fmt(c.bias)}  \nActivation: {settings.act.name} · Pooling: "
            f"{settings.pool.kind}")  # fmt: skip


def stage_titles(stages: Stages, settings: Settings) -> list[str]:
    titles = ["Input", "Padded input", "Convolution", f"{settings.act.name} activation"]
    if stages.pooled is not None:
        titles.append(f"{settings.pool.kind} pooling")
    return titles


def stage_row(
    stages: Stages,
    settings: Settings,
    channel: int,
    shown: int,
    cell: CellExplanation | None = None,
) -> None:
    """Input, padded input, convolution, activation and pooling side by side, each with its shape.

    Args:
        shown: how many stages to draw; the others keep their place as an empty frame (presentation mode).
        cell: when given, its receptive field is outlined on the padded input and the cell on the maps.
    """
    titles = stage_titles(stages, settings)
    cols = st.container(key=f"{P}_stages").columns(len(titles))
    color = stages.input.shape[0] == 3
    in_ch = channel if stages.groups > 1 else 0
    field = [(r, c) for r in cell.rows for c in cell.cols] if cell else []
    selected = (cell.row, cell.col) if cell else None
    maps = [stages.conv, stages.activated] + ([stages.pooled] if stages.pooled is not None else [])
    for i, (col, title) in enumerate(zip(cols, titles, strict=True)):
        with col:
            if i >= shown:
                hidden_frame(i, title)
                continue
            if i == 0:
                pic = rgb_picture(stages.input, title) if color else map_picture(stages.input[0], title, signed=False)
                show_picture(pic, key=f"{P}_s_input")
                st.caption(f"shape {shape_text(stages.input)} (C×H×W)")
            elif i == 1:
                padded = stages.padded
                pic = (rgb_picture(padded, title, highlight=field) if color
                       else map_picture(padded[in_ch], title, signed=False, highlight=field))  # fmt: skip
                show_picture(pic, key=f"{P}_s_padded")
                st.caption(f"shape {shape_text(padded)}")
            else:
                t = maps[i - 2]
                mark = selected if i < 4 else None  # the selected cell sits in the conv and activation maps
                show_picture(map_picture(t[channel], title, selected=mark), key=f"{P}_s_{title.split()[0]}")
                lo, hi = fmt(float(t[channel].min())), fmt(float(t[channel].max()))
                st.caption(f"shape {shape_text(t)}  \nrange {lo} … {hi}")


COLOURS_NOTE = (
    "Colours: the input is gray from its smallest value (black) to its largest (white). Computed maps are red "
    "where positive, blue where negative and white at 0. Each map has its own scale: its colour bar gives it. "
    "Maps up to 16×16 show their numbers."
)


def formula_blocks(stages: Stages, settings: Settings) -> list[tuple[str, tuple]]:
    """(title, (height axis, width axis)) for each stage whose size has a rule."""
    blocks = [("Convolution", stages.conv_axes)]
    if stages.pool_axes is not None:
        ceil = ", ceil_mode" if settings.pool.ceil_mode else ""
        blocks.append((f"{settings.pool.kind} pooling{ceil}", stages.pool_axes))
    return blocks


LETTERS = "S = stride, P = padding, D = dilation, F = size"


def formula(title: str, axes: tuple, compact: bool = False, letters: str = LETTERS) -> None:
    """One stage's output-size rule, symbolic, then with this page's numbers (one line when both axes agree).

    ``axes`` are ``shapes.AxisSize`` or ``shapes.TransposedAxis`` (height, width); ``letters`` says what the
    rule's letters stand for.
    """
    if compact:
        st.markdown(f"**{title}**: output size")
    else:
        st.markdown(f"**{title}**: the rule, then your numbers ({letters})")
    st.latex(axes[0].symbolic("W"))
    same = axes[0] == axes[1]
    for symbol, axis in zip(("H, W", "") if same else ("H", "W"), axes, strict=True):
        if not symbol:
            continue
        st.latex(axis.substituted(r"H_{out}, W" if same else symbol))
        if not isinstance(axis, AxisSize):
            continue
        n = axis.uncovered
        if axis.pool and n:
            st.caption(f"{symbol}: the last {n} pixel{'s are' if n > 1 else ' is'} not covered by any window.")
        if axis.dropped_last:
            st.caption(f"{symbol}: rounding up would add a window that starts in the padding; PyTorch drops it.")


def formulas(stages: Stages, settings: Settings) -> None:
    """The output-size formula of every stage that has one, then the notes on uncovered pixels."""
    for title, axes in formula_blocks(stages, settings):
        formula(title, axes)
    for note in stages.notes:
        st.info(note)


def arithmetic(cell: CellExplanation, has_pool: bool, limit: int = 25) -> None:
    """One output cell as a dot product written out, then bias, activation and the pooled value."""
    st.code("\n".join(cell.arithmetic(limit=limit)), language=None, wrap_lines=True)
    steps = [f"convolution = **{fmt(cell.conv_value)}**"]
    if cell.bias:
        steps[0] += f" (including bias {fmt(cell.bias)})"
    steps.append(f"after activation = **{fmt(cell.activated)}**")
    if cell.pooled_cell is not None:
        steps.append(f"feeds pooled cell {cell.pooled_cell}, whose value is **{fmt(cell.pooled_value)}**")
    elif has_pool:
        steps.append("no pooling window covers this cell (it falls in the uncovered border)")
    st.markdown(" → ".join(steps))


def impossible(error: ConfigError, image: torch.Tensor) -> None:
    """An impossible setting as a lesson: the sentence, then the failing stage's rule worked with these numbers."""
    st.error(f"This configuration cannot be computed. {error}")
    if error.formula:
        where = error.stage.capitalize() + (f", along the {error.axis}" if error.axis else "")
        st.markdown(f"**{where}: the rule, then your numbers**")
        if error.rule:
            st.latex(error.rule)
        st.latex(error.formula)
    with st.columns(3)[0]:
        pic = rgb_picture(image, "Input") if image.shape[0] == 3 else map_picture(image[0], "Input", signed=False)
        show_picture(pic, key=f"{P}_input_only")
        st.caption(f"shape {shape_text(image)} (C×H×W)")
