"""The whole network for one image at a glance: the input, then every layer's feature maps side by side; and a
convolution's filters in a row.

One column per layer that keeps maps (convolution, activation, batch norm, pooling), headed by the layer's
name and its output's shape (channels × height × width), holding its first few maps one under the other;
a column with more maps than it shows says how many more. Each map has its own colour range (diverging
around 0, as every computed map in the app), the input is drawn in grays.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

from playground.render.colours import scale_for, value_range
from playground.render.pictures import Picture, cell_pixels, colorizer, encode, fitting_font

SIDE = 132  # canvas pixels of one map's square: ~2 canvas pixels a screen pixel in a wide column
COLUMN = SIDE + 36  # a column: the map and the gap to the next
HEAD = 86  # two lines of heading
LINE = 30  # the heading's font size


def network_picture(image: torch.Tensor, layers: list[tuple[str, torch.Tensor]], shown: int = 4) -> Picture:
    """``image`` (H, W) in [0, 1], then each of ``layers``' (name, (C, H, W) maps), ``shown`` maps a column.

    Raises:
        ValueError: a layer whose maps are not (C, H, W), or ``shown`` below 1.
    """
    if shown < 1 or any(t.ndim != 3 for _, t in layers):
        raise ValueError("network_picture takes (C, H, W) maps and shows at least one a column")
    columns = [("Input", image[None].float(), False), *((name, t.float(), True) for name, t in layers)]
    rows = min(shown, max(len(t) for _, t in layers)) if layers else 1
    more_h = LINE + 12 if any(len(t) > rows for _, t in layers) else 0
    canvas = Image.new("RGB", (12 + COLUMN * len(columns), HEAD + rows * (SIDE + 12) + more_h + 8), "white")
    draw = ImageDraw.Draw(canvas)
    heads = [(name, f"{len(t)}×{t.shape[1]}×{t.shape[2]}" if signed else f"{t.shape[1]}×{t.shape[2]}")
             for name, t, signed in columns]  # fmt: skip
    head_font = min((fitting_font(text, LINE, COLUMN - 6) for pair in heads for text in pair), key=lambda f: f.size)
    for i, (_, maps, signed) in enumerate(columns):
        x0 = 12 + i * COLUMN
        c = len(maps)
        for line, text in enumerate(heads[i]):
            draw.text((x0 + SIDE // 2, 8 + LINE // 2 + line * (LINE + 8)), text, fill="black", font=head_font,
                      anchor="mm")  # fmt: skip
        for r in range(min(rows, c)):
            one = maps[r : r + 1]
            lo, hi = value_range(one, signed) if signed else (0.0, 1.0)
            pixels, _ = cell_pixels(one, SIDE, colorizer(scale_for(signed), lo, hi))
            y0 = HEAD + r * (SIDE + 12)
            canvas.paste(Image.fromarray(np.ascontiguousarray(pixels)), (x0, y0))
            draw.rectangle((x0 - 1, y0 - 1, x0 + pixels.shape[1], y0 + pixels.shape[0]), outline=(150, 150, 150))
        if c > rows:
            text = f"+{c - rows} more"
            draw.text((x0 + SIDE // 2, HEAD + rows * (SIDE + 12) + LINE // 2), text, fill=(90, 90, 90),
                      font=head_font, anchor="mm")  # fmt: skip
    return encode(canvas, sharp=True)


def filters_picture(weights: torch.Tensor, shown: int = 16) -> Picture:
    """A convolution's first ``shown`` filters (K, C, k, k), input channel 0, in a row, each in its own symmetric range.

    Raises:
        ValueError: ``weights`` that are not (K, C, k, k).
    """
    if weights.ndim != 4:
        raise ValueError("filters_picture takes a convolution's (K, C, k, k) weights")
    side, gap = 64, 10
    maps = weights[:shown, 0].detach().float()
    canvas = Image.new("RGB", (gap + len(maps) * (side + gap), side + 2 * gap), "white")
    for i, one in enumerate(maps):
        lo, hi = value_range(one, True)
        pixels, _ = cell_pixels(one[None], side, colorizer(scale_for(True), lo, hi))
        x0, y0 = gap + i * (side + gap), gap + (side - pixels.shape[0]) // 2
        canvas.paste(Image.fromarray(np.ascontiguousarray(pixels)), (x0, y0))
    return encode(canvas, sharp=True)
