"""Step-through pictures for maps of any size: a zoomed neighbourhood with its numbers, and the legend of the marks.

Built from ``pictures``' blocks and ``marks``' colours, so a zoomed cell has the colour it has on
the whole map and every mark means what the legend says.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from PIL import Image, ImageDraw

from playground.explorer.explain import fmt
from playground.explorer.stepping import zoom_window
from playground.render.colours import scale_for, value_range
from playground.render.marks import MARKS, Cell, Mark, draw_marks
from playground.render.pictures import (
    PAD,
    WIDTH,
    Picture,
    canvas,
    cell_pixels,
    colorizer,
    encode,
    fitting_font,
    font,
    grid_lines,
    write_numbers,
)

LABEL_SIZE = 28  # row and column indices: ~19 screen px when a 440 px canvas is shown 300 px wide
WORD_SIZE = 22  # the words "row" and "column" beside the indices
LEGEND_SIZE = 30
INK = (60, 60, 60)
NUMBER_FACE = "DejaVuSansCondensed-Bold"  # narrow and heavy: the numbers stay legible at ~300 px wide


def compact(value: float) -> str:
    """A cell's value in about 4 characters (−0.25, 7.5, −12, 138), so it stays legible in a zoomed cell.

    Whole numbers from 10 on, one decimal from 1 on: the zoom orients; the step-through's arithmetic
    gives every digit.
    """
    size = abs(value)
    return fmt(value, 2 if size < 1 else 1 if size < 10 else 0)


def zoom_picture(
    values: torch.Tensor,
    center: Cell,
    radius: int = 3,
    title: str = "",
    *,
    signed: bool = True,
    highlight: Iterable[Cell] = (),
    reached: Iterable[Cell] = (),
    mark_center: bool = True,
    width: int = WIDTH,
) -> Picture:
    """The (2·radius+1)² neighbourhood of ``center`` in a map, each cell with its number, indices along the edges.

    The window is ``stepping.zoom_window``: it slides inside the map at the edges. Colours use the
    whole map's range, as ``map_picture`` colours it. Row indices run down the left edge, column
    indices along the top, so a student reads "row 57, column 80" off the picture.

    Args:
        values: the whole map, (H, W).
        center: the (row, col) to zoom on, in the map's indices; outlined thick in green.
        radius: cells on each side of ``center``; 3 gives 7×7 (the numbers stay readable up to ~5).
        title: written above.
        signed: diverging colours centred on 0 (computed maps) or grays (images).
        highlight: map (row, col) cells outlined in yellow, in an orange box (clipped to the window).
        reached: map (row, col) cells outlined in magenta (those in the window).
        mark_center: outline ``center`` (False e.g. when zooming on a receptive field's middle).
        width: canvas width in pixels.
    """
    values = values.detach().float()
    h, w = values.shape
    r0, r1, c0, c1 = zoom_window(h, w, center, radius)
    window = values[r0:r1, c0:c1]
    scale = scale_for(signed)
    lo, hi = value_range(values, signed)  # the whole map's: a cell keeps its colour
    words = font(WORD_SIZE)
    left = round(max(font(LABEL_SIZE).getlength(str(r1 - 1)), words.getlength("row"))) + 16
    top = LABEL_SIZE + WORD_SIZE + 20  # "column", then the column indices
    pixels, k = cell_pixels(window[None], width - 2 * PAD - left, colorizer(scale, lo, hi))
    labels = fitting_font(str(max(r1, c1) - 1), LABEL_SIZE, k - 10)  # 3-digit column indices must not touch
    grid_lines(pixels, k)

    def shift(cells: Iterable[Cell]) -> list[Cell]:  # into window indices; marks clip what lies outside
        return [(r - r0, c - c0) for r, c in cells]

    def draw_map(draw: ImageDraw.ImageDraw, x0: int, y0: int) -> None:
        selected = (center[0] - r0, center[1] - c0) if mark_center else None
        draw_marks(draw, x0, y0, pixels.shape[:2], k, shift(highlight), selected, shift(reached), selected_width=9)
        # Numbers last: the thick outline of the centre must not hide its number's first and last digits.
        write_numbers(draw, window, pixels, x0, y0, k, compact, NUMBER_FACE, margin=4)
        for j in range(c1 - c0):
            draw.text((x0 + (j + 0.5) * k, y0 - 8), str(c0 + j), fill=INK, font=labels, anchor="ms")
        for i in range(r1 - r0):
            draw.text((x0 - 10, y0 + (i + 0.5) * k), str(r0 + i), fill=INK, font=labels, anchor="rm")
        # Name the two kinds of index: "row" heads the row indices, "column" the column indices.
        draw.text((x0 - 10, y0 - 8), "row", fill=INK, font=words, anchor="rs")
        draw.text((x0 + pixels.shape[1] / 2, y0 - LABEL_SIZE - 14), "column", fill=INK, font=words, anchor="ms")

    return encode(canvas(pixels, window.shape, title, width, draw_map, margin=(left, top)), sharp=True)


def legend_picture(marks: Iterable[Mark] = MARKS, width: int = WIDTH) -> Picture:
    """A swatch and its words for each mark, e.g. a yellow-outlined cell: "Yellow: cells of the receptive field"."""
    text = font(LEGEND_SIZE)
    swatch, gap, line_h = 40, 18, LEGEND_SIZE + 8
    room = width - 2 * PAD - swatch - gap
    rows = [(m, _wrap(f"{m.name.capitalize()}: {m.words}", text, room)) for m in marks]
    height = PAD + sum(max(swatch, len(lines) * line_h) + gap for _, lines in rows) - gap + PAD
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    y = PAD
    for mark, lines in rows:
        draw.rectangle((PAD, y, PAD + swatch, y + swatch), fill=(235, 235, 235), outline=mark.rgb, width=6)
        for i, line in enumerate(lines):
            draw.text((PAD + swatch + gap, y + i * line_h), line, fill="black", font=text, anchor="la")
        y += max(swatch, len(lines) * line_h) + gap
    return encode(image, sharp=True)


def _wrap(words: str, text_font, room: float) -> list[str]:
    """Greedy word wrap of ``words`` to lines at most ``room`` pixels wide in ``text_font``."""
    lines: list[str] = []
    for word in words.split():
        if lines and text_font.getlength(f"{lines[-1]} {word}") <= room:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines
