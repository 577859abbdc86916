"""Reverse view: from one input pixel to every output cell it reaches.

The step-through goes forward (an output cell → its receptive field); this goes back: a pixel →
the convolution cells whose receptive field holds it → the pooled cells whose window holds one of
those. Every rule is separable, so each axis is worked out alone and the cells are the product of
the rows and the columns. Positions come from the ``AxisSize`` of each stage, and which padded
cells copy an input pixel from ``F.pad`` itself, so reflect, replicate and circular padding count
exactly as PyTorch fills them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from playground.explorer.conv import Stages
from playground.explorer.shapes import AxisSize

Cell = tuple[int, int]


@dataclass(frozen=True)
class Reach:
    """Where one pixel goes, axis by axis: each stage's cells are ``rows × cols``, sorted.

    The pixel is a spatial position, on every input channel at once, so every output channel
    has the same cells. (With one kernel per channel, ``groups = C_in``, the copy on input
    channel c reaches output channel c only: the same cells, on that channel.)

    Attributes:
        padded_rows, padded_cols: where the pixel sits in the padded input: its own place, plus
            the copies reflect, replicate or circular padding made of it in the border.
        conv_rows, conv_cols: convolution output cells whose receptive field holds one of those
            (none when the pixel lies in a border the stride never covers: then both are empty).
        pooled_rows, pooled_cols: pooled cells whose window holds one of the convolution cells
            (empty without pooling). A max-pooled cell is reached structurally: its value changes
            only while this cell is its window's maximum.
    """

    padded_rows: tuple[int, ...]
    padded_cols: tuple[int, ...]
    conv_rows: tuple[int, ...]
    conv_cols: tuple[int, ...]
    pooled_rows: tuple[int, ...]
    pooled_cols: tuple[int, ...]

    @property
    def padded(self) -> list[Cell]:
        """Padded-input (row, col) cells holding the pixel."""
        return list(itertools.product(self.padded_rows, self.padded_cols))

    @property
    def conv(self) -> list[Cell]:
        """Convolution output (row, col) cells the pixel reaches, row-major."""
        return list(itertools.product(self.conv_rows, self.conv_cols))

    @property
    def pooled(self) -> list[Cell]:
        """Pooled (row, col) cells the pixel reaches, row-major; [] without pooling."""
        return list(itertools.product(self.pooled_rows, self.pooled_cols))


def windows_holding(index: int, axis: AxisSize) -> list[int]:
    """The windows along ``axis`` with a tap on ``index``, counted in the axis's padded coordinates.

    Window ``o`` taps ``o·S + t·D`` for ``t = 0 … F−1``, so it holds ``index`` when
    ``0 ≤ index − o·S ≤ D·(F−1)`` and ``D`` divides ``index − o·S``; only ``0 ≤ o < output`` exist.
    """
    s, d, span = axis.stride, axis.dilation, axis.dilation * (axis.kernel - 1)
    first = max(0, -(-(index - span) // s))  # ceil((index − span) / S)
    last = min(axis.output - 1, index // s)
    return [o for o in range(first, last + 1) if (index - o * s) % d == 0]


def padded_sources(size: int, before: int, after: int, mode: str) -> list[int]:
    """For each padded position along one axis, the input index it copies, or −1 for zero padding.

    Read from ``F.pad`` of the indices themselves, so each mode is exactly PyTorch's.
    """
    index = torch.arange(size, dtype=torch.float64)[None, None]  # (1, 1, size): F.pad's 1-D form
    if mode == "zeros":
        return F.pad(index, (before, after), value=-1.0)[0, 0].long().tolist()
    return F.pad(index, (before, after), mode=mode)[0, 0].long().tolist()


def reach_from_padded(stages: Stages, row: int, col: int) -> Reach:
    """Where padded-input cell (row, col) goes; 0 ≤ row < padded height, 0 ≤ col < padded width.

    Counts this one position only, as when the student points at the padded-input map (a border
    cell is its own cell there, even when it copies an input pixel).

    Raises:
        IndexError: the cell is outside the padded input.
    """
    _, hp, wp = stages.padded.shape
    if not (0 <= row < hp and 0 <= col < wp):
        raise IndexError(f"Cell ({row}, {col}) is outside the {hp}×{wp} padded input.")
    return _reach(stages, (row,), (col,))


def reach_from_input(stages: Stages, row: int, col: int) -> Reach:
    """Where input pixel (row, col) goes; 0 ≤ row < input height, 0 ≤ col < input width (before padding).

    Counts every padded cell holding the pixel: with reflect, replicate or circular padding a
    border pixel also sits in the padding, and reaches the cells that see those copies too.

    Raises:
        IndexError: the pixel is outside the input.
    """
    _, h, w = stages.input.shape
    if not (0 <= row < h and 0 <= col < w):
        raise IndexError(f"Pixel ({row}, {col}) is outside the {h}×{w} input.")
    ah, aw = stages.conv_axes
    mode = stages.padding_mode
    rows = [p for p, src in enumerate(padded_sources(h, ah.pad_before, ah.pad_after, mode)) if src == row]
    cols = [p for p, src in enumerate(padded_sources(w, aw.pad_before, aw.pad_after, mode)) if src == col]
    return _reach(stages, tuple(rows), tuple(cols))


def _reach(stages: Stages, rows: tuple[int, ...], cols: tuple[int, ...]) -> Reach:
    def through(indices, axis: AxisSize, offset: int = 0) -> tuple[int, ...]:
        return tuple(sorted({o for i in indices for o in windows_holding(i + offset, axis)}))

    def both(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return (a, b) if a and b else ((), ())  # no rows or no columns: no cells at all

    ah, aw = stages.conv_axes
    conv_rows, conv_cols = both(through(rows, ah), through(cols, aw))
    pooled_rows, pooled_cols = (), ()
    if stages.pool_axes is not None and stages.pooled is not None:
        ph, pw = stages.pool_axes  # pooling windows count in the pooling's padded coordinates
        pooled_rows, pooled_cols = both(through(conv_rows, ph, ph.pad_before), through(conv_cols, pw, pw.pad_before))
    return Reach(rows, cols, conv_rows, conv_cols, pooled_rows, pooled_cols)
