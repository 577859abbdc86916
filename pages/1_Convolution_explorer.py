"""Convolution explorer: every stage of one conv layer on your own image, with the arithmetic."""

from contextlib import contextmanager

import streamlit as st
import torch

from playground import images
from playground.explorer.conv import ConfigError, applied_kernel, run_stages
from playground.explorer.explain import fmt
from playground.explorer.transposed import run_transposed
from ui.common import present_bar, setup_page
from ui.explorer_controls import DEFAULTS, FIELDS, read_settings
from ui.explorer_views import (
    COLOURS_NOTE,
    arithmetic,
    formula,
    formula_blocks,
    formulas,
    impossible,
    output_channel,
    stage_row,
    stage_titles,
    summary,
)
from ui.exports import explorer_exports
from ui.image_input import image_input
from ui.keys import EXPLORER
from ui.pictures import map_picture, show_picture
from ui.present import Reveal
from ui.state import link_note, notice, publish, restore
from ui.step_through import move, reverse_view, selected_cell, step_through
from ui.text import plain
from ui.transposed_views import show as show_transposed

PAGE, P = EXPLORER.name, EXPLORER.prefix
GROUPS = ("Image", "Kernel", "Stride · padding", "Activation", "Pooling")

restore(PAGE, FIELDS, DEFAULTS)


def _presenting() -> None:
    if st.session_state.get("present"):
        st.session_state[f"{P}_reveal"] = 1  # a presentation starts from the input


present = setup_page("Convolution explorer", "🔍", on_present=_presenting)


@contextmanager
def sidebar_section(title: str):
    with st.sidebar:
        st.header(title)
        yield


if present:  # the controls in a bar of popovers, so the maps get the whole width
    bar = present_bar([1, 1, 1.3, 1.1, 1, 0.5, 2.4, 0.5], on_present=_presenting)
    popovers = {title: cell.popover(title, width="stretch") for cell, title in zip(bar, GROUPS, strict=False)}
    with popovers["Image"]:
        chosen = image_input(P)
    settings = read_settings(popovers.get)
    notice(PAGE)
else:
    settings = read_settings(sidebar_section)
    st.title("🔍 Convolution explorer")
    st.caption(
        "Pick an image here and a kernel in the sidebar. Every stage is computed by PyTorch (torch.nn.functional) "
        "and every number can be traced back to the arithmetic below."
    )
    notice(PAGE)
    left, right = st.columns([1, 2], gap="large")
    with left:
        chosen = image_input(P)

if chosen is None:
    st.info("Choose an image to start: upload one, take a photo, or pick a sample.")
    publish(PAGE, FIELDS)
    st.stop()

if chosen.grid is not None:
    image = chosen.grid.repeat(3, 1, 1) if settings.color else chosen.grid
    lo, hi = fmt(float(chosen.grid.min())), fmt(float(chosen.grid.max()))
    source_note = f"Input: {chosen.label}, used exactly as typed (values {lo} … {hi})."
else:
    prepared = images.prepare(chosen.picture, settings.color, settings.max_side)
    image = prepared.tensor
    (w0, h0), (w1, h1) = prepared.original_size, prepared.size
    source_note = f"Input: {plain(chosen.label)}, {w0}×{h0} px" + (
        f", downscaled to {w1}×{h1} (working resolution {settings.max_side})." if prepared.downscaled else "."
    ) + " Pixel values run from 0 (dark) to 255 (bright)."

if not present:
    with right:
        st.markdown(f"**{source_note}**")
        kernel = torch.tensor(settings.conv.filters[0])
        k1, k2 = st.columns([1, 2])
        with k1:
            title = "Kernel" + (" (flipped)" if settings.conv.flip else "")
            show_picture(map_picture(applied_kernel(settings.conv), title, colorbar=False), key=f"{P}_kernel")
        extra = len(settings.filter_names) - 1
        k2.markdown(
            f"**{plain(settings.filter_names[0])}**, {kernel.shape[0]}×{kernel.shape[1]}"
            + (f", plus {extra} more filter{'s' if extra > 1 else ''}" if extra else "")
            + f"  \n{summary(settings)}"
        )
        link_note(PAGE, "A drawing stays in this browser; an upload or photo is not part of the link.")

try:
    if settings.transposed is not None:
        transposed = run_transposed(image, settings.transposed, settings.act)
    else:
        stages = run_stages(image, settings.conv, settings.act, settings.pool)
except ConfigError as e:
    impossible(e, image)
    publish(PAGE, FIELDS)
    st.stop()

maps = transposed.output if settings.transposed is not None else stages.conv
channel = output_channel(maps.shape[0], settings)
if settings.transposed is not None:
    show_transposed(transposed, settings, channel, bar if present else None)
    if not present:
        explorer_exports(image, settings, transposed, channel, chosen.label)
elif present:
    n_stages = len(stage_titles(stages, settings))
    _, h, w = stages.conv.shape
    reveal = Reveal(f"{P}_reveal", n_stages + 2, lambda d: move(d, h, w))
    cell = selected_cell(stages, channel)
    steps = [*stage_titles(stages, settings), "output size", f"cell ({cell.row}, {cell.col}) as arithmetic"]
    reveal.bar(bar[5:8], steps, P)
    done = reveal.step == reveal.last
    stage_row(stages, settings, channel, min(reveal.step, n_stages), cell if done else None)
    sizes, worked = st.columns([1, 1.1], gap="medium")
    with sizes:
        if reveal.step > n_stages:
            for title, axes in formula_blocks(stages, settings):
                formula(title, axes, compact=True)
    with worked:
        if done:
            st.markdown(f"**Cell ({cell.row}, {cell.col}): the dot product** (→ moves the kernel on)")
            arithmetic(cell, stages.pooled is not None, limit=12)
else:
    st.subheader("Every stage")
    stage_row(stages, settings, channel, len(stage_titles(stages, settings)))
    st.caption(COLOURS_NOTE)
    st.subheader("Output size, worked out")
    formulas(stages, settings)
    st.subheader("Step through the output")
    step_through(stages, channel)
    st.subheader("The reverse: where one input pixel goes")
    if st.toggle("Pick an input pixel", key=f"{P}_rev", persist_state="session"):
        reverse_view(stages, channel)
    explorer_exports(image, settings, stages, channel, chosen.label)
publish(PAGE, FIELDS)
