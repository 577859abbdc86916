"""The confusion matrix as a PNG picture for slides: counts in the cells, class names along both edges.

It shows what ``train_figures.confusion_figure`` shows (rows the true class, columns the predicted one,
darker for more images), drawn with ``pictures``' blocks so no browser is needed to export it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw

from playground.render.colours import UNSIGNED_SCALE, lut, lut_index
from playground.render.pictures import PAD, Picture, canvas, cell_pixels, encode, font, grid_lines, write_numbers

WIDTH = 1100
LABEL_SIZE = 26
INK = (40, 40, 40)


def confusion_picture(confusion: torch.Tensor, classes: Sequence[str], title: str = "Confusion matrix") -> Picture:
    """``confusion`` (K, K) counts, rows = true class and columns = predicted, as a PNG.

    Args:
        confusion: integer counts, (K, K).
        classes: the K class names, written left of the rows and above the columns (slanted).
        title: written above.
    """
    counts = confusion.detach().float()
    hi = max(float(counts.max()), 1.0)

    def colorize(cells: torch.Tensor) -> np.ndarray:  # reversed grays, as the figure's: more images, darker
        return np.take(lut(UNSIGNED_SCALE)[::-1], lut_index(cells[0], 0.0, hi), axis=0)

    labels = font(LABEL_SIZE)
    left = round(max(labels.getlength(c) for c in classes)) + 70  # the class names, and "true" beside them
    top = round(max(labels.getlength(c) for c in classes) * 0.72) + 70  # slanted names, and "predicted"
    pixels, k = cell_pixels(counts[None], WIDTH - 2 * PAD - left, colorize)
    pixels = pixels.copy()
    grid_lines(pixels, k)

    origin = {}

    def draw_map(draw: ImageDraw.ImageDraw, x0: int, y0: int) -> None:
        origin["xy"] = x0, y0
        write_numbers(draw, counts, pixels, x0, y0, k, lambda v: f"{v:.0f}")
        for i, name in enumerate(classes):
            draw.text((x0 - 10, y0 + (i + 0.5) * k), name, fill=INK, font=labels, anchor="rm")
        draw.text((PAD, y0 - 8), "true ↓", fill=INK, font=labels, anchor="ls")
        draw.text((x0 + pixels.shape[1] / 2, PAD + 40 + LABEL_SIZE), "predicted →", fill=INK, font=labels,
                  anchor="mt")  # fmt: skip

    image = canvas(pixels, tuple(counts.shape), title, WIDTH, draw_map, margin=(left, top))
    x0, y0 = origin["xy"]
    right = round(labels.getlength(classes[-1]) * 0.72 - k / 2) + PAD  # room for the last slanted name
    if right > 0:
        wider = Image.new("RGB", (image.width + right, image.height), "white")
        wider.paste(image, (0, 0))
        image = wider
    for i, name in enumerate(classes):
        _slanted(image, name, (x0 + (i + 0.5) * k, y0 - 8), labels)
    return encode(image, sharp=True)


def _slanted(image: Image.Image, text: str, at: tuple[float, float], text_font) -> None:
    """Write ``text`` on ``image`` rotated 45° with its lower-left end at ``at`` (column names above a matrix)."""
    w, h = round(text_font.getlength(text)) + 4, LABEL_SIZE + 8
    strip = Image.new("L", (w, h), 0)
    ImageDraw.Draw(strip).text((2, h // 2), text, fill=255, font=text_font, anchor="lm")
    turned = strip.rotate(45, expand=True, resample=Image.Resampling.BICUBIC)
    x, y = round(at[0] - h * 0.35), round(at[1] - turned.height + h * 0.35)
    image.paste(INK, (x, y), turned)
