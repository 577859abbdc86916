"""The convolution explorer's controls, read into the engine's frozen settings.

Each group of controls (image, kernel, stride/padding, activation, pooling) renders into whatever
container the page opens for it: the sidebar normally, a popover in presentation mode. Every widget
keeps its value for the whole session (``persist_state``), and ``FIELDS`` says how each setting
travels in the page's link (see ``ui.state``).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from playground.explorer import kernels, samples, shapes
from playground.explorer.conv import ACTIVATIONS, PAD_MODES, POOLS, ActivationSpec, ConvSpec, PoolSpec, activate
from playground.explorer.stepping import SCOPES
from playground.explorer.transposed import TransposedSpec
from playground.render.figures import activation_figure
from ui.charts import chart
from ui.image_input import GRID_SIDES, SOURCES, grid_values
from ui.keys import EXPLORER, KEEP
from ui.matrix_editor import matrix_editor
from ui.params import Field, choice, flag, integer, items, matrix, number, one, optional, pair, values_of

P = EXPLORER.prefix
PADDING_SHORTCUTS = ("valid", "same", "full", "custom")
RESOLUTIONS = (16, 28, 32, 64, 128, 256, 512)
CHANNEL_MODES = ("Same kernel on each channel", "One filter over all channels")
KINDS = ("Convolution", "Transposed convolution")
NO_POOLING = ("No pooling after a transposed convolution: it usually enlarges a map (in a decoder), and pooling "
              "would shrink it again. The activation still follows.")  # fmt: skip


WEIGHTS = kernels.WEIGHT_LIMIT
KERNEL_SLUGS = {
    "Laplacian (4-neighbour)": "laplacian-4",
    "Laplacian (8-neighbour)": "laplacian-8",
    "Box blur": "box",
    "Gaussian blur": "gaussian",
}
SAMPLE_SLUGS = {"Photo: coffee cup (CC0)": "coffee", "Photo: Chelsea the cat (CC0)": "cat"}
CHANNEL_SLUGS = {CHANNEL_MODES[0]: "each", CHANNEL_MODES[1]: "all"}
FIELDS = [
    one("kind", f"{P}_kind", KINDS[0], choice(KINDS, {KINDS[0]: "conv", KINDS[1]: "transposed"})),
    one("src", f"{P}_source", "Sample", choice(SOURCES, {"Number grid": "grid"})),
    one("sample", f"{P}_sample", "Shapes", choice(list(samples.SAMPLES), SAMPLE_SLUGS)),
    one("grid", f"{P}_grid", grid_values(6, 0), matrix(-10_000, 10_000, *GRID_SIDES, square=True)),
    one("color", f"{P}_color", "Grayscale", choice(("Grayscale", "RGB"), {"Grayscale": "gray"})),
    one("res", f"{P}_res", 128, choice(RESOLUTIONS)),
    one("kernel", f"{P}_preset", "Sharpen", choice(kernels.PRESET_NAMES, KERNEL_SLUGS)),
    one("ksize", f"{P}_ksize", 3, integer(1, 11)),
    one("seed", f"{P}_seed", 0, integer(0, 10**6)),
    one("weights", f"{P}_weights", None, optional(matrix(-WEIGHTS, WEIGHTS, 1, 11), "preset")),
    one("extra", f"{P}_extra", [], items(choice(kernels.PRESET_NAMES, KERNEL_SLUGS), 7)),
    one("channels", f"{P}_chmode", CHANNEL_MODES[0], choice(CHANNEL_MODES, CHANNEL_SLUGS)),
    one("flip", f"{P}_flip", False, flag()),
    one("bias", f"{P}_bias", 0.0, number(-kernels.BIAS_LIMIT, kernels.BIAS_LIMIT)),
    Field("stride", (f"{P}_stride_h", f"{P}_stride_w"), (1, 1), pair(integer(1, 16))),
    Field("dilation", (f"{P}_dil_h", f"{P}_dil_w"), (1, 1), pair(integer(1, 8))),
    one("padding", f"{P}_padshort", "valid", choice(PADDING_SHORTCUTS)),
    Field("pads", (f"{P}_pt", f"{P}_pb", f"{P}_pl", f"{P}_pr"), (1, 1, 1, 1), values_of(integer(0, 32), 4)),
    one("padmode", f"{P}_padmode", "zeros", choice(PAD_MODES)),
    Field("tpad", (f"{P}_tpad_h", f"{P}_tpad_w"), (0, 0), pair(integer(0, 16))),
    Field("opad", (f"{P}_opad_h", f"{P}_opad_w"), (0, 0), pair(integer(0, 15))),
    one("act", f"{P}_act", "ReLU", choice(ACTIVATIONS)),
    one("slope", f"{P}_slope", 0.1, number(0, 1)),
    one("pool", f"{P}_pool", "Max", choice(POOLS, {"Average": "avg", "LP (L2)": "l2"})),
    one("pool_size", f"{P}_pk", 2, integer(1, 8)),
    one("pool_stride", f"{P}_ps", None, optional(integer(1, 8))),
    one("pool_pad", f"{P}_pp", 0, integer(0, 4)),
    one("ceil", f"{P}_ceil", False, flag()),
    one("ch", f"{P}_channel", 0, integer(0, 15)),
    Field("cell", (f"{P}_row", f"{P}_col"), (0, 0), pair(integer(0, 4096))),
    one("in_ch", f"{P}_inch", 0, integer(0, 2)),
    one("scope", f"{P}_scope", SCOPES[0], choice(SCOPES)),
    one("reverse", f"{P}_rev", False, flag()),
    Field("pixel", (f"{P}_rev_row", f"{P}_rev_col"), (0, 0), pair(integer(0, 4096))),
    one("present", "present", False, flag()),
    one("step", f"{P}_reveal", 1, integer(1, 7)),
]


DEFAULTS = {f"{P}_brush": 14}  # session keys that a link does not carry


@dataclass(frozen=True)
class Settings:
    """Everything the controls decide."""

    color: bool
    max_side: int
    conv: ConvSpec
    act: ActivationSpec
    pool: PoolSpec
    filter_names: tuple[str, ...]
    kernel_error: str | None = None
    kernel_note: str = ""
    transposed: TransposedSpec | None = None  # set when the layer kind is "Transposed convolution"


def image_settings() -> tuple[bool, int]:
    """Colour and working resolution."""
    color = st.radio("Colour", ("Grayscale", "RGB"), horizontal=True, key=f"{P}_color", persist_state=KEEP) == "RGB"
    max_side = st.select_slider(
        "Working resolution (longest side)",
        RESOLUTIONS,
        key=f"{P}_res",
        help="Larger images are downscaled to this before anything is computed.",
        persist_state=KEEP,
    )
    return color, int(max_side)


def _preset_kernel() -> kernels.Kernel:
    ss = st.session_state
    return kernels.preset_kernel(ss[f"{P}_preset"], ss[f"{P}_ksize"], seed=ss[f"{P}_seed"])


def _kernel_replaced() -> None:
    """Preset, size or seed changed: the preset's values replace typed ones, which stay one click away."""
    ss = st.session_state
    if ss[f"{P}_weights"] is not None:
        ss[f"{P}_weights_undo"] = ss[f"{P}_weights"]
        ss[f"{P}_weights"] = None


def _restore_typed_kernel() -> None:
    ss = st.session_state
    ss[f"{P}_weights"] = ss.pop(f"{P}_weights_undo", None)


def _reroll() -> None:
    st.session_state[f"{P}_seed"] += 1
    _kernel_replaced()


def _kernel_typed(values: kernels.Kernel) -> None:
    """The grid was edited: keep the typed values, or go back to the preset when they equal it."""
    st.session_state[f"{P}_weights"] = None if values == _preset_kernel() else values


def kernel_settings() -> tuple[str, kernels.Kernel, str, str | None]:
    """Preset, size and the editable weights; returns (preset, kernel, note shown with it, error)."""
    ss = st.session_state
    preset = st.selectbox("Kernel", kernels.PRESET_NAMES, key=f"{P}_preset", on_change=_kernel_replaced,
                          persist_state=KEEP)  # fmt: skip
    if preset in kernels.SIZED:
        st.slider("Kernel size F", 1, 11, key=f"{P}_ksize", on_change=_kernel_replaced, persist_state=KEEP)
    if preset == "Random":
        st.button("New random kernel", key=f"{P}_reroll", on_click=_reroll)
    preset_values = _preset_kernel()
    typed = ss[f"{P}_weights"]
    kernel = preset_values if typed is None else typed
    note = kernels.DESCRIPTIONS[preset] if typed is None else f"Your own weights, typed over {preset}."
    st.caption(note + " Type into the grid to change any weight (decimals are kept exactly).")
    error = matrix_editor(f"{P}_kgrid", kernel, parse=kernels.parse_kernel, on_valid=_kernel_typed)
    if typed is not None:
        st.button("↺ Back to the preset's values", key=f"{P}_kreset", on_click=_kernel_typed, args=(preset_values,))
    elif f"{P}_weights_undo" in ss:
        st.button("↶ Bring back the kernel you typed", key=f"{P}_kundo", on_click=_restore_typed_kernel)
    return preset, kernel, note, error


def padding_settings(kernel_size: tuple[int, int], dilation: tuple[int, int]) -> tuple[tuple, str]:
    """A convolution's padding (top, bottom, left, right) and padding mode."""
    shortcut = st.radio(
        "Padding P",
        PADDING_SHORTCUTS,
        horizontal=True,
        key=f"{P}_padshort",
        help="valid: none · same: output as large as the input at stride 1 · full: every overlap of kernel and "
        "image · custom: each side (0–32)",
        persist_state=KEEP,
    )
    if shortcut == "custom":
        a, b = st.columns(2)
        sides = [
            int(col.number_input(f"{name} (0–32)", 0, 32, key=f"{P}_{k}", persist_state=KEEP))
            for col, name, k in ((a, "top", "pt"), (b, "bottom", "pb"), (a, "left", "pl"), (b, "right", "pr"))
        ]
        padding = tuple(sides)
    else:
        per_axis = zip(kernel_size, dilation, strict=True)
        (top, bottom), (left, right) = (shapes.shortcut_padding(shortcut, k, d) for k, d in per_axis)
        padding = (top, bottom, left, right)
    mode = st.selectbox("Padding mode", PAD_MODES, key=f"{P}_padmode", persist_state=KEEP)
    return padding, mode


def transposed_padding() -> tuple[tuple[int, int], tuple[int, int]]:
    """A transposed convolution's padding and output padding, each (rows, cols)."""
    padding = _pair("Padding P", 0, 16, "tpad")
    output_padding = _pair("Output padding OP", 0, 15, "opad")
    st.caption("P crops P pixels off both ends of each axis of the output; OP adds OP pixels at its bottom and "
               "right end, and must be smaller than the stride or the dilation. PyTorch pads with zeros only.")
    return padding, output_padding


def _pair(label: str, lo: int, hi: int, key: str) -> tuple[int, int]:
    a, b = st.columns(2)
    return (
        int(a.number_input(f"{label} rows ({lo}–{hi})", lo, hi, key=f"{P}_{key}_h", persist_state=KEEP)),
        int(b.number_input(f"{label} cols ({lo}–{hi})", lo, hi, key=f"{P}_{key}_w", persist_state=KEEP)),
    )


def activation_settings(plot: bool = True) -> ActivationSpec:
    name = st.selectbox("Activation", ACTIVATIONS, key=f"{P}_act", persist_state=KEEP)
    slope = 0.01
    if name == "Leaky ReLU":
        slope = st.slider("Negative slope", 0.0, 1.0, step=0.01, key=f"{P}_slope", persist_state=KEEP)
    act = ActivationSpec(name, slope=slope)
    if plot and name != "None":
        chart(activation_figure(lambda x: activate(x, act), name), key=f"{P}_actplot", config={"displayModeBar": False})
    return act


def pooling_settings() -> PoolSpec:
    kind = st.selectbox("Pooling", POOLS, key=f"{P}_pool", persist_state=KEEP)
    if kind == "None":
        return PoolSpec(kind)
    a, b = st.columns(2)
    size = int(a.number_input("size (1–8)", 1, 8, key=f"{P}_pk", persist_state=KEEP))
    stride = b.number_input("stride (1–8)", 1, 8, value=None, key=f"{P}_ps", placeholder=f"auto = {size}",
                            help="Empty: PyTorch's default, the pooling size.", persist_state=KEEP)  # fmt: skip
    pad = int(a.number_input("padding (0–4)", 0, 4, key=f"{P}_pp", persist_state=KEEP))
    ceil = b.toggle("ceil_mode", key=f"{P}_ceil", persist_state=KEEP)
    return PoolSpec.square(kind, size, None if stride is None else int(stride), pad, ceil)


def read_settings(section) -> Settings:
    """All controls, each group in ``section(title)`` (a context manager: sidebar header or popover)."""
    with section("Image"):
        color, max_side = image_settings()
    with section("Kernel"):
        kind = st.radio("Layer kind", KINDS, horizontal=True, key=f"{P}_kind", persist_state=KEEP,
                        help="A transposed convolution scatters a copy of the kernel, scaled by each input pixel, "
                        "S pixels apart: it enlarges a map, as decoders and generators do.")  # fmt: skip
        preset, kernel, note, kernel_error = kernel_settings()
        names = [n for n in kernels.PRESET_NAMES if n != preset]
        st.session_state[f"{P}_extra"] = [n for n in st.session_state[f"{P}_extra"] if n in names]
        extra = st.multiselect("More filters (one output channel each)", names, key=f"{P}_extra", persist_state=KEEP,
                               help="Each filter spans every input channel and makes one output channel.")  # fmt: skip
        per_channel = not extra
        if color and not extra:
            per_channel = st.radio("With 3 input channels", CHANNEL_MODES, key=f"{P}_chmode",
                                   persist_state=KEEP) == CHANNEL_MODES[0]  # fmt: skip
        filters = [kernel] + [kernels.preset_kernel(name, len(kernel)) for name in extra]
        flip = st.toggle("Flip the kernel (true convolution)", key=f"{P}_flip", persist_state=KEEP,
                         help="Deep-learning libraries compute cross-correlation: they do not flip. Mathematical "
                         "convolution rotates the kernel by 180° first.")  # fmt: skip
        limit = kernels.BIAS_LIMIT
        bias = st.number_input(f"Bias b (−{limit:,.0f} to {limit:,.0f})", -limit, limit, step=1.0, format="%g",
                               key=f"{P}_bias", persist_state=KEEP)  # fmt: skip
    transposed = None
    with section("Stride · padding"):
        stride, dilation = _pair("Stride S", 1, 16, "stride"), _pair("Dilation D", 1, 8, "dil")
        if kind == KINDS[1]:
            t_pad, out_pad = transposed_padding()
            padding, mode = (0, 0, 0, 0), "zeros"
            transposed = TransposedSpec(tuple(filters), per_channel, stride, t_pad, out_pad, dilation, flip,
                                        float(bias))  # fmt: skip
        else:
            padding, mode = padding_settings((len(kernel), len(kernel[0])), dilation)
    with section("Activation"):
        act = activation_settings()
    with section("Pooling"):
        if transposed is None:
            pool = pooling_settings()
        else:
            pool = PoolSpec("None")
            st.caption(NO_POOLING)
    own = st.session_state[f"{P}_weights"] is not None
    conv = ConvSpec(tuple(filters), per_channel, stride, padding, mode, dilation, flip, float(bias))
    first = f"your kernel (typed over {preset})" if own else preset
    return Settings(color, max_side, conv, act, pool, (first, *extra), kernel_error, note, transposed)
