"""Sidebar controls of the convolution explorer, read into the engine's frozen settings."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from playground import kernels, shapes
from playground.conv import ACTIVATIONS, PAD_MODES, POOLS, ActivationSpec, ConvSpec, PoolSpec, activate
from playground.figures import activation_figure

P = "cx"  # session-state prefix of this page
PADDING_SHORTCUTS = ("valid", "same", "full", "custom")
RESOLUTIONS = (16, 28, 32, 64, 128, 256, 512)


@dataclass(frozen=True)
class Settings:
    """Everything the sidebar decides."""

    color: bool
    max_side: int
    conv: ConvSpec
    act: ActivationSpec
    pool: PoolSpec
    filter_names: tuple[str, ...]
    kernel_error: str | None = None


def _pair(label: str, lo: int, hi: int, default: int, key: str) -> tuple[int, int]:
    a, b = st.columns(2)
    return (
        int(a.number_input(f"{label} rows", lo, hi, default, key=f"{P}_{key}_h")),
        int(b.number_input(f"{label} cols", lo, hi, default, key=f"{P}_{key}_w")),
    )


def _kernel_editor() -> tuple[str, kernels.Kernel, str | None]:
    preset = st.selectbox(
        "Kernel", kernels.PRESET_NAMES, index=kernels.PRESET_NAMES.index("Sharpen"), key=f"{P}_preset"
    )
    st.caption(kernels.DESCRIPTIONS[preset])
    size = 3
    if preset in kernels.SIZED:
        size = st.slider("Kernel size F", 1, 11, 3, key=f"{P}_ksize")
    kernel = kernels.preset_kernel(preset, size, seed=st.session_state.get(f"{P}_seed", 0))
    if preset == "Random" and st.button("New random kernel", key=f"{P}_reroll"):
        st.session_state[f"{P}_seed"] = st.session_state.get(f"{P}_seed", 0) + 1
        st.rerun()
    st.caption("Type into the grid to change any weight.")
    frame = pd.DataFrame([list(r) for r in kernel], columns=[str(j) for j in range(len(kernel[0]))])
    edited = st.data_editor(frame, key=f"{P}_kgrid_{preset}_{size}_{st.session_state.get(f'{P}_seed', 0)}")
    try:
        typed = kernels.parse_kernel(edited.to_numpy().tolist())
    except ValueError as e:
        return preset, kernel, f"Kernel values: {e} Using the preset's values until it is fixed."
    return preset, typed, None


def settings_sidebar() -> Settings:
    """All controls, in the sidebar, as ``Settings``."""
    sb = st.sidebar
    with sb:
        st.header("Image")
        color = st.radio("Colour", ("Grayscale", "RGB"), horizontal=True, key=f"{P}_color") == "RGB"
        max_side = st.select_slider(
            "Working resolution (longest side)",
            RESOLUTIONS,
            value=128,
            key=f"{P}_res",
            help="Larger images are downscaled to this before anything is computed.",
        )
        st.header("Kernel")
        preset, kernel, kernel_error = _kernel_editor()
        extra = st.multiselect(
            "More filters (one output channel each)",
            [n for n in kernels.PRESET_NAMES if n != preset],
            key=f"{P}_extra",
            help="Each filter spans every input channel and makes one output channel.",
        )
        per_channel = not extra
        if color and not extra:
            per_channel = st.radio(
                "With 3 input channels",
                ("Same kernel on each channel", "One filter over all channels"),
                key=f"{P}_chmode",
            ).startswith("Same")
        filters = [kernel]
        for name in extra:
            k = kernels.preset_kernel(name, len(kernel))
            filters.append(k)
        flip = st.toggle(
            "Flip the kernel (true convolution)",
            key=f"{P}_flip",
            help="Deep-learning libraries compute cross-correlation: they do not flip. Mathematical convolution "
            "rotates the kernel by 180° first.",
        )
        bias = st.number_input("Bias b", -kernels.BIAS_LIMIT, kernels.BIAS_LIMIT, 0.0, step=1.0, key=f"{P}_bias")

        st.header("Stride, padding, dilation")
        stride = _pair("Stride S", 1, 16, 1, "stride")
        dilation = _pair("Dilation D", 1, 8, 1, "dil")
        shortcut = st.radio(
            "Padding P",
            PADDING_SHORTCUTS,
            horizontal=True,
            key=f"{P}_padshort",
            help="valid: none · same: output as large as the input at stride 1 · full: every "
            "overlap of kernel and image",
        )
        k_h, k_w = len(kernel), len(kernel[0])
        if shortcut == "custom":
            a, b = st.columns(2)
            top = int(a.number_input("top", 0, 32, 1, key=f"{P}_pt"))
            bottom = int(b.number_input("bottom", 0, 32, 1, key=f"{P}_pb"))
            left = int(a.number_input("left", 0, 32, 1, key=f"{P}_pl"))
            right = int(b.number_input("right", 0, 32, 1, key=f"{P}_pr"))
        else:
            fn = {"valid": lambda k, d: (0, 0), "same": shapes.same_padding, "full": shapes.full_padding}[shortcut]
            (top, bottom), (left, right) = fn(k_h, dilation[0]), fn(k_w, dilation[1])
        mode = st.selectbox("Padding mode", PAD_MODES, key=f"{P}_padmode")

        st.header("Activation")
        act_name = st.selectbox("Activation", ACTIVATIONS, index=1, key=f"{P}_act")
        slope = 0.01
        if act_name == "Leaky ReLU":
            slope = st.slider("Negative slope", 0.0, 1.0, 0.1, 0.01, key=f"{P}_slope")
        act = ActivationSpec(act_name, slope=slope)
        if act_name != "None":
            st.plotly_chart(
                activation_figure(lambda x: activate(x, act), act_name),
                key=f"{P}_actplot",
                config={"displayModeBar": False},
            )

        st.header("Pooling")
        kind = st.selectbox("Pooling", POOLS, index=1, key=f"{P}_pool")
        pool = PoolSpec(kind)
        if kind != "None":
            a, b = st.columns(2)
            pk = int(a.number_input("size", 1, 8, 2, key=f"{P}_pk"))
            ps = int(b.number_input("stride", 1, 8, pk, key=f"{P}_ps"))
            pp = int(a.number_input("padding", 0, 4, 0, key=f"{P}_pp"))
            ceil = b.toggle("ceil_mode", key=f"{P}_ceil")
            pool = PoolSpec(kind, (pk, pk), (ps, ps), (pp, pp), ceil)

    conv = ConvSpec(tuple(filters), per_channel, stride, (top, bottom, left, right), mode, dilation, flip, float(bias))
    return Settings(color, int(max_side), conv, act, pool, (preset, *extra), kernel_error)
