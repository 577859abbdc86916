"""Turning uploads, drawings and typed grids into tensors, refusing anything that is not a usable image."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = {"PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF", "MPO"}  # MPO: multi-picture JPEG from phone cameras
MAX_BYTES = 25 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel photo decodes to ~120 MB: enough for any camera, not a bomb
MAX_SIDE = 20_000
HELP = "Upload a PNG, JPEG, GIF, WebP, BMP or TIFF image."

_SIGNATURES = (
    (b"%PDF", "a PDF document"),
    (b"\x80", "a Python pickle"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"<svg", "an SVG drawing (vector images are not supported)"),
    (b"<?xml", "an XML or SVG file (vector images are not supported)"),
)


class ImageError(ValueError):
    """An upload that is not a usable image; the message says what to do."""


def _what_is_it(data: bytes) -> str:
    head = data[:256].lstrip()
    for magic, name in _SIGNATURES:
        if head.startswith(magic) or (magic == b"<svg" and b"<svg" in head.lower()):
            return name
    try:
        data[:4096].decode("utf-8")
        return "a text file"
    except UnicodeDecodeError:
        return "not a picture format Pillow recognises"


def _to_8bit(image: Image.Image) -> Image.Image:
    """Scale 16/32-bit and float grayscale to 0..255 by the values actually present."""
    arr = np.asarray(image, dtype=np.float64)
    if image.mode.startswith("I;16") or (image.mode == "I" and arr.min() >= 0 and arr.max() <= 65535):
        lo, hi = 0.0, 65535.0  # 16-bit data: full scale is 65535, so 65535 → 255 and darker stays darker
    else:
        lo, hi = float(arr.min()), float(arr.max())
    scaled = (arr - lo) / ((hi - lo) or 1.0) * 255.0
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), "L")


def _normalise_mode(image: Image.Image) -> Image.Image:
    """Return an "RGB" or "L" image: alpha composited over white, palettes and CMYK converted."""
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        composed = Image.alpha_composite(background, rgba).convert("RGB")
        return composed.convert("L") if image.mode in ("LA", "La") else composed
    if image.mode == "1":
        return image.convert("L")
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        return _to_8bit(image)
    if image.mode in ("L", "RGB"):
        return image
    return image.convert("RGB")  # CMYK, YCbCr, LAB, HSV


def load_image(data: bytes) -> Image.Image:
    """Decode an uploaded file into an "RGB" or "L" image, EXIF orientation applied.

    GIFs and other animations give their first frame. The declared size is checked before
    any pixel is decoded, so a small file claiming an enormous image is refused at once.

    Raises:
        ImageError: empty, too large, not an image (text, PDF, SVG, pickle …), truncated, or a
            decompression bomb; the message says what to do.
    """
    if not data:
        raise ImageError(f"The file is empty. {HELP}")
    if len(data) > MAX_BYTES:
        raise ImageError(f"The file is {len(data) / 1e6:.0f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB. {HELP}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))  # lazy: reads the header only
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            if isinstance(e, UnidentifiedImageError):
                raise ImageError(f"This file is not an image ({_what_is_it(data)}). {HELP}") from None
            raise ImageError(
                f"This image declares more pixels than can be opened safely ({e}); a small file claiming that "
                f"much is a decompression bomb. {HELP}"
            ) from None
        except Exception as e:  # Pillow plug-ins raise many types on corrupt headers
            raise ImageError(f"This image file is damaged and cannot be read ({e}). {HELP}") from None
        if image.format not in FORMATS:
            raise ImageError(f"{image.format} images are not supported. {HELP}")
        w, h = image.size
        if w * h > MAX_PIXELS or max(w, h) > MAX_SIDE:
            raise ImageError(
                f"The image declares {w}×{h} pixels, more than the {MAX_PIXELS // 1_000_000}-megapixel limit "
                f"(a file this small claiming that much is a decompression bomb). {HELP}"
            )
        try:
            image.seek(0)  # first frame of an animation
            image.load()
            image = ImageOps.exif_transpose(image) or image
            return _normalise_mode(image)
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombWarning) as e:
            raise ImageError(f"This image file is damaged or truncated and cannot be read ({e}). {HELP}") from None


@dataclass(frozen=True, eq=False)
class Prepared:
    """An image ready for the engine: ``tensor`` is (C, H, W) float32 with values 0..255."""

    tensor: torch.Tensor
    original_size: tuple[int, int]  # (width, height)
    size: tuple[int, int]
    downscaled: bool


def prepare(image: Image.Image, color: bool, max_side: int) -> Prepared:
    """Convert to gray ("L", ITU-R 601-2 luma) or RGB and shrink so the longest side is ≤ ``max_side``.

    Never upscales. Shrinking uses a box filter: each output pixel is the mean of the input
    pixels it covers, the faithful choice for area reduction (no ringing, no invented values).
    """
    image = image.convert("RGB" if color else "L")
    w, h = image.size
    scale = min(1.0, max_side / max(w, h))
    if scale < 1.0:
        image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)
    arr = torch.from_numpy(np.array(image, dtype=np.float32))
    tensor = arr.permute(2, 0, 1) if color else arr[None]  # (C, H, W)
    return Prepared(tensor.contiguous(), (w, h), image.size, scale < 1.0)


def canvas_to_image(rgba: np.ndarray) -> Image.Image:
    """A drawing-canvas RGBA array (H, W, 4), transparent where nothing is drawn, composited over black."""
    arr = np.asarray(rgba)
    if arr.ndim != 3 or arr.shape[2] != 4:
        raise ImageError(f"Expected an (H, W, 4) RGBA drawing, got shape {arr.shape}.")
    alpha = arr[..., 3:4].astype(np.float32) / 255.0
    rgb = arr[..., :3].astype(np.float32) * alpha
    return Image.fromarray(np.rint(rgb).astype(np.uint8), "RGB")


def grid_to_tensor(values) -> torch.Tensor:
    """A typed grid of numbers (1 to 16 per side) as a (1, H, W) float32 tensor.

    Raises:
        ImageError: ragged rows, empty or non-numeric cells, NaN/infinity, or a side outside 1..16.
    """
    rows = [list(r) for r in values]
    if not rows or not rows[0] or any(len(r) != len(rows[0]) for r in rows):
        raise ImageError("The grid must be a rectangle of numbers with no missing cells.")
    if len(rows) > 16 or len(rows[0]) > 16:
        raise ImageError("The grid can be at most 16×16.")
    try:
        t = torch.tensor([[float(v) for v in r] for r in rows], dtype=torch.float32)
    except (TypeError, ValueError):
        raise ImageError("Every grid cell must hold a number.") from None
    if not torch.isfinite(t).all():
        raise ImageError("Every grid cell must hold a finite number (fill in the empty cells).")
    return t[None]
