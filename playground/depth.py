"""Float, 16- and 32-bit grayscale images made 8-bit ("L"), a band of rows at a time.

Such images decode to 2-4 bytes a pixel; converting them whole made several full-size temporaries
(a 10-megapixel float TIFF peaked at +255 MB, now +109 MB with the decoded image itself).
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

BAND_PIXELS = 1 << 20  # temporaries stay about a megapixel


def declared_bits(image: Image.Image) -> int:
    """Bits per sample as the file states it, 0 if unknown (a 12-bit TIFF opens as "I;16" with values to 4095)."""
    bits = getattr(image, "tag_v2", {}).get(258)  # BitsPerSample; only TIFFs have tags
    bits = bits[0] if isinstance(bits, tuple) and bits else bits
    if isinstance(bits, int) and 1 <= bits <= 16:
        return bits
    return 16 if image.mode.startswith("I;16") else 0


def _bands(image: Image.Image):
    """The image as (first row, (rows, W) array) bands of about BAND_PIXELS, so no full-size temporary is made."""
    w, h = image.size
    step = max(1, BAND_PIXELS // max(1, w))
    for y in range(0, h, step):
        yield y, np.asarray(image.crop((0, y, w, min(h, y + step))))


def to_8bit(image: Image.Image, bits: int) -> Image.Image:
    """Scale integer or float grayscale to "L": by the bit depth when the values fit it, else by min..max.

    Pillow's own ``convert("L")`` clips at 255, which turns most 16-bit pictures white. Works a band of
    rows at a time: a 10-megapixel float image would otherwise make several 40-80 MB temporaries.
    """
    w, h = image.size
    out = np.empty((h, w), dtype=np.uint8)
    lo, hi = math.inf, -math.inf
    for _, band in _bands(image):  # first pass: the range of the (finite) values
        finite = band[np.isfinite(band)] if image.mode == "F" else band
        if finite.size:
            lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    if image.mode == "F":
        lo, hi = (lo, hi) if lo <= hi else (0.0, 0.0)
        scale = np.float32(255.0 / ((hi - lo) or 1.0))
        for y, band in _bands(image):
            band = np.nan_to_num(band.astype(np.float32), nan=lo, posinf=hi, neginf=lo)
            out[y : y + len(band)] = np.clip(np.rint((band - np.float32(lo)) * scale), 0, 255)
        return Image.fromarray(out, "L")
    lo, hi = int(lo), int(hi)
    if not bits and image.mode == "I" and lo >= 0 and hi <= 65535:
        bits = 16  # an "I" image holding 16-bit data (older Pillows opened 16-bit PNGs that way)
    if bits and lo >= 0 and hi < (1 << bits):
        full = (1 << bits) - 1
        lut = ((np.arange(full + 1, dtype=np.int64) * 255 + full // 2) // full).astype(np.uint8)
        for y, band in _bands(image):
            out[y : y + len(band)] = lut[band]  # a table lookup: no wide temporary copy
        return Image.fromarray(out, "L")
    # No known depth, or values outside it (signed or 32-bit data): stretch the values present.
    span = max(hi - lo, 1)
    for y, band in _bands(image):
        out[y : y + len(band)] = ((band.astype(np.int64) - lo) * 255 + span // 2) // span
    return Image.fromarray(out, "L")
