"""Plotly figure builders: pure functions from tensors to figures, with no UI calls.

Maps are drawn in cell coordinates (x = column, y = row, row 0 at the top) so highlights and
clicks line up with tensor indices. Small maps are heatmaps with their numbers in the cells;
large maps are sent as one PNG downsampled for display, so a 512×512 map costs kilobytes, not
megabytes of JSON numbers.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable

import numpy as np
import plotly.colors
import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from PIL import Image

from playground.explain import fmt

SIGNED_SCALE = "RdBu_r"  # blue = negative, white = 0, red = positive
UNSIGNED_SCALE = "gray"
NUMBERS_MAX = 16  # write values into cells up to 16×16
HEATMAP_MAX = 64  # above this a map is sent as a PNG
DISPLAY_MAX = 320  # pixels on the longest side of a PNG map
CLICK_GRID_MAX = 48  # clickable points per axis on large maps
FONT = {"size": 16}


def _lut(scale: str) -> np.ndarray:
    colors = plotly.colors.sample_colorscale(scale, list(np.linspace(0, 1, 256)))
    rgb = [tuple(int(float(v)) for v in c[c.index("(") + 1 : -1].split(",")) for c in colors]
    return np.array(rgb, dtype=np.uint8)


_LUTS = {SIGNED_SCALE: _lut(SIGNED_SCALE), UNSIGNED_SCALE: _lut(UNSIGNED_SCALE)}


def value_range(values: torch.Tensor, signed: bool) -> tuple[float, float]:
    """Colour range: symmetric around 0 for signed maps, so white always means 0."""
    lo, hi = float(values.min()), float(values.max())
    if signed:
        m = max(abs(lo), abs(hi)) or 1.0
        return -m, m
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _png(values: torch.Tensor, lo: float, hi: float, scale: str) -> tuple[str, int, int]:
    """(data URI, display width, display height) of a (H, W) map, area-downsampled to DISPLAY_MAX."""
    h, w = values.shape
    f = min(1.0, DISPLAY_MAX / max(h, w))
    if f < 1.0:
        size = (max(1, round(h * f)), max(1, round(w * f)))
        values = F.interpolate(values[None, None].float(), size=size, mode="area")[0, 0]
    idx = ((values.float() - lo) / (hi - lo) * 255).clamp(0, 255).to(torch.uint8).numpy()
    rgb = _LUTS[scale][idx]
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", compress_level=1)  # fast; the bytes are already small
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode(), rgb.shape[1], rgb.shape[0]


def _layout(fig: go.Figure, title: str, h: int, w: int, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 18}},
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 50},
        font=FONT,
        clickmode="event+select",
        dragmode=False,
    )
    fig.update_xaxes(
        range=[-0.5, w - 0.5], showgrid=False, zeroline=False, constrain="domain", visible=w <= NUMBERS_MAX
    )
    fig.update_yaxes(
        range=[h - 0.5, -0.5],
        showgrid=False,
        zeroline=False,
        scaleanchor="x",
        constrain="domain",
        visible=h <= NUMBERS_MAX,
        dtick=1,
    )
    return fig


def map_figure(
    values: torch.Tensor,
    title: str = "",
    *,
    signed: bool = True,
    highlight: Iterable[tuple[int, int]] = (),
    selected: tuple[int, int] | None = None,
    clickable: bool = False,
    height: int = 340,
    colorbar: bool = True,
) -> go.Figure:
    """One (H, W) map.

    Args:
        values: the map, (H, W).
        signed: diverging colours centred on 0 (computed maps) or grays (images).
        highlight: (row, col) cells outlined in yellow, e.g. a receptive field.
        selected: one (row, col) cell outlined in green, e.g. the output cell being explained.
        clickable: add invisible markers at cell centres so a click reports (x=col, y=row).
    """
    values = values.detach().float()
    h, w = values.shape
    scale = SIGNED_SCALE if signed else UNSIGNED_SCALE
    lo, hi = value_range(values, signed)
    fig = go.Figure()
    # A horizontal colour bar under the map leaves the map the full width of a narrow column.
    cbar = {"thickness": 10, "len": 0.9, "orientation": "h", "y": -0.02, "yanchor": "top", "tickfont": {"size": 12}}
    if max(h, w) <= HEATMAP_MAX:
        heat = go.Heatmap(
            z=values.numpy(),
            zmin=lo,
            zmax=hi,
            colorscale=scale,
            showscale=colorbar,
            colorbar=cbar,
            hovertemplate="row %{y}, col %{x}: %{z:.4g}<extra></extra>",
            xgap=1 if max(h, w) <= NUMBERS_MAX else 0,
            ygap=1 if max(h, w) <= NUMBERS_MAX else 0,
        )
        fig.add_trace(heat)
        if max(h, w) <= NUMBERS_MAX:
            fig.add_trace(_numbers(values, lo, hi, scale))
    else:
        src, dw, dh = _png(values, lo, hi, scale)
        fig.add_trace(
            go.Image(source=src, x0=-0.5 + w / dw / 2, dx=w / dw, y0=-0.5 + h / dh / 2, dy=h / dh, hoverinfo="skip")
        )
        if colorbar:  # a Heatmap-less figure needs a stand-in trace to carry the colour bar
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    hoverinfo="skip",
                    showlegend=False,
                    marker={
                        "colorscale": scale,
                        "cmin": lo,
                        "cmax": hi,
                        "color": [lo],
                        "showscale": True,
                        "colorbar": cbar,
                    },
                )
            )
    if clickable:
        step = max(1, -(-max(h, w) // CLICK_GRID_MAX))
        rows, cols = np.meshgrid(np.arange(0, h, step), np.arange(0, w, step), indexing="ij")
        fig.add_trace(
            go.Scatter(
                x=cols.ravel(),
                y=rows.ravel(),
                mode="markers",
                showlegend=False,
                name="cells",
                marker={"symbol": "square", "size": max(4, 300 // max(h, w) * step), "opacity": 0},
                hovertemplate="click: row %{y}, col %{x}<extra></extra>",
            )
        )
    _overlay(fig, highlight, selected)
    return _layout(fig, title, h, w, height)


def _numbers(values: torch.Tensor, lo: float, hi: float, scale: str) -> go.Scatter:
    """Cell values as text, black on light cells and white on dark ones, so every number stays readable."""
    h, w = values.shape
    idx = ((values - lo) / (hi - lo) * 255).clamp(0, 255).to(torch.uint8).numpy()
    rgb = _LUTS[scale][idx].astype(float)
    luma = rgb @ np.array([0.299, 0.587, 0.114])
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return go.Scatter(
        x=cols.ravel(),
        y=rows.ravel(),
        mode="text",
        text=[fmt(v, 2) for v in values.flatten().tolist()],
        textfont={
            "color": np.where(luma < 128, "white", "black").ravel().tolist(),
            "size": 15 if max(h, w) <= 8 else 12,
        },
        hoverinfo="skip",
        showlegend=False,
    )


def _overlay(fig: go.Figure, highlight: Iterable[tuple[int, int]], selected: tuple[int, int] | None) -> None:
    """Outline the highlighted cells, a box around all of them (visible on big maps) and the selected cell."""
    cells = list(highlight)
    shapes = [_box(r, c, "#ffd400", 2) for r, c in cells]
    if cells:
        rows, cols = [r for r, _ in cells], [c for _, c in cells]
        shapes.append(
            {
                "type": "rect",
                "x0": min(cols) - 1.5,
                "x1": max(cols) + 1.5,
                "y0": min(rows) - 1.5,
                "y1": max(rows) + 1.5,
                "line": {"color": "#ff6d00", "width": 3},
            }
        )
    if selected is not None:
        shapes.append(_box(*selected, "#00c853", 4))
    fig.update_layout(shapes=shapes)


def _box(row: int, col: int, color: str, width: int) -> dict:
    return {
        "type": "rect",
        "x0": col - 0.5,
        "x1": col + 0.5,
        "y0": row - 0.5,
        "y1": row + 0.5,
        "line": {"color": color, "width": width},
    }


def rgb_figure(
    image: torch.Tensor, title: str = "", height: int = 340, highlight: Iterable[tuple[int, int]] = ()
) -> go.Figure:
    """A (3, H, W) image with values 0..255 as a colour picture, with cells outlined as in ``map_figure``."""
    _, h, w = image.shape
    rgb = image.clamp(0, 255)
    f = min(1.0, DISPLAY_MAX / max(h, w))
    if f < 1.0:
        rgb = F.interpolate(rgb[None], size=(max(1, round(h * f)), max(1, round(w * f))), mode="area")[0]
    arr = rgb.round().to(torch.uint8).permute(1, 2, 0).numpy()
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", compress_level=1)
    src = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    dh, dw = arr.shape[:2]
    fig = go.Figure(go.Image(source=src, x0=-0.5 + w / dw / 2, dx=w / dw, y0=-0.5 + h / dh / 2, dy=h / dh))
    _overlay(fig, highlight, None)
    return _layout(fig, title, h, w, height)


def activation_figure(fn, name: str, height: int = 180) -> go.Figure:
    """A small plot of an activation function ``fn`` (tensor → tensor) over [−5, 5]."""
    x = torch.linspace(-5, 5, 201)
    fig = go.Figure(go.Scatter(x=x.numpy(), y=fn(x).numpy(), mode="lines", line={"width": 3}))
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10}, title=name, font=FONT, showlegend=False
    )
    fig.update_xaxes(zeroline=True, zerolinecolor="#888")
    fig.update_yaxes(zeroline=True, zerolinecolor="#888")
    return fig
