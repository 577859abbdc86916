"""Colour scales and the rules every renderer shares: the plotly figures and the PIL pictures draw the same
values in the same colours, with the same range and the same readable text on top.

>>> value_range(torch.tensor([-1.0, 3.0]), signed=True), value_range(torch.tensor([2.0, 2.0]), signed=False)
((-3.0, 3.0), (2.0, 3.0))
>>> lut(SIGNED_SCALE).shape, text_colour(lut(UNSIGNED_SCALE)[0]), text_colour(lut(UNSIGNED_SCALE)[255])
((256, 3), 'white', 'black')
"""

from __future__ import annotations

import functools

import numpy as np
import plotly.colors
import torch
import torch.nn.functional as F

SIGNED_SCALE = "RdBu_r"  # blue = negative, white = 0, red = positive
UNSIGNED_SCALE = "gray"
NUMBERS_MAX = 16  # maps up to 16×16 cells carry their numbers
RUN_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")  # plotly's
_LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601 weights: how bright a colour looks


def scale_for(signed: bool) -> str:
    """The colour scale of a map: diverging around 0 for signed values, gray for intensities."""
    return SIGNED_SCALE if signed else UNSIGNED_SCALE


@functools.cache
def lut(scale: str) -> np.ndarray:
    """The 256 colours of ``scale`` as a (256, 3) uint8 table: index 0 is the low end."""
    colors = plotly.colors.sample_colorscale(scale, list(np.linspace(0, 1, 256)))
    rgb = [tuple(int(float(v)) for v in c[c.index("(") + 1 : -1].split(",")) for c in colors]
    table = np.array(rgb, dtype=np.uint8)
    table.flags.writeable = False  # shared by every caller
    return table


@functools.cache
def plotly_scale(scale: str) -> list:
    """``scale`` as an explicit colour list: names like "RdBu_r" are expanded only by plotly's Python-side
    validation, and the browser's plotly.js does not know them."""
    return plotly.colors.get_colorscale(scale)


def value_range(values: torch.Tensor, signed: bool) -> tuple[float, float]:
    """Colour range: symmetric around 0 for signed maps, so white always means 0."""
    lo, hi = float(values.min()), float(values.max())
    if signed:
        m = max(abs(lo), abs(hi)) or 1.0
        return -m, m
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def lut_index(values: torch.Tensor, lo: float, hi: float) -> np.ndarray:
    """Each value's row of a ``lut``: ``lo`` → 0, ``hi`` → 255, clamped."""
    return ((values - lo) / (hi - lo) * 255).clamp(0, 255).to(torch.uint8).numpy()


def text_colour(rgb: np.ndarray) -> np.ndarray | str:
    """White on dark colours and black on light ones, for one colour (a str) or an array of them."""
    dark = np.asarray(rgb, dtype=float) @ _LUMA < 128
    return np.where(dark, "white", "black") if np.ndim(dark) else ("white" if dark else "black")


def area_shrink(values: torch.Tensor, longest: int) -> torch.Tensor:
    """Area-average (C, H, W) ``values`` so the longest side is at most ``longest`` (display only)."""
    h, w = values.shape[-2:]
    if max(h, w) <= longest:
        return values
    f = longest / max(h, w)
    size = (max(1, round(h * f)), max(1, round(w * f)))
    return F.interpolate(values[None].float(), size=size, mode="area")[0]
