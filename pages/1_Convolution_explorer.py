"""Convolution explorer: every stage of one conv layer on your own image, with the arithmetic."""

import streamlit as st
import torch

from playground import images
from playground.conv import ConfigError, Stages, run
from playground.explain import fmt
from ui.common import setup_page
from ui.explorer_controls import P, Settings, settings_sidebar
from ui.image_input import image_input
from ui.pictures import map_picture, rgb_picture, show_picture
from ui.step_through import step_through
from ui.text import plain

setup_page("Convolution explorer", "🔍")
st.title("🔍 Convolution explorer")
st.caption(
    "Pick an image and a kernel in the sidebar. Every stage is computed by PyTorch (torch.nn.functional) "
    "and every number can be traced back to the arithmetic below."
)
settings: Settings = settings_sidebar()
RGB_NAMES = ("red", "green", "blue")


def shape_text(t: torch.Tensor) -> str:
    return "×".join(str(d) for d in t.shape)


left, right = st.columns([1, 2], gap="large")
with left:
    chosen = image_input(P)
if chosen is None:
    st.info("Choose an image to start.")
    st.stop()

if chosen.grid is not None:
    image = chosen.grid.repeat(3, 1, 1) if settings.color else chosen.grid
    source_note = f"Input: {chosen.label}, used exactly as typed."
else:
    prepared = images.prepare(chosen.picture, settings.color, settings.max_side)
    image = prepared.tensor
    (w0, h0), (w1, h1) = prepared.original_size, prepared.size
    source_note = f"Input: {plain(chosen.label)}, {w0}×{h0} px" + (
        f", downscaled to {w1}×{h1} (working resolution {settings.max_side})." if prepared.downscaled else "."
    )
if settings.kernel_error:
    st.warning(settings.kernel_error)

with right:
    st.markdown(f"**{source_note}** Pixel values run from 0 (dark) to 255 (bright).")
    kernel = torch.tensor(settings.conv.filters[0])
    shown = kernel.flip(-1, -2) if settings.conv.flip else kernel
    k1, k2 = st.columns([1, 2])
    with k1:
        title = "Kernel" + (" (flipped)" if settings.conv.flip else "")
        show_picture(map_picture(shown, title, colorbar=False), key=f"{P}_kernel")
    k2.markdown(
        f"**{settings.filter_names[0]}**, {len(kernel)}×{len(kernel[0])}"
        + (f", plus {len(settings.filter_names) - 1} more filter(s)" if len(settings.filter_names) > 1 else "")
        + f"  \nStride {settings.conv.stride}, dilation {settings.conv.dilation}, padding (top, bottom, left, right) "
        f"{settings.conv.padding} in {settings.conv.padding_mode} mode, bias {fmt(settings.conv.bias)}  \n"
        f"Activation: {settings.act.name} · Pooling: {settings.pool.kind}"
    )

try:
    stages = run(image, settings.conv, settings.act, settings.pool)
except ConfigError as e:
    st.error(f"This configuration cannot be computed. {e}")
    st.latex(r"W_{out} = \left\lfloor\frac{W + P_{before} + P_{after} - D(F-1) - 1}{S}\right\rfloor + 1")
    with st.columns(3)[0]:
        pic = rgb_picture(image, "Input") if image.shape[0] == 3 else map_picture(image[0], "Input", signed=False)
        show_picture(pic, key=f"{P}_input_only")
    st.stop()

# Which output channel to show when there are several.
n_out = stages.conv.shape[0]
if n_out > 1:
    names = RGB_NAMES if settings.conv.per_channel and n_out == 3 else settings.filter_names
    channel = st.radio(
        "Output channel shown",
        range(n_out),
        format_func=lambda i: f"{i}: {names[i]}",
        horizontal=True,
        key=f"{P}_channel",
    )
    channel = min(channel, n_out - 1)
else:
    channel = 0


def stage_row(stages: Stages, channel: int) -> None:
    """Input, padded input, convolution, activation and pooling side by side, each with its shape."""
    st.subheader("Every stage")
    cols = st.columns(5 if stages.pooled is not None else 4)
    color = stages.input.shape[0] == 3
    in_ch = channel if stages.groups > 1 else 0
    with cols[0]:
        pic = rgb_picture(stages.input, "Input") if color else map_picture(stages.input[0], "Input", signed=False)
        show_picture(pic, key=f"{P}_s_input")
        st.caption(f"shape {shape_text(stages.input)} (C×H×W)")
    with cols[1]:
        pic = (
            rgb_picture(stages.padded, "Padded input")
            if color
            else map_picture(stages.padded[in_ch], "Padded input", signed=False)
        )
        show_picture(pic, key=f"{P}_s_padded")
        st.caption(f"shape {shape_text(stages.padded)}")
    maps = [("Convolution", stages.conv), (f"{settings.act.name} activation", stages.activated)]
    if stages.pooled is not None:
        maps.append((f"{settings.pool.kind} pooling", stages.pooled))
    for col, (title, t) in zip(cols[2:], maps, strict=True):
        with col:
            show_picture(map_picture(t[channel], title), key=f"{P}_s_{title.split()[0]}")
            lo, hi = fmt(float(t[channel].min())), fmt(float(t[channel].max()))
            st.caption(f"shape {shape_text(t)}  \nrange {lo} … {hi}")
    st.caption(
        "Colours: the input is gray from its smallest value (black) to its largest (white). Computed maps are red "
        "where positive, blue where negative and white at 0. Each map has its own scale: its colour bar gives it. "
        "Maps up to 16×16 show their numbers."
    )


def formulas(stages: Stages) -> None:
    """The output-size formula per stage and axis, symbolic and with this page's numbers."""
    st.subheader("Output size, worked out")
    blocks = [("Convolution", stages.conv_axes)]
    if stages.pool_axes is not None:
        blocks.append(
            (f"{settings.pool.kind} pooling" + (", ceil_mode" if settings.pool.ceil_mode else ""), stages.pool_axes)
        )
    for title, axes in blocks:
        with st.container():
            st.markdown(f"**{title}**: the rule, then your numbers (S = stride, P = padding, D = dilation, F = size)")
            st.latex(axes[0].symbolic("W"))
            for symbol, axis in zip(("H", "W"), axes, strict=True):
                st.latex(axis.substituted(symbol))
                if axis.pool and axis.uncovered:
                    st.caption(f"{symbol}: the last {axis.uncovered} pixel(s) are not covered by any pooling window.")
                if axis.dropped_last:
                    st.caption(
                        f"{symbol}: rounding up would add a window that starts in the padding; PyTorch drops it."
                    )
    for note in stages.notes:
        st.info(note)


stage_row(stages, channel)
formulas(stages)
step_through(stages, settings.act, channel)
