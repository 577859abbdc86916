"""Transposed convolution: the explorer's layer run by ``F.conv_transpose2d``, and each output cell's terms.

In ``nn.ConvTranspose2d`` every input cell x[i] adds a copy of the kernel, scaled by x[i], to the output at
``o = i·S − P + k·D`` for each tap k (S stride, P padding, D dilation): the reverse of a convolution's
window. So output cell o gathers the pairs (i, k) with ``i·S + k·D = o + P``. The output's length is
``playground.explorer.shapes.conv_transpose_axis``'s. ``run_transposed`` is ``conv.run_stages``'s twin:
the transposed convolution, then the activation (no pooling: the layer usually enlarges a map, in a decoder,
and pooling would shrink it again); ``explain_transposed`` writes one output cell out as its sum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from playground.explorer import shapes
from playground.explorer.conv import AXES, ActivationSpec, ConvSpec, activate, check_finite, check_input, each_axis
from playground.explorer.conv import weight_tensor as conv_weight
from playground.explorer.explain import written_products, written_sum
from playground.explorer.failures import plural
from playground.explorer.kernels import Kernel
from playground.explorer.shapes import TransposedAxis

STAGE = "transposed convolution"


@dataclass(frozen=True)
class TransposedSpec:
    """One ``nn.ConvTranspose2d`` layer as the explorer sets it up: filters as in ``conv.ConvSpec``.

    ``padding`` (height, width) crops that many pixels off both ends of each axis; ``output_padding`` adds
    pixels at the bottom and right end. PyTorch pads a transposed convolution with zeros only.
    """

    filters: tuple[Kernel, ...]
    per_channel: bool = True
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    output_padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    flip: bool = False
    bias: float = 0.0

    @property
    def kernels(self) -> ConvSpec:
        """The same filters as a convolution's: one source for how filters become weights."""
        return ConvSpec(self.filters, self.per_channel, flip=self.flip)


@dataclass(frozen=True, eq=False, kw_only=True)
class TransposedStages:
    """The input, the transposed convolution and its activation, each (C, H, W), and each axis's rule."""

    input: torch.Tensor
    output: torch.Tensor
    activated: torch.Tensor
    weight: torch.Tensor  # (C_in, C_out / groups, kH, kW), as F.conv_transpose2d takes it; flipped already
    groups: int
    bias: float
    axes: tuple[TransposedAxis, TransposedAxis]  # (height, width)
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True, kw_only=True)
class Term:
    """One product of a transposed convolution's output cell: input cell × kernel weight."""

    input: tuple[int, int]  # (row, col) of the input cell
    tap: tuple[int, int]  # (row, col) of the kernel weight
    value: float  # the input cell's value
    weight: float


def _pairs(axis: TransposedAxis, out: int) -> list[tuple[int, int]]:
    """The (input index, tap) pairs along one axis that land on output index ``out``."""
    target, found = out + axis.padding, []
    for k in range(axis.kernel):
        i, rest = divmod(target - k * axis.dilation, axis.stride)
        if rest == 0 and 0 <= i < axis.size:
            found.append((i, k))
    return sorted(found)


def terms(
    x: torch.Tensor, w: torch.Tensor, rows: TransposedAxis, cols: TransposedAxis, row: int, col: int
) -> list[Term]:
    """Every input × weight product that adds up to output cell (``row``, ``col``), in reading order.

    Args:
        x: the (H, W) input; w: the (F_h, F_w) kernel; rows, cols: the two axes' rules.

    Raises:
        IndexError: the cell is outside the output.
    """
    if not (0 <= row < rows.output and 0 <= col < cols.output):
        raise IndexError(f"cell ({row}, {col}) is outside the {rows.output}×{cols.output} output.")
    return [Term(input=(i, j), tap=(a, b), value=float(x[i, j]), weight=float(w[a, b]))
            for i, a in _pairs(rows, row) for j, b in _pairs(cols, col)]  # fmt: skip


def unreached(axis: TransposedAxis) -> int:
    """How many output indices along ``axis`` no (input, tap) pair lands on: gaps left by a stride wider than the
    kernel's reach, which hold only the bias."""
    return sum(not _pairs(axis, o) for o in range(axis.output))


def transposed_axes(shape: tuple[int, int], spec: TransposedSpec) -> tuple[TransposedAxis, TransposedAxis]:
    """Size arithmetic of the transposed convolution along (height, width).

    Raises:
        ConfigError: a size rule fails (stage "transposed convolution").
    """
    k = spec.kernels.kernel_size
    return each_axis(
        lambda i: shapes.conv_transpose_axis(shape[i], k[i], spec.stride[i], spec.padding[i],
                                             spec.output_padding[i], spec.dilation[i], axis=AXES[i]),
        STAGE,
    )  # fmt: skip


def weight_tensor(spec: TransposedSpec, in_channels: int) -> tuple[torch.Tensor, int]:
    """The ``F.conv_transpose2d`` weight (C_in, C_out / groups, kH, kW) and groups: ``conv.weight_tensor``'s,
    with its two channel axes swapped when every filter spans every input channel."""
    weight, groups = conv_weight(spec.kernels, in_channels)  # (C_out, C_in / groups, kH, kW)
    return (weight if groups > 1 else weight.transpose(0, 1).contiguous()), groups


def run_transposed(image: torch.Tensor, spec: TransposedSpec, act: ActivationSpec) -> TransposedStages:
    """The transposed convolution of a (C, H, W) float image, then the activation.

    Raises:
        ConfigError: the configuration is impossible (sizes first), or a stage overflows float32.
    """
    check_input(image, spec.bias, STAGE)
    axes = transposed_axes(tuple(image.shape[1:]), spec)
    weight, groups = weight_tensor(spec, image.shape[0])
    bias = torch.full((weight.shape[1] * groups,), float(spec.bias))
    out = F.conv_transpose2d(image[None], weight, bias, spec.stride, spec.padding, spec.output_padding, groups,
                             spec.dilation)[0]  # fmt: skip
    activated = activate(out, act)
    check_finite(((STAGE, out), ("activation", activated)))
    notes = []
    for name, axis in zip(("rows", "columns"), axes, strict=True):
        if n := unreached(axis):
            verb, hold = ("is", "it holds") if n == 1 else ("are", "they hold")
            notes.append(f"{plural(n, name[:-1], name)} of the {axis.output} output {name} {verb} reached by no "
                         "input cell (the kernel's copies leave gaps between them, or output padding adds "
                         f"{name} beyond them), so {hold} only the bias.")  # fmt: skip
    return TransposedStages(input=image, output=out, activated=activated, weight=weight, groups=groups,
                            bias=float(spec.bias), axes=axes, notes=tuple(notes))  # fmt: skip


@dataclass(frozen=True, eq=False)
class TransposedCell:
    """How output cell (channel, row, col) of a transposed convolution came about: its terms per input channel."""

    channel: int
    row: int
    col: int
    in_channels: tuple[int, ...]
    terms: tuple[tuple[Term, ...], ...]  # one tuple of terms per input channel in ``in_channels``
    bias: float
    value: float  # the output map's own value
    activated: float

    def arithmetic(self, limit: int | None = None) -> list[str]:
        """One line per input channel, then the bias line when needed; the last line ends in the cell value."""
        channels = [(written_products(((t.value, t.weight) for t in ts), limit) or "no input cell reaches it",
                     sum(t.value * t.weight for t in ts)) for ts in self.terms]  # fmt: skip
        return written_sum(channels, self.bias, self.value)


def explain_transposed(stages: TransposedStages, channel: int, row: int, col: int) -> TransposedCell:
    """Explain output cell (channel, row, col) of ``stages``.

    Raises:
        IndexError: the cell is outside the output.
    """
    c_out = stages.output.shape[0]
    if not 0 <= channel < c_out:
        raise IndexError(f"channel {channel} is outside the {c_out} output channels.")
    per_out = stages.weight.shape[1]  # output channels per group
    per_in = stages.input.shape[0] // stages.groups
    group = channel // per_out
    in_channels = tuple(range(group * per_in, (group + 1) * per_in))
    rows, cols = stages.axes
    found = tuple(tuple(terms(stages.input[c], stages.weight[c, channel - group * per_out], rows, cols, row, col))
                  for c in in_channels)  # fmt: skip
    return TransposedCell(channel, row, col, in_channels, found, stages.bias, float(stages.output[channel, row, col]),
                          float(stages.activated[channel, row, col]))  # fmt: skip
