"""Static maps as pictures: tensors drawn into PNG/JPEG bytes with a title, a colour bar and their numbers.

Panels nobody clicks are sent as images instead of plotly charts: the browser decodes an image
off its main thread, while every plotly chart is re-rendered on the main thread on every rerun.
Colours, ranges and number formatting are those of ``playground.render.figures``, so a picture means
exactly what the chart it replaces meant; the marks drawn over maps come from ``playground.render.marks``.
The public building blocks (``cell_pixels``, ``write_numbers``, ``canvas``, ``encode`` …) also
make the step-through's zoomed pictures (``playground.render.zoom``).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterable
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from playground.explorer.explain import fmt
from playground.render.colours import NUMBERS_MAX, area_shrink, lut, lut_index, scale_for, text_colour, value_range
from playground.render.marks import Cell, draw_marks

# Canvas pixels. A stage column is ~220 screen px wide, so a 440 px canvas gives 2 canvas pixels
# per screen pixel: text and cell edges stay sharp on high-DPI screens and projectors.
WIDTH = 440
PAD = 10
TITLE_SIZE = 46
TICK_SIZE = 34
BAR_HEIGHT = 20
FONT_DIR = "/usr/share/fonts/truetype/dejavu"
GAP = (255, 255, 255)  # the lines between the cells of small maps, as plotly's xgap/ygap


class Picture(NamedTuple):
    """Encoded image bytes and their format ("PNG" or "JPEG"), ready for ``st.image``."""

    data: bytes
    format: str


@functools.cache
def font(size: int, face: str = "DejaVuSans") -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu ``face`` at ``size`` pixels (cached: loading a font costs milliseconds)."""
    try:
        return ImageFont.truetype(f"{FONT_DIR}/{face}.ttf", size)
    except OSError:  # no DejaVu: Pillow's own scalable font
        return ImageFont.load_default(size=size)


def fitting_font(
    text: str, size: int, width: float, face: str = "DejaVuSans"
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The largest font up to ``size`` in which ``text`` is at most ``width`` pixels wide."""
    while size > 8 and font(size, face).getlength(text) > width:
        size -= 1
    return font(size, face)


def colorizer(scale: str, lo: float, hi: float) -> Callable[[torch.Tensor], np.ndarray]:
    """(1, H, W) values → (H, W, 3) uint8 colours of ``scale``, ``lo`` at one end and ``hi`` at the other."""

    def colorize(cells: torch.Tensor) -> np.ndarray:
        return np.take(lut(scale), lut_index(cells[0], lo, hi), axis=0)  # faster than lut(scale)[index]

    return colorize


def cell_pixels(
    cells: torch.Tensor, box: int, colorize: Callable[[torch.Tensor], np.ndarray]
) -> tuple[np.ndarray, float]:
    """(C, H, W) ``cells`` as (h, w, 3) uint8 pixels fitting a ``box``² square, and the pixels per cell.

    Large maps are averaged down; small ones are upscaled nearest-neighbour, by a whole number of
    pixels per cell when cells get at least 4 px, so every cell is a sharp square of the same size.
    """
    n = max(cells.shape[-2:])
    if n > box:
        return colorize(area_shrink(cells, box)), box / n
    rgb = colorize(cells)
    h, w = rgb.shape[:2]
    k = box // n
    if k >= 4:
        return rgb.repeat(k, 0).repeat(k, 1), float(k)
    size = (max(1, round(w * box / n)), max(1, round(h * box / n)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.NEAREST)), box / n


def grid_lines(rgb: np.ndarray, k: float) -> None:
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


def write_numbers(
    draw: ImageDraw.ImageDraw,
    values: torch.Tensor,
    rgb: np.ndarray,
    x0: int,
    y0: int,
    k: float,
    label: Callable[[float], str] = lambda v: fmt(v, 2),
    face: str = "DejaVuSans",
    margin: int = 8,
) -> None:
    """Write each cell's ``label(value)`` in its cell, black on light colours and white on dark ones.

    One font size for all, the largest up to 45% of a cell in which the widest label leaves ``margin`` pixels.
    """
    labels = [[label(v) for v in row] for row in values.tolist()]
    widest = max((text for row in labels for text in row), key=lambda text: font(20, face).getlength(text))
    size = fitting_font(widest, min(44, int(k * 0.45)), k - margin, face)
    for r, row in enumerate(labels):
        for c, text in enumerate(row):
            cx, cy = (c + 0.5) * k, (r + 0.5) * k
            draw.text((x0 + cx, y0 + cy), text, fill=text_colour(rgb[int(cy), int(cx)]), font=size, anchor="mm")


def _colorbar(draw: ImageDraw.ImageDraw, canvas: Image.Image, scale: str, lo: float, hi: float, y: int, signed: bool):
    """A horizontal colour bar across the canvas at height ``y``, ticks at the ends (and at 0 for signed maps)."""
    left, right = PAD + TICK_SIZE, canvas.width - PAD - TICK_SIZE
    strip = Image.fromarray(lut(scale)[None]).resize((right - left, BAR_HEIGHT), Image.Resampling.BILINEAR)
    canvas.paste(strip, (left, y))
    draw.rectangle((left - 1, y - 1, right, y + BAR_HEIGHT), outline=(120, 120, 120))
    ticks = [(lo, left, "la"), (hi, right, "ra")]
    if signed:
        ticks.insert(1, (0.0, (left + right) // 2, "ma"))
    for value, x, anchor in ticks:
        draw.line((x, y + BAR_HEIGHT, x, y + BAR_HEIGHT + 5), fill=(80, 80, 80), width=2)
        draw.text((x, y + BAR_HEIGHT + 7), fmt(value, 2), fill="black", font=font(TICK_SIZE), anchor=anchor)


def canvas(
    pixels: np.ndarray,
    shape: tuple[int, int],
    title: str,
    width: int,
    draw_map: Callable[[ImageDraw.ImageDraw, int, int], None],
    bar: tuple[str, float, float, bool] | None = None,
    bar_space: bool = False,
    margin: tuple[int, int] = (0, 0),
) -> Image.Image:
    """Title, then the map centred (``draw_map`` draws over it), then a colour bar (or, with ``bar_space``, its room).

    The map gets the height it would have if it filled the width exactly (``shape`` is its cells'
    (H, W)), so maps of one aspect ratio line up in a row whatever their pixels per cell.
    ``margin`` keeps (left, top) pixels free beside and above the map, e.g. for row and column indices.
    """
    title_font = fitting_font(title, TITLE_SIZE, width - 2 * PAD)
    title_h = TITLE_SIZE + 12
    left, top = margin
    map_h, map_w = pixels.shape[:2]
    area_h = max(map_h, round((width - 2 * PAD - left) * shape[0] / max(shape)))
    bar_h = BAR_HEIGHT + TICK_SIZE + 20 if bar or bar_space else 0
    image = Image.new("RGB", (width, PAD + title_h + top + area_h + bar_h + PAD), "white")
    draw = ImageDraw.Draw(image)
    draw.text((width // 2, PAD + TITLE_SIZE // 2), title, fill="black", font=title_font, anchor="mm")
    x0, y0 = left + (width - left - map_w) // 2, PAD + title_h + top + (area_h - map_h) // 2
    image.paste(Image.fromarray(np.ascontiguousarray(pixels)), (x0, y0))
    draw_map(draw, x0, y0)
    if bar:
        _colorbar(draw, image, *bar[:3], y=PAD + title_h + top + area_h + 12, signed=bar[3])
    return image


def encode(image: Image.Image, sharp: bool) -> Picture:
    """PNG when cells are drawn as blocks (sharp edges, flat areas compress well), else JPEG.

    A map averaged down or barely upscaled is photo-like: JPEG is several times smaller and faster
    to encode; without chroma subsampling the text stays clean.
    """
    buf = io.BytesIO()
    if sharp:
        image.save(buf, format="PNG", compress_level=1)
        return Picture(buf.getvalue(), "PNG")
    image.save(buf, format="JPEG", quality=90, subsampling=0)
    return Picture(buf.getvalue(), "JPEG")


def _map_canvas(
    values: torch.Tensor,
    title: str,
    signed: bool,
    colorbar: bool,
    highlight: Iterable[Cell] = (),
    selected: Cell | None = None,
    width: int = WIDTH,
    reached: Iterable[Cell] = (),
) -> tuple[Image.Image, float]:
    """``map_picture`` before encoding: the canvas and the pixels per cell."""
    values = values.detach().float()
    scale = scale_for(signed)
    lo, hi = value_range(values, signed)
    pixels, k = cell_pixels(values[None], width - 2 * PAD, colorizer(scale, lo, hi))
    small = max(values.shape) <= NUMBERS_MAX
    if small:
        grid_lines(pixels, k)

    def draw_map(draw: ImageDraw.ImageDraw, x0: int, y0: int) -> None:
        if small:
            write_numbers(draw, values, pixels, x0, y0, k)
        draw_marks(draw, x0, y0, pixels.shape[:2], k, highlight, selected, reached)

    bar = (scale, lo, hi, signed) if colorbar else None
    return canvas(pixels, values.shape, title, width, draw_map, bar), k


def map_picture(
    values: torch.Tensor,
    title: str,
    *,
    signed: bool = True,
    colorbar: bool = True,
    highlight: Iterable[Cell] = (),
    selected: Cell | None = None,
    reached: Iterable[Cell] = (),
    width: int = WIDTH,
) -> Picture:
    """One (H, W) map as a picture, coloured as ``figures.map_figure`` colours it.

    Args:
        values: the map, (H, W).
        title: written above the map.
        signed: diverging red-white-blue centred on 0 (computed maps) or grays (images).
        colorbar: draw the colour bar under the map, with its range (and 0 for signed maps).
        highlight: (row, col) cells outlined in yellow, e.g. a receptive field, in an orange box.
        selected: one (row, col) cell outlined in green, at least ``marks.MIN_MARK`` pixels wide.
        reached: (row, col) cells outlined in magenta, e.g. the cells one input pixel reaches.
        width: canvas width in pixels; the map fills it less the margins.

    Returns:
        The picture. Maps up to NUMBERS_MAX per side carry their numbers.
    """
    image, k = _map_canvas(values, title, signed, colorbar, highlight, selected, width, reached)
    return encode(image, sharp=k >= 4)


def rgb_picture(image: torch.Tensor, title: str, *, highlight: Iterable[Cell] = (), width: int = WIDTH) -> Picture:
    """A (3, H, W) image with values 0..255 as a colour picture, cells outlined as in ``map_picture``."""

    def colorize(cells: torch.Tensor) -> np.ndarray:
        return np.ascontiguousarray(cells.clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).numpy())

    pixels, k = cell_pixels(image.detach().float(), width - 2 * PAD, colorize)

    def draw_map(draw: ImageDraw.ImageDraw, x0: int, y0: int) -> None:
        draw_marks(draw, x0, y0, pixels.shape[:2], k, highlight)

    # No colour bar (the colours are the pixel values) but its room, so a row of maps lines up.
    return encode(canvas(pixels, image.shape[1:], title, width, draw_map, bar_space=True), sharp=k >= 4)


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
    return encode(out, sharp=True)
