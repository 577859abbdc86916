"""Step-through: one output cell of the convolution written out as arithmetic.

Everything is read back from the tensors ``conv.run_stages`` produced, so the explanation equals the
output cell it explains (the tests check it does, for every setting).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch

from playground.explorer.conv import Stages


def fmt(x: float, digits: int = 3) -> str:
    """A number as a student would write it: whole numbers bare, others to ``digits`` decimals, a real minus.

    Any float is accepted: NaN, ±∞, and |x| ≥ 10¹⁵ in powers of ten (``1e+308``), as a diverging run shows.
    """
    if math.isnan(x):
        return "NaN"
    if math.isinf(x) or abs(x) >= 1e15:  # no round(): it fails on ∞, and writes 10³⁰⁸ out in 309 digits
        text = "∞" if math.isinf(x) else f"{x:.{max(1, digits)}g}"
        return ("−" if x < 0 else "") + text.lstrip("-")
    if abs(x - round(x)) < 1e-9 * max(1.0, abs(x)):
        text = str(round(x))
    else:
        text = f"{x:.{digits}f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text  # digits=0 has no decimals to strip
        if text in ("-0", "0"):  # a small weight: three significant digits, in decimals while they stay short
            decimals = 2 - math.floor(math.log10(abs(x)))
            text = f"{x:.{decimals}f}".rstrip("0") if decimals <= 8 else f"{x:.2e}"
    return text.replace("-", "−")


def _factor(x: float) -> str:
    text = fmt(x)
    return f"({text})" if text.startswith("−") else text


def written_products(pairs: Iterable[tuple[float, float]], limit: int | None = None) -> str:
    """``"134×0 + 134×(−1) + …"``: each (value, weight) pair as a product, cut after ``limit`` products."""
    parts = [f"{_factor(a)}×{_factor(b)}" for a, b in pairs]
    if limit is not None and len(parts) > limit:
        parts = [*parts[:limit], "…"]
    return " + ".join(parts)


def written_sum(channels: list[tuple[str, float]], bias: float, value: float) -> list[str]:
    """One line per input channel (its written products, then ``= its sum``), then the line adding the
    channels' sums and the bias when there is more than one term to add; the last line ends in ``value``."""
    lines = [f"{text} = {fmt(s)}" for text, s in channels]
    if len(channels) > 1 or bias:
        parts = [_factor(s) for _, s in channels] + ([_factor(bias)] if bias else [])
        lines.append(" + ".join(parts) + f" = {fmt(value)}")
    return lines


@dataclass(frozen=True, eq=False)
class CellExplanation:
    """How output cell (channel, row, col) came about.

    ``rows``/``cols`` index the padded input; ``patch``, ``weights`` and ``products`` are
    (C_group, kH, kW) with the input channels in ``in_channels``.
    """

    channel: int
    row: int
    col: int
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    in_channels: tuple[int, ...]
    patch: torch.Tensor
    weights: torch.Tensor
    products: torch.Tensor
    bias: float
    conv_value: float
    activated: float
    pooled_cell: tuple[int, int] | None
    pooled_value: float | None

    @property
    def total(self) -> float:
        """Sum of the products plus the bias: equals ``conv_value`` up to float rounding."""
        return float(self.products.sum()) + self.bias

    def terms(self, channel_index: int = 0, limit: int | None = None) -> str:
        """``"134×0 + 134×(−1) + …"`` for one input channel, cut after ``limit`` terms."""
        p = self.patch[channel_index].flatten().tolist()
        w = self.weights[channel_index].flatten().tolist()
        return written_products(zip(p, w, strict=True), limit)

    def arithmetic(self, limit: int | None = None) -> list[str]:
        """One line per input channel, then the bias line when needed; the last line ends in the cell value."""
        channels = [(self.terms(i, limit), float(self.products[i].sum())) for i in range(len(self.in_channels))]
        return written_sum(channels, self.bias, self.conv_value)


def explain(stages: Stages, channel: int, row: int, col: int) -> CellExplanation:
    """Explain conv output cell (channel, row, col) of ``stages``.

    Raises:
        IndexError: the cell is outside the convolution output.
    """
    c_out, h, w = stages.conv.shape
    if not (0 <= channel < c_out and 0 <= row < h and 0 <= col < w):
        raise IndexError(f"Cell ({channel}, {row}, {col}) is outside the {c_out}×{h}×{w} output.")
    ah, aw = stages.conv_axes
    k_h, k_w = stages.weight.shape[-2:]
    rows = tuple(row * ah.stride + i * ah.dilation for i in range(k_h))
    cols = tuple(col * aw.stride + j * aw.dilation for j in range(k_w))
    per_group = stages.weight.shape[1]
    first = (channel // (c_out // stages.groups)) * per_group
    in_channels = tuple(range(first, first + per_group))
    patch = stages.padded[list(in_channels)][:, list(rows)][:, :, list(cols)]
    weights = stages.weight[channel]
    bias = float(stages.bias)
    conv_value = float(stages.conv[channel, row, col])
    activated = float(stages.activated[channel, row, col])  # the map itself: bit-identical to what is shown
    pooled_cell, pooled_value = _feeds(stages, channel, row, col)
    return CellExplanation(
        channel,
        row,
        col,
        rows,
        cols,
        in_channels,
        patch,
        weights,
        patch * weights,
        bias,
        conv_value,
        activated,
        pooled_cell,
        pooled_value,
    )


def _feeds(stages: Stages, channel: int, row: int, col: int):
    if stages.pooled is None or stages.pool_axes is None:
        return None, None
    ph, pw = stages.pool_axes
    pr, pc = ph.first_window(row), pw.first_window(col)
    if pr is None or pc is None:
        return None, None
    return (pr, pc), float(stages.pooled[channel, pr, pc])
