"""Turning uploads, drawings and typed grids into tensors, refusing anything that is not a usable image."""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from playground.depth import declared_bits, to_8bit
from playground.limits import MAX_UPLOAD_BYTES

FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")  # Pillow's plug-in names
_ALSO = ("MPO",)  # Pillow's JPEG plug-in names the multi-picture JPEGs of many phone cameras so
MAX_BYTES = MAX_UPLOAD_BYTES  # the one upload limit, Streamlit's own (playground.limits)
MAX_PIXELS = 40_000_000  # a 40-megapixel photo decodes to ~120 MB: enough for any camera, not a bomb
# Float, 32-bit and 16-bit images decode to 2-4 bytes a pixel before becoming 8-bit, and a tiny compressed
# file can declare them (285 KB for 39.6 megapixels of float took ~1 GB): no camera makes them, so less.
MAX_WIDE_PIXELS = 10_000_000
WIDE_MODES = ("F", "I", "I;16", "I;16L", "I;16B", "I;16N", "I;32", "I;32L", "I;32B")
# The server's cache of decoded uploads (ui.image_input): the largest picture (40 megapixels of RGB, 160 MB as
# Pillow holds it) fits once; an upload not seen for 10 minutes is let go.
CACHE_BYTES = 256 * 2**20
CACHE_SECONDS = 600.0
MAX_SIDE = 20_000
GRID_SIDE = 16
GRID_LIMIT = 10_000  # integer kernels over such grids sum below 2**24, which float32 holds exactly
HELP = "Upload a PNG, JPEG, GIF, WebP, BMP or TIFF image."

_MAGIC = ((b"\x89PNG", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF8", "GIF"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"))
_SIGNATURES = (  # (how the file starts, what it is), for messages only
    *((magic, f"it starts like a {kind} but is damaged or cut short") for magic, kind in _MAGIC),
    (b"%PDF", "it looks like a PDF"),
    (b"%!PS", "it looks like PostScript"),
    (b"\x80", "it looks like a Python pickle"),
    (b"PK\x03\x04", "it looks like a ZIP archive or an Office document"),
    (b"<?xml", "it looks like XML or SVG; vector images are not supported"),
)


class ImageError(ValueError):
    """An upload that is not a usable image; the message is a sentence saying what to do."""


def _what_is_it(data: bytes) -> str:
    """A guess at what a non-image file is, for the message."""
    head = bytes(data[:512]).lstrip()
    if b"<svg" in head.lower():
        return "it looks like an SVG drawing; vector images are not supported"
    if guess := next((what for magic, what in _SIGNATURES if head.startswith(magic)), None):
        return guess
    text = bytes(data[:4096]).decode("utf-8", errors="replace")
    printable = sum(c.isprintable() or c.isspace() for c in text if c != "\ufffd")
    return "it looks like text" if printable >= 0.95 * len(text) else "its contents match no picture format"


def _refuse_size(width: int, height: int, mode: str = "RGB") -> None:
    wide = mode in WIDE_MODES or mode.startswith("I;")
    limit = MAX_WIDE_PIXELS if wide else MAX_PIXELS
    if not (0 < width * height <= limit and max(width, height) <= MAX_SIDE):
        kind = " for a float, 16- or 32-bit image" if wide else ""
        raise ImageError(
            f"The image declares {width}×{height} pixels, outside the limit of {limit // 1_000_000} megapixels{kind} "
            f"and {MAX_SIDE:,} pixels a side, so it was refused before decoding. Shrink it and upload it again."
        )


def _open(data: bytes) -> Image.Image:
    """Read only the header (Pillow is lazy), so the declared size can be checked before decoding."""
    try:
        return Image.open(io.BytesIO(data), formats=FORMATS)  # only our formats' parsers see the bytes
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        found = re.search(r"\((\d+) pixels\)", str(e))
        size = f"{int(found[1]):,} pixels" if found else "an enormous number of pixels"
        raise ImageError(
            f"The image declares {size}, far over the {MAX_PIXELS // 1_000_000}-megapixel limit: a small file "
            f"claiming that much is a decompression bomb, so it was refused before decoding. {HELP}"
        ) from None
    except UnidentifiedImageError:
        pass
    except Exception as e:  # plug-ins raise many types (struct.error, SyntaxError, …) on corrupt headers
        raise ImageError(f"This image file is damaged and cannot be read ({e}). {HELP}") from None
    try:  # a second, unrestricted look at the header only names the format for the message
        with Image.open(io.BytesIO(data)) as other:
            kind = other.format
    except Exception:
        raise ImageError(f"This file is not an image Pillow can read ({_what_is_it(data)}). {HELP}") from None
    raise ImageError(f"This file is in the {kind} format, which is not supported. {HELP}")


def _over_white(image: Image.Image, gray: bool) -> Image.Image:
    """Composite an image with alpha (or a transparent colour) over white: what a viewer shows."""
    rgba = image.convert("RGBA")
    composed = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    return composed.convert("L") if gray else composed


def _normalise_mode(image: Image.Image, bits: int) -> Image.Image:
    """Return an "RGB" or "L" image: alpha over white, palettes, CMYK, 1-, 16- and 32-bit converted."""
    mode = image.mode
    if mode in ("LA", "La") or (mode == "L" and "transparency" in image.info):
        return _over_white(image, gray=True)
    if mode in ("RGBA", "RGBa", "PA") or (mode in ("P", "RGB") and "transparency" in image.info):
        return _over_white(image, gray=False)
    if mode in ("L", "RGB"):
        return image
    if mode == "1":
        return image.convert("L")  # 0 and 255
    if mode in ("I", "F") or mode.startswith("I;16"):
        return to_8bit(image, bits)
    return image.convert("RGB")  # P, CMYK, YCbCr, LAB, HSV, RGBX


def load_image(data: bytes) -> Image.Image:
    """Decode an uploaded file into a fully loaded "RGB" or "L" image, EXIF orientation applied.

    Animations (GIF, WebP, PNG) give their first frame. The declared size is checked before any
    pixel is decoded, so a small file claiming an enormous image is refused at once.

    Args:
        data: the file's bytes, as uploaded.

    Returns:
        A new image in mode "L" (grayscale sources) or "RGB" (everything else), not tied to ``data``.

    Raises:
        ImageError: empty, too many bytes, not an image (text, PDF, SVG, pickle …), an unsupported
            format, truncated or damaged, or a decompression bomb; the message says what to do.
    """
    if not data:
        raise ImageError(f"The file is empty. {HELP}")
    if len(data) > MAX_BYTES:
        raise ImageError(
            f"The file is {len(data) / 2**20:.1f} MB, over the {MAX_BYTES // 2**20} MB limit. Shrink or compress "
            "it (a JPEG of a photo is usually a few MB) and upload it again."
        )
    # Pillow only warns between 89 and 179 megapixels; make that an error for this call alone. Our own
    # MAX_PIXELS check below is the real guard (catch_warnings is process-wide, so it is only a backstop).
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        opened = _open(data)
        try:
            if opened.format not in FORMATS + _ALSO:  # a second lock behind formats= in _open
                raise ImageError(f"This file is in the {opened.format} format, which is not supported. {HELP}")
            _refuse_size(*opened.size, opened.mode)
            bits = declared_bits(opened)
            opened.seek(0)  # first frame of an animation
            opened.load()
            try:
                image = ImageOps.exif_transpose(opened)  # always a copy, so `opened` can be closed
            except Exception:  # broken EXIF should not cost the user a picture whose pixels decode fine
                image = opened.copy()
            return _normalise_mode(image, bits)
        except ImageError:
            raise
        except Exception as e:  # never let a Pillow or NumPy error reach the page as anything else
            raise ImageError(f"This image file is damaged or truncated and cannot be read ({e}). {HELP}") from None
        finally:
            opened.close()


def decoded_bytes(image: Image.Image) -> int:
    """Memory a decoded image holds: Pillow keeps "L" in 1 byte a pixel and "RGB" in 4."""
    return image.width * image.height * (1 if image.mode == "L" else 4)


@dataclass(frozen=True, eq=False)
class Prepared:
    """An image ready for the engine: ``tensor`` is (C, H, W) float32 with pixel values 0..255."""

    tensor: torch.Tensor
    original_size: tuple[int, int]  # (width, height) before shrinking
    size: tuple[int, int]  # (width, height) of the tensor
    downscaled: bool


def prepare(image: Image.Image, color: bool, max_side: int) -> Prepared:
    """Convert to gray or RGB and shrink so the longest side is at most ``max_side``; never enlarge.

    Args:
        image: a picture, normally from :func:`load_image` or the samples.
        color: True for 3 channels (RGB), False for 1 (Pillow's "L": ITU-R 601-2 luma).
        max_side: the largest width or height allowed, in pixels (at least 1).

    Returns:
        A :class:`Prepared` whose contiguous tensor is (3, H, W) or (1, H, W), float32 in 0..255.

    Raises:
        ValueError: ``max_side`` is below 1.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, got {max_side}.")
    image = image.convert("RGB" if color else "L")
    w, h = image.size
    downscaled = max(w, h) > max_side
    if downscaled:
        scale = max_side / max(w, h)
        # BOX makes each output pixel the plain mean of the input pixels it covers. LANCZOS is sharper
        # but overshoots at edges, and those halos would show up as extra edges under Sobel or Laplacian.
        image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)
    arr = torch.from_numpy(np.array(image, dtype=np.float32))  # (H, W, 3) or (H, W)
    tensor = arr.permute(2, 0, 1) if color else arr[None]  # (C, H, W)
    return Prepared(tensor.contiguous(), (w, h), image.size, downscaled)


def canvas_to_image(rgba: np.ndarray) -> Image.Image:
    """Turn a drawing canvas's RGBA array into an "RGB" image composited over black (light strokes, like FashionMNIST).

    Args:
        rgba: (H, W, 4) values 0..255, streamlit-drawable-canvas's ``image_data``: transparent where nothing is drawn.

    Returns:
        An "RGB" image of size (W, H).

    Raises:
        ImageError: the array is not a non-empty (H, W, 4) array.
    """
    arr = np.asarray(rgba)
    if arr.ndim != 3 or arr.shape[2] != 4 or arr.size == 0:
        raise ImageError(f"The drawing should be an (H, W, 4) RGBA array, but its shape is {arr.shape}.")
    arr = np.clip(arr.astype(np.float32), 0, 255)
    rgb = arr[..., :3] * (arr[..., 3:] / 255.0)  # over black: colour × alpha, since black adds nothing
    return Image.fromarray(np.rint(rgb).astype(np.uint8), "RGB")


def grid_to_tensor(values) -> torch.Tensor:
    """Turn a typed grid of numbers into a one-channel image tensor, exactly as typed.

    Args:
        values: rows of numbers (list of lists or a 2-D array), 1 to 16 per side, each within ±10,000.

    Returns:
        A (1, H, W) float32 tensor.

    Raises:
        ImageError: not rows of cells, ragged rows, empty or non-numeric cells, NaN or infinity, a
            side outside 1..16, or a value beyond ±10,000.
    """
    try:
        rows = [list(r) if not isinstance(r, str | bytes) else None for r in values]
    except TypeError:
        rows = [None]
    if None in rows:
        raise ImageError("The grid must be rows of numbers, like [[0, 9], [9, 0]].")
    if not rows or not rows[0] or any(len(r) != len(rows[0]) for r in rows):
        raise ImageError("The grid must be a rectangle of numbers with no missing cells.")
    if len(rows) > GRID_SIDE or len(rows[0]) > GRID_SIDE:
        raise ImageError(f"The grid can be at most {GRID_SIDE}×{GRID_SIDE}; this one is {len(rows)}×{len(rows[0])}.")
    try:
        t = torch.tensor([[float(v) for v in r] for r in rows], dtype=torch.float64)
    except (TypeError, ValueError):
        raise ImageError("Every grid cell must hold a number.") from None
    if not torch.isfinite(t).all():
        raise ImageError("Every grid cell must hold a finite number (fill in the empty cells).")
    if t.abs().max() > GRID_LIMIT:
        raise ImageError(f"Grid values must lie between −{GRID_LIMIT:,} and {GRID_LIMIT:,}.")
    return t.float()[None]  # (1, H, W)
