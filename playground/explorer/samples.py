"""Sample images: generated patterns that make each kernel's effect obvious, and two CC0 photos."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

PHOTOS = Path(__file__).resolve().parents[2] / "assets" / "photos"
SIZE = 128


def shapes() -> Image.Image:
    """A circle, a square and a triangle, light on dark: edges in every direction."""
    image = Image.new("L", (SIZE, SIZE), 20)
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 12, 58, 60), fill=235)
    draw.rectangle((70, 14, 116, 58), fill=170)
    draw.polygon([(28, 116), (64, 70), (100, 116)], fill=120)
    return image


def stripes() -> Image.Image:
    """Vertical stripes 8 pixels wide: Sobel x lights up, Sobel y stays dark."""
    row = np.where((np.arange(SIZE) // 8) % 2 == 0, 230, 25).astype(np.uint8)
    return Image.fromarray(np.tile(row, (SIZE, 1)), "L")


def checkerboard() -> Image.Image:
    """16-pixel squares: corners and edges in both directions."""
    y, x = np.indices((SIZE, SIZE))
    return Image.fromarray(np.where(((x // 16) + (y // 16)) % 2 == 0, 230, 25).astype(np.uint8), "L")


def letter() -> Image.Image:
    """A large letter A."""
    image = Image.new("L", (SIZE, SIZE), 15)
    font = ImageFont.load_default(size=110)
    ImageDraw.Draw(image).text((SIZE / 2, SIZE / 2), "A", fill=240, font=font, anchor="mm")
    return image


def gradient() -> Image.Image:
    """A smooth diagonal ramp: blurs change little, edge detectors see almost nothing."""
    y, x = np.indices((SIZE, SIZE))
    return Image.fromarray(((x + y) * 255 / (2 * SIZE - 2)).astype(np.uint8), "L")


@lru_cache(maxsize=4)
def _photo(name: str) -> Image.Image:
    """The decoded photo, shared between calls: callers get copies, so nobody can change it."""
    with Image.open(PHOTOS / name) as image:
        return image.convert("RGB")


def photo(name: str) -> Image.Image:
    """A copy of ``assets/photos/<name>`` as an "RGB" image (see assets/SOURCES.md for its licence).

    Args:
        name: the file name, e.g. "coffee.jpg".

    Returns:
        A fresh "RGB" image the caller may change.

    Raises:
        FileNotFoundError: no such photo.
    """
    return _photo(name).copy()


SAMPLES: dict[str, Callable[[], Image.Image]] = {
    "Shapes": shapes,
    "Photo: coffee cup (CC0)": partial(photo, "coffee.jpg"),
    "Photo: Chelsea the cat (CC0)": partial(photo, "chelsea.jpg"),
    "Stripes": stripes,
    "Checkerboard": checkerboard,
    "Letter A": letter,
    "Gradient": gradient,
}


def load_sample(name: str) -> Image.Image:
    """The sample called ``name``.

    Args:
        name: one of the keys of :data:`SAMPLES`.

    Returns:
        A fresh "L" or "RGB" image the caller may change.

    Raises:
        KeyError: unknown name; the message lists the samples.
    """
    if name not in SAMPLES:
        raise KeyError(f"Unknown sample {name!r}; choose one of: {', '.join(SAMPLES)}.")
    return SAMPLES[name]()
