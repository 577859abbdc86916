"""Uploads: every supported format and mode decodes correctly; everything else is refused clearly."""

import io
import pickle
import struct
import time
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from playground.images import ImageError, canvas_to_image, grid_to_tensor, load_image, prepare
from playground.samples import SAMPLES, load_sample


def encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def marked(size=(40, 20)) -> Image.Image:
    """Black RGB image with a white marker pixel at the top-left corner region."""
    image = Image.new("RGB", size, (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 4, 4))
    return image


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF"])
def test_formats_decode(fmt):
    out = load_image(encode(marked(), fmt))
    assert out.size == (40, 20) and out.mode in ("RGB", "L")
    assert np.asarray(out.convert("L"))[1, 1] > 200 and np.asarray(out.convert("L"))[15, 30] < 50


def test_animated_gif_gives_first_frame():
    frames = [Image.new("L", (10, 10), v) for v in (10, 200, 100)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=50)
    assert np.asarray(load_image(buf.getvalue()).convert("L")).mean() == pytest.approx(10, abs=2)


@pytest.mark.parametrize(("orientation", "where"), [(6, (16, 0)), (8, (0, 36))])
def test_exif_orientation_is_applied(orientation, where):
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = load_image(encode(marked(), "JPEG", exif=exif.tobytes(), quality=95))
    assert out.size == (20, 40)  # rotated a quarter turn
    x, y = where
    assert np.asarray(out.convert("L"))[y + 1, x + 1] > 200


def test_palette_with_transparency_and_alpha_go_over_white():
    p = Image.new("P", (8, 8), 0)
    p.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    p.info["transparency"] = 0
    assert load_image(encode(p, "PNG", transparency=0)).getpixel((0, 0)) == (255, 255, 255)
    rgba = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    rgba.putpixel((1, 1), (10, 20, 30, 255))
    out = load_image(encode(rgba, "PNG"))
    assert out.getpixel((0, 0)) == (255, 255, 255) and out.getpixel((1, 1)) == (10, 20, 30)
    la = load_image(encode(Image.new("LA", (4, 4), (0, 0)), "PNG"))
    assert la.mode == "L" and la.getpixel((0, 0)) == 255


def test_cmyk_becomes_rgb():
    out = load_image(encode(Image.new("CMYK", (6, 6), (0, 255, 255, 0)), "JPEG", quality=100))
    r, g, b = out.getpixel((3, 3))
    assert out.mode == "RGB" and r > 200 and g < 60 and b < 60


def test_sixteen_bit_scales_by_bit_depth():
    ramp = np.linspace(0, 65535, 64).astype(np.uint16).reshape(8, 8)
    out = np.asarray(load_image(encode(Image.fromarray(ramp), "PNG")))
    assert out.dtype == np.uint8 and out.max() == 255 and out.min() == 0
    assert (np.diff(out.ravel().astype(int)) >= 0).all()  # monotonic
    dark = np.full((4, 4), 1000, np.uint16)  # a dark 16-bit image stays dark (not stretched)
    assert np.asarray(load_image(encode(Image.fromarray(dark), "PNG"))).max() <= 5


def test_one_bit_and_float_images():
    one = Image.new("1", (8, 8), 0)
    one.putpixel((2, 2), 1)
    out = load_image(encode(one, "PNG"))
    assert out.mode == "L" and out.getpixel((2, 2)) == 255 and out.getpixel((0, 0)) == 0
    f = Image.fromarray(np.linspace(-1, 3, 16, dtype=np.float32).reshape(4, 4), "F")
    out = np.asarray(load_image(encode(f, "TIFF")))
    assert out.min() == 0 and out.max() == 255


def _png_declaring(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    idat = b"IDAT" + zlib.compress(b"\x00" * 10)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
            + struct.pack(">I", len(idat) - 4) + idat + struct.pack(">I", zlib.crc32(idat)))  # fmt: skip


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (encode(marked(), "PNG")[:60], "damaged"),
        (bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)), "not an image"),
        (b"Dear student, this is a text file.\n" * 10, "text file"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "SVG"),
        (b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'></svg>", "SVG"),
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF", "PDF"),
        (pickle.dumps({"weights": [1, 2, 3]}), "pickle"),
        (encode(Image.new("RGB", (16, 16)), "ICO"), "not supported"),
    ],
)
def test_unusable_files_are_refused_with_a_sentence(data, words):
    with pytest.raises(ImageError, match=words) as info:
        load_image(data)
    assert isinstance(info.value, ValueError) and "Upload a PNG" in str(info.value)


def test_decompression_bomb_is_refused_fast():
    bomb = _png_declaring(100_000, 100_000)
    assert len(bomb) < 200
    t = time.perf_counter()
    with pytest.raises(ImageError, match="pixels"):
        load_image(bomb)
    assert time.perf_counter() - t < 1.0


def test_too_many_bytes():
    with pytest.raises(ImageError, match="limit"):
        load_image(b"\x89PNG" + b"\x00" * (26 * 1024 * 1024))


def test_prepare_shapes_ranges_and_downscaling():
    image = Image.fromarray(np.random.default_rng(1).integers(0, 256, (300, 600, 3), dtype=np.uint8))
    gray = prepare(image, color=False, max_side=128)
    assert gray.tensor.shape == (1, 64, 128) and gray.downscaled and gray.original_size == (600, 300)
    assert gray.tensor.dtype == torch.float32 and gray.tensor.min() >= 0 and gray.tensor.max() <= 255
    color = prepare(image, color=True, max_side=1000)
    assert color.tensor.shape == (3, 300, 600) and not color.downscaled  # never upscaled
    assert torch.equal(color.tensor, torch.from_numpy(np.array(image)).permute(2, 0, 1).float())


def test_canvas_and_grid():
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[2:4, 2:4] = (255, 255, 255, 255)
    out = np.asarray(canvas_to_image(rgba))
    assert out[3, 3].tolist() == [255, 255, 255] and out[0, 0].tolist() == [0, 0, 0]
    assert grid_to_tensor([[1, 2], [3, 4]]).shape == (1, 2, 2)
    for bad in ([[1, 2], [3]], [[1, "x"]], [[float("nan")]], [[0] * 17], []):
        with pytest.raises(ImageError):
            grid_to_tensor(bad)


@pytest.mark.parametrize("name", list(SAMPLES))
def test_samples_load_and_are_deterministic(name):
    a, b = load_sample(name), load_sample(name)
    assert a.mode in ("L", "RGB") and min(a.size) >= 64
    assert np.array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(KeyError, match="Shapes"):
        load_sample("nope")
