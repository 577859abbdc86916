"""Transposed convolution cell by cell: which input cells and kernel weights make one output cell.

In ``nn.ConvTranspose2d`` every input cell x[i] adds a copy of the kernel, scaled by x[i], to the output at
``o = i·S − P + k·D`` for each tap k (S stride, P padding, D dilation): the reverse of a convolution's
window. So output cell o gathers the pairs (i, k) with ``i·S + k·D = o + P``. The output's length is
``playground.explorer.shapes.conv_transpose_axis``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from playground.explorer.shapes import TransposedAxis


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
