"""Plotly figure builders: pure functions from tensors to figures, with no UI calls.

Maps are drawn in cell coordinates (x = column, y = row, row 0 at the top) so highlights and
clicks line up with tensor indices. Small maps are heatmaps with their numbers in the cells;
large maps are sent as one PNG downsampled for display, so a 512×512 map costs kilobytes, not
megabytes of JSON numbers. Figures are assembled from plain dicts and wrapped without
plotly's per-property validation, which costs ~10× the rest of a rerun; the tests validate
every builder's output once instead.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterable

import numpy as np
import plotly.graph_objects as go
import torch
from PIL import Image

from playground.explorer.explain import fmt
from playground.render.colours import (
    NUMBERS_MAX,
    area_shrink,
    lut,
    lut_index,
    plotly_scale,
    scale_for,
    text_colour,
    value_range,
)
from playground.render.marks import FIELD, FIELD_BOX, REACHED, SELECTED

HEATMAP_MAX = 64  # above this a map is sent as a PNG
DISPLAY_MAX = 320  # pixels on the longest side of a PNG map
CLICK_GRID_MAX = 32  # clickable points per axis on large maps (each marker costs the browser time)
MARKER_PX = 8  # half the side of the selected cell's marker on large maps, in screen pixels: 16 px across
FONT = {"size": 16}


def _figure(data: list[dict], layout: dict) -> go.Figure:
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def _png_trace(rgb: np.ndarray, h: int, w: int) -> dict:
    """An image trace showing (dh, dw, 3) uint8 ``rgb`` stretched over an h×w cell grid.

    Pixel-exact pictures go as PNG. Pictures already averaged down for display go as JPEG
    (quality 90, no chroma subsampling): 6× fewer bytes and 20× faster than PNG for a photo.
    """
    buf = io.BytesIO()
    dh, dw = rgb.shape[:2]
    if (dh, dw) == (h, w):
        Image.fromarray(rgb).save(buf, format="PNG", compress_level=1)
        mime = "png"
    else:
        Image.fromarray(rgb).save(buf, format="JPEG", quality=90, subsampling=0)
        mime = "jpeg"
    return {
        "type": "image",
        "source": f"data:image/{mime};base64," + base64.b64encode(buf.getvalue()).decode(),
        "x0": -0.5 + w / dw / 2,
        "dx": w / dw,
        "y0": -0.5 + h / dh / 2,
        "dy": h / dh,
        "hoverinfo": "skip",
    }


def _layout(title: str, h: int, w: int, height: int, shapes: list[dict]) -> dict:
    axis = {"showgrid": False, "zeroline": False, "constrain": "domain", "dtick": 1}
    return {
        "title": {"text": title, "font": {"size": 18}},
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 50},
        "font": FONT,
        "clickmode": "event+select",
        "dragmode": False,
        "xaxis": {**axis, "range": [-0.5, w - 0.5], "visible": w <= NUMBERS_MAX},
        "yaxis": {**axis, "range": [h - 0.5, -0.5], "scaleanchor": "x", "visible": h <= NUMBERS_MAX},
        "shapes": shapes,
    }


def map_figure(
    values: torch.Tensor,
    title: str = "",
    *,
    signed: bool = True,
    highlight: Iterable[tuple[int, int]] = (),
    selected: tuple[int, int] | None = None,
    reached: Iterable[tuple[int, int]] = (),
    clickable: bool = False,
    height: int = 340,
    colorbar: bool = True,
) -> go.Figure:
    """One (H, W) map.

    Args:
        values: the map, (H, W).
        signed: diverging colours centred on 0 (computed maps) or grays (images).
        highlight: (row, col) cells outlined in yellow, e.g. a receptive field.
        selected: one (row, col) cell outlined in green, e.g. the output cell being explained. When cells
            are drawn under 16 screen pixels, a 16-pixel green box with a crosshair marks it too.
        reached: (row, col) cells outlined in magenta, e.g. the cells one input pixel reaches.
        clickable: add invisible markers at cell centres so a click reports (x=col, y=row).
        colorbar: show the colour bar (horizontal, under the map, so the map keeps the column width).
    """
    values = values.detach().float()
    h, w = values.shape
    scale = scale_for(signed)
    colors = plotly_scale(scale)
    lo, hi = value_range(values, signed)
    cbar = {"thickness": 10, "len": 0.9, "orientation": "h", "y": -0.02, "yanchor": "top", "tickfont": {"size": 16}}
    small = max(h, w) <= NUMBERS_MAX
    if max(h, w) <= HEATMAP_MAX:
        data = [
            {
                "type": "heatmap",
                "z": values.numpy(),
                "zmin": lo,
                "zmax": hi,
                "colorscale": colors,
                "showscale": colorbar,
                "colorbar": cbar,
                "xgap": int(small),
                "ygap": int(small),
                "hovertemplate": "row %{y}, col %{x}: %{z:.4g}<extra></extra>",
            }
        ]
        if small:
            data.append(_numbers(values, lo, hi, scale))
    else:
        data = [_png_trace(lut(scale)[lut_index(area_shrink(values[None], DISPLAY_MAX)[0], lo, hi)], h, w)]
        if colorbar:  # an image trace has no colour bar: a marker-less stand-in carries it
            data.append(
                {
                    "type": "scatter",
                    "x": [None],
                    "y": [None],
                    "mode": "markers",
                    "hoverinfo": "skip",
                    "showlegend": False,
                    "marker": {
                        "colorscale": colors,
                        "cmin": lo,
                        "cmax": hi,
                        "color": [lo],
                        "showscale": True,
                        "colorbar": cbar,
                    },
                }
            )
    if clickable:
        step = max(1, -(-max(h, w) // CLICK_GRID_MAX))
        rows, cols = np.meshgrid(np.arange(0, h, step), np.arange(0, w, step), indexing="ij")
        data.append(
            {
                "type": "scatter",
                "x": cols.ravel(),
                "y": rows.ravel(),
                "mode": "markers",
                "showlegend": False,
                "name": "cells",
                "hovertemplate": "click: row %{y}, col %{x}<extra></extra>",
                "marker": {"symbol": "square", "size": max(4, 300 // max(h, w) * step), "opacity": 0},
            }
        )
    cell_px = (height - 90) / max(h, w)  # at most: the plot is height less the margins, the width may shrink it
    return _figure(data, _layout(title, h, w, height, _overlay(highlight, selected, reached, cell_px < 2 * MARKER_PX)))


def _numbers(values: torch.Tensor, lo: float, hi: float, scale: str) -> dict:
    """Cell values as text, black on light cells and white on dark ones, so every number stays readable."""
    h, w = values.shape
    ink = text_colour(lut(scale)[lut_index(values, lo, hi)])
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return {
        "type": "scatter",
        "x": cols.ravel(),
        "y": rows.ravel(),
        "mode": "text",
        "hoverinfo": "skip",
        "showlegend": False,
        "text": [fmt(v, 2) for v in values.flatten().tolist()],
        "textfont": {
            "color": ink.ravel().tolist(),
            "size": 15 if max(h, w) <= 8 else 12,
        },
    }


def _box(row: int, col: int, color: str, width: int, pad: float = 0.5) -> dict:
    return {
        "type": "rect",
        "x0": col - pad,
        "x1": col + pad,
        "y0": row - pad,
        "y1": row + pad,
        "line": {"color": color, "width": width},
    }


def _around(cells: list[tuple[int, int]], color: str) -> dict:
    rows, cols = [r for r, _ in cells], [c for _, c in cells]
    x0, x1, y0, y1 = min(cols) - 1.5, max(cols) + 1.5, min(rows) - 1.5, max(rows) + 1.5
    return {"type": "rect", "x0": x0, "x1": x1, "y0": y0, "y1": y1, "line": {"color": color, "width": 3}}


def _marker(row: int, col: int, color: str) -> list[dict]:
    """A box ``2·MARKER_PX`` screen pixels wide around a cell's centre, and crosshair arms out of it."""
    m = MARKER_PX
    anchor = {"xsizemode": "pixel", "ysizemode": "pixel", "xanchor": col, "yanchor": row}
    box = {"type": "rect", **anchor, "x0": -m, "x1": m, "y0": -m, "y1": m, "line": {"color": color, "width": 3}}
    arms = [
        {"type": "line", **anchor, "x0": dx * m, "x1": dx * 2 * m, "y0": dy * m, "y1": dy * 2 * m}
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))
    ]
    return [box, *({**arm, "line": {"color": color, "width": 3}} for arm in arms)]


def _overlay(
    highlight: Iterable[tuple[int, int]],
    selected: tuple[int, int] | None,
    reached: Iterable[tuple[int, int]] = (),
    small_cells: bool = False,
) -> list[dict]:
    """Outlines in ``marks``' colours: highlighted cells and a box around them, reached cells, the selected cell.

    With ``small_cells`` (cells under 16 screen pixels) reached cells also get a box around them
    and the selected cell a marker of fixed screen size, so both show on a 512×512 map.
    """
    cells, hits = list(highlight), list(reached)
    shapes = [_box(r, c, FIELD.hex, 2) for r, c in cells] + [_box(r, c, REACHED.hex, 2) for r, c in hits]
    if cells:
        shapes.append(_around(cells, FIELD_BOX.hex))
    if hits and small_cells:
        shapes.append(_around(hits, REACHED.hex))
    if selected is not None:
        shapes.append(_box(*selected, SELECTED.hex, 4))
        if small_cells:
            shapes += _marker(*selected, SELECTED.hex)
    return shapes


def activation_figure(fn: Callable[[torch.Tensor], torch.Tensor], name: str, height: int = 180) -> go.Figure:
    """A small plot of an activation function ``fn`` (tensor → tensor) over [−5, 5]."""
    x = torch.linspace(-5, 5, 201)
    axis = {"zeroline": True, "zerolinecolor": "#888"}
    return _figure(
        [{"type": "scatter", "x": x.numpy(), "y": fn(x).numpy(), "mode": "lines", "line": {"width": 3}}],
        {
            "height": height,
            "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
            "title": {"text": name},
            "font": FONT,
            "showlegend": False,
            "xaxis": axis,
            "yaxis": axis,
        },
    )


def projector_fonts(fig: go.Figure, size: int = 18) -> go.Figure:
    """``fig`` with every text at least ``size`` px (titles larger), for a lecture-hall projector.

    Sets the layout's base font and each axis, colour bar, legend and in-cell text explicitly, since
    plotly gives several of them their own smaller sizes.
    """
    fig = go.Figure(fig)
    big = {"size": size}
    fig.update_layout(font=big, title_font={"size": size + 4}, legend_font=big)
    fig.update_xaxes(tickfont=big, title_font=big)
    fig.update_yaxes(tickfont=big, title_font=big)
    fig.update_annotations(font_size=size)  # e.g. the numbers over a grid of filters
    for trace in fig.data:
        if "textfont" in trace:
            trace.textfont = {**(trace.textfont.to_plotly_json() if trace.textfont else {}), **big}
        if getattr(trace, "colorbar", None) is not None and "colorbar" in trace:
            trace.colorbar.tickfont = big
        if getattr(trace, "marker", None) is not None and getattr(trace.marker, "colorbar", None) is not None:
            trace.marker.colorbar.tickfont = big
    return fig
