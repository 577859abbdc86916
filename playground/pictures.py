"""Static maps as pictures: tensors drawn into PNG/JPEG bytes with a title, a colour bar and their numbers.

Panels nobody clicks are sent as images instead of plotly charts: the browser decodes an image
off its main thread, while every plotly chart is re-rendered on the main thread on every rerun.
Colours, ranges and number formatting are those of ``playground.figures``, so a picture means
exactly what the chart it replaces meant.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterable
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from playground.explain import fmt
from playground.figures import _LUTS, NUMBERS_MAX, SIGNED_SCALE, UNSIGNED_SCALE, value_range

# Canvas pixels. A stage column is ~220 screen px wide, so a 440 px canvas gives 2 canvas pixels
# per screen pixel: text and cell edges stay sharp on high-DPI screens and projectors.
WIDTH = 440
PAD = 10
TITLE_SIZE = 46
TICK_SIZE = 34
BAR_HEIGHT = 20
FONT_DIR = "/usr/share/fonts/truetype/dejavu"
GAP = (255, 255, 255)  # the lines between the cells of small maps, as plotly's xgap/ygap
HIGHLIGHT, FIELD_BOX, SELECTED = (255, 212, 0), (255, 109, 0), (0, 200, 83)  # as figures._overlay


class Picture(NamedTuple):
    """Encoded image bytes and their format ("PNG" or "JPEG"), ready for ``st.image``."""

    data: bytes
    format: str


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(f"{FONT_DIR}/DejaVuSans.ttf", size)
    except OSError:  # no DejaVu: Pillow's own scalable font
        return ImageFont.load_default(size=size)


def _fitting_font(text: str, size: int, width: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The largest font up to ``size`` in which ``text`` is at most ``width`` pixels wide."""
    while size > 8 and _font(size).getlength(text) > width:
        size -= 1
    return _font(size)


def _shrink(cells: torch.Tensor, box: int) -> torch.Tensor:
    """Area-average (C, H, W) ``cells`` to fit a ``box``² square (display only: more cells than pixels)."""
    h, w = cells.shape[-2:]
    f = box / max(h, w)
    size = (max(1, round(h * f)), max(1, round(w * f)))
    return torch.nn.functional.interpolate(cells[None], size=size, mode="area")[0]


def _pixels(cells: torch.Tensor, box: int, colorize: Callable[[torch.Tensor], np.ndarray]) -> tuple[np.ndarray, float]:
    """(C, H, W) ``cells`` as (h, w, 3) uint8 pixels fitting a ``box``² square, and the pixels per cell.

    Large maps are averaged down; small ones are upscaled nearest-neighbour, by a whole number of
    pixels per cell when cells get at least 4 px, so every cell is a sharp square of the same size.
    """
    n = max(cells.shape[-2:])
    if n > box:
        return colorize(_shrink(cells, box)), box / n
    rgb = colorize(cells)
    h, w = rgb.shape[:2]
    k = box // n
    if k >= 4:
        return rgb.repeat(k, 0).repeat(k, 1), float(k)
    size = (max(1, round(w * box / n)), max(1, round(h * box / n)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.NEAREST)), box / n


def _grid_lines(rgb: np.ndarray, k: float) -> None:
    """Separate the cells of a small map with GAP-coloured lines (in place)."""
    for axis in (0, 1):
        n = rgb.shape[axis]
        edges = [round(i * k) for i in range(1, round(n / k))]
        for e in edges:
            sl = slice(max(0, e - 1), e + 1)
            if axis == 0:
                rgb[sl] = GAP
            else:
                rgb[:, sl] = GAP


def _numbers(draw: ImageDraw.ImageDraw, values: torch.Tensor, rgb: np.ndarray, x0: int, y0: int, k: float) -> None:
    """Write each cell's value in its cell, black on light colours and white on dark ones."""
    labels = [[fmt(v, 2) for v in row] for row in values.tolist()]
    widest = max((label for row in labels for label in row), key=len)
    font = _fitting_font(widest, min(44, int(k * 0.45)), k - 8)
    for r, row in enumerate(labels):
        for c, label in enumerate(row):
            cx, cy = (c + 0.5) * k, (r + 0.5) * k
            luma = rgb[int(cy), int(cx)].astype(float) @ np.array([0.299, 0.587, 0.114])
            draw.text((x0 + cx, y0 + cy), label, fill="white" if luma < 128 else "black", font=font, anchor="mm")


def _outlines(
    draw: ImageDraw.ImageDraw,
    x0: int,
    y0: int,
    size: tuple[int, int],
    k: float,
    highlight: Iterable[tuple[int, int]],
    selected: tuple[int, int] | None,
) -> None:
    """As ``figures._overlay``: highlighted cells, a box one cell around all of them, the selected cell.

    ``size`` is the map's (height, width) in pixels: outlines are clipped to it.
    """
    h, w = size

    def rect(r0: float, c0: float, r1: float, c1: float, color: tuple[int, int, int], width: int) -> None:
        top, bottom = max(0, r0 * k), min(h - 1, r1 * k)
        left, right = max(0, c0 * k), min(w - 1, c1 * k)
        draw.rectangle((x0 + left, y0 + top, x0 + right, y0 + bottom), outline=color, width=width)

    cells = list(highlight)
    if k >= 4:  # single cells are too small to outline on large maps: the surrounding box shows where they are
        for r, c in cells:
            rect(r, c, r + 1, c + 1, HIGHLIGHT, 3)
    if cells:
        rows, cols = [r for r, _ in cells], [c for _, c in cells]
        rect(min(rows) - 1, min(cols) - 1, max(rows) + 2, max(cols) + 2, FIELD_BOX, 4)
    if selected is not None:
        rect(*selected, selected[0] + 1, selected[1] + 1, SELECTED, 5)


def _colorbar(draw: ImageDraw.ImageDraw, canvas: Image.Image, scale: str, lo: float, hi: float, y: int, signed: bool):
    """A horizontal colour bar across the canvas at height ``y``, ticks at the ends (and at 0 for signed maps)."""
    left, right = PAD + TICK_SIZE, canvas.width - PAD - TICK_SIZE
    strip = Image.fromarray(_LUTS[scale][None]).resize((right - left, BAR_HEIGHT), Image.Resampling.BILINEAR)
    canvas.paste(strip, (left, y))
    draw.rectangle((left - 1, y - 1, right, y + BAR_HEIGHT), outline=(120, 120, 120))
    ticks = [(lo, left, "la"), (hi, right, "ra")]
    if signed:
        ticks.insert(1, (0.0, (left + right) // 2, "ma"))
    font = _font(TICK_SIZE)
    for value, x, anchor in ticks:
        draw.line((x, y + BAR_HEIGHT, x, y + BAR_HEIGHT + 5), fill=(80, 80, 80), width=2)
        draw.text((x, y + BAR_HEIGHT + 7), fmt(value, 2), fill="black", font=font, anchor=anchor)


def _canvas(
    pixels: np.ndarray,
    shape: tuple[int, int],
    title: str,
    width: int,
    draw_map: Callable[[ImageDraw.ImageDraw, int, int], None],
    bar: tuple[str, float, float, bool] | None = None,
    bar_space: bool = False,
) -> Image.Image:
    """Title, then the map centred (``draw_map`` draws over it), then a colour bar (or, with ``bar_space``, its room).

    The map gets the height it would have if it filled the width exactly (``shape`` is its cells'
    (H, W)), so maps of one aspect ratio line up in a row whatever their pixels per cell.
    """
    title_font = _fitting_font(title, TITLE_SIZE, width - 2 * PAD)
    title_h = TITLE_SIZE + 12
    map_h, map_w = pixels.shape[:2]
    area_h = max(map_h, round((width - 2 * PAD) * shape[0] / max(shape)))
    bar_h = BAR_HEIGHT + TICK_SIZE + 20 if bar or bar_space else 0
    canvas = Image.new("RGB", (width, PAD + title_h + area_h + bar_h + PAD), "white")
    draw = ImageDraw.Draw(canvas)
    draw.text((width // 2, PAD + TITLE_SIZE // 2), title, fill="black", font=title_font, anchor="mm")
    x0, y0 = (width - map_w) // 2, PAD + title_h + (area_h - map_h) // 2
    canvas.paste(Image.fromarray(np.ascontiguousarray(pixels)), (x0, y0))
    draw_map(draw, x0, y0)
    if bar:
        _colorbar(draw, canvas, *bar[:3], y=PAD + title_h + area_h + 12, signed=bar[3])
    return canvas


def _encode(canvas: Image.Image, sharp: bool) -> Picture:
    """PNG when cells are drawn as blocks (sharp edges, flat areas compress well), else JPEG.

    A map averaged down or barely upscaled is photo-like: JPEG is several times smaller and faster
    to encode; without chroma subsampling the text stays clean.
    """
    buf = io.BytesIO()
    if sharp:
        canvas.save(buf, format="PNG", compress_level=1)
        return Picture(buf.getvalue(), "PNG")
    canvas.save(buf, format="JPEG", quality=90, subsampling=0)
    return Picture(buf.getvalue(), "JPEG")


def _map_canvas(
    values: torch.Tensor,
    title: str,
    signed: bool,
    colorbar: bool,
    highlight: Iterable[tuple[int, int]] = (),
    selected: tuple[int, int] | None = None,
    width: int = WIDTH,
) -> tuple[Image.Image, float]:
    """``map_picture`` before encoding: the canvas and the pixels per cell."""
    values = values.detach().float()
    scale = SIGNED_SCALE if signed else UNSIGNED_SCALE
    lo, hi = value_range(values, signed)

    def colorize(cells: torch.Tensor) -> np.ndarray:
        idx = ((cells[0] - lo) / (hi - lo) * 255).clamp(0, 255).to(torch.uint8).numpy()
        return np.take(_LUTS[scale], idx, axis=0)  # 3× faster than _LUTS[scale][idx]

    pixels, k = _pixels(values[None], width - 2 * PAD, colorize)
    small = max(values.shape) <= NUMBERS_MAX
    if small:
        _grid_lines(pixels, k)

    def draw_map(draw: ImageDraw.ImageDraw, x0: int, y0: int) -> None:
        if small:
            _numbers(draw, values, pixels, x0, y0, k)
        _outlines(draw, x0, y0, pixels.shape[:2], k, highlight, selected)

    bar = (scale, lo, hi, signed) if colorbar else None
    return _canvas(pixels, values.shape, title, width, draw_map, bar), k


def map_picture(
    values: torch.Tensor,
    title: str,
    *,
    signed: bool = True,
    colorbar: bool = True,
    highlight: Iterable[tuple[int, int]] = (),
    selected: tuple[int, int] | None = None,
    width: int = WIDTH,
) -> Picture:
    """One (H, W) map as a picture, coloured as ``figures.map_figure`` colours it.

    Args:
        values: the map, (H, W).
        title: written above the map.
        signed: diverging red-white-blue centred on 0 (computed maps) or grays (images).
        colorbar: draw the colour bar under the map, with its range (and 0 for signed maps).
        highlight: (row, col) cells outlined in yellow, e.g. a receptive field.
        selected: one (row, col) cell outlined in green.
        width: canvas width in pixels; the map fills it less the margins.

    Returns:
        The picture. Maps up to NUMBERS_MAX per side carry their numbers.
    """
    canvas, k = _map_canvas(values, title, signed, colorbar, highlight, selected, width)
    return _encode(canvas, sharp=k >= 4)


def rgb_picture(
    image: torch.Tensor, title: str, *, highlight: Iterable[tuple[int, int]] = (), width: int = WIDTH
) -> Picture:
    """A (3, H, W) image with values 0..255 as a colour picture, cells outlined as in ``map_picture``."""

    def colorize(cells: torch.Tensor) -> np.ndarray:
        return np.ascontiguousarray(cells.clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).numpy())

    pixels, k = _pixels(image.detach().float(), width - 2 * PAD, colorize)

    def draw_map(draw: ImageDraw.ImageDraw, x0: int, y0: int) -> None:
        _outlines(draw, x0, y0, pixels.shape[:2], k, highlight, None)

    # No colour bar (the colours are the pixel values) but its room, so a row of maps lines up.
    return _encode(_canvas(pixels, image.shape[1:], title, width, draw_map, bar_space=True), sharp=k >= 4)


def cell_picture(panels: list[tuple[str, torch.Tensor, bool]]) -> Picture:
    """Small (kH, kW) maps side by side in one picture, e.g. patch, weights and products of one output cell.

    Args:
        panels: (title, values, signed) for each panel; each is drawn as ``map_picture`` draws it, without colour bar.
    """
    canvases = [_map_canvas(values, title, signed, colorbar=False)[0] for title, values, signed in panels]
    gap = 2 * PAD
    out = Image.new("RGB", (sum(c.width + gap for c in canvases) - gap, max(c.height for c in canvases)), "white")
    x = 0
    for c in canvases:
        out.paste(c, (x, 0))
        x += c.width + gap
    return _encode(out, sharp=True)
