"""Uploads: every supported format and mode decodes correctly; everything else is refused with a sentence."""

import io
import pickle
import struct
import time
import warnings
import zlib

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from playground.images import (
    MAX_BYTES,
    ImageError,
    Prepared,
    canvas_to_image,
    grid_to_tensor,
    load_image,
    prepare,
)


def encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def marked(size=(40, 20)) -> Image.Image:
    """Black RGB image with a white 4×4 marker in the top-left corner."""
    image = Image.new("RGB", size, (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 4, 4))
    return image


def gray(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"))


def refused(data: bytes) -> str:
    """The message load_image refuses ``data`` with, checked to be a sentence that says what to do."""
    with pytest.raises(ImageError) as info:
        load_image(data)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert message[0].isupper() and message.endswith(".") and "Traceback" not in message
    return message


# ---------------------------------------------------------------- formats and modes that decode


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF", "MPO"])
def test_formats_decode(fmt):
    out = load_image(encode(marked(), fmt))
    assert out.size == (40, 20) and out.mode == "RGB"
    assert gray(out)[1, 1] > 200 and gray(out)[15, 30] < 50


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "BMP"])
def test_grayscale_stays_grayscale(fmt):
    out = load_image(encode(Image.new("L", (5, 3), 77), fmt))
    assert out.mode == "L" and abs(out.getpixel((2, 1)) - 77) <= 1


def test_result_is_fully_loaded_and_independent_of_the_bytes():
    out = load_image(encode(marked(), "PNG"))
    assert out.copy().getpixel((0, 0)) == (255, 255, 255)
    assert getattr(out, "fp", None) is None


def test_animated_gif_gives_first_frame():
    frames = [Image.new("L", (10, 10), v) for v in (10, 200, 100)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=50)
    assert Image.open(io.BytesIO(buf.getvalue())).n_frames == 3
    assert gray(load_image(buf.getvalue())).mean() == pytest.approx(10, abs=2)


@pytest.mark.parametrize(
    ("orientation", "marker"),
    [(6, (16, 0)), (8, (0, 36)), (3, (36, 16))],  # (x, y) of the marker's top-left corner after rotating
)
def test_exif_orientation_is_applied(orientation, marker):
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = load_image(encode(marked(), "JPEG", exif=exif.tobytes(), quality=95))
    assert out.size == ((40, 20) if orientation == 3 else (20, 40))
    x, y = marker
    assert gray(out)[y + 1, x + 1] > 200
    assert (gray(out) > 128).sum() == pytest.approx(16, abs=6)  # only the marker is light


def test_palette_with_transparency_goes_over_white():
    p = Image.new("P", (8, 8), 0)
    p.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    p.putpixel((3, 3), 1)
    out = load_image(encode(p, "PNG", transparency=0))
    assert out.mode == "RGB" and out.getpixel((0, 0)) == (255, 255, 255) and out.getpixel((3, 3)) == (255, 0, 0)
    gif = load_image(encode(p, "GIF", transparency=0))
    assert gif.getpixel((0, 0)) == (255, 255, 255) and gif.getpixel((3, 3)) == (255, 0, 0)


def test_palette_without_transparency_becomes_rgb():
    p = Image.new("P", (4, 4), 1)
    p.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    assert load_image(encode(p, "PNG")).getpixel((0, 0)) == (10, 200, 30)


def test_rgba_goes_over_white():
    rgba = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    rgba.putpixel((1, 1), (10, 20, 30, 255))
    rgba.putpixel((2, 2), (0, 0, 0, 128))  # half-transparent black over white is mid-gray
    out = load_image(encode(rgba, "PNG"))
    assert out.mode == "RGB" and out.getpixel((0, 0)) == (255, 255, 255) and out.getpixel((1, 1)) == (10, 20, 30)
    assert all(abs(c - 127) <= 1 for c in out.getpixel((2, 2)))


def test_la_goes_over_white_and_stays_gray():
    la = Image.new("LA", (4, 4), (0, 0))
    la.putpixel((1, 1), (40, 255))
    out = load_image(encode(la, "PNG"))
    assert out.mode == "L" and out.getpixel((0, 0)) == 255 and out.getpixel((1, 1)) == 40


def test_transparent_colour_key_goes_over_white():
    key = load_image(encode(Image.new("L", (2, 2), 7), "PNG", transparency=7))
    assert key.mode == "L" and key.getpixel((0, 0)) == 255
    rgb = load_image(encode(Image.new("RGB", (2, 2), (1, 2, 3)), "PNG", transparency=(1, 2, 3)))
    assert rgb.getpixel((0, 0)) == (255, 255, 255)


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_becomes_rgb(fmt):
    out = load_image(encode(Image.new("CMYK", (6, 6), (0, 255, 255, 0)), fmt))
    r, g, b = out.getpixel((3, 3))
    assert out.mode == "RGB" and r > 200 and g < 60 and b < 60


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_sixteen_bit_scales_by_bit_depth(fmt):
    ramp = np.linspace(0, 65535, 64).astype(np.uint16).reshape(8, 8)
    out = np.asarray(load_image(encode(Image.fromarray(ramp), fmt)))
    assert out.dtype == np.uint8 and out.max() == 255 and out.min() == 0
    assert (np.diff(out.ravel().astype(int)) >= 0).all()  # monotonic
    np.testing.assert_array_equal(out, np.rint(ramp / 257).astype(np.uint8))
    dark = np.full((4, 4), 1000, np.uint16)  # a dark 16-bit picture stays dark: scaled, neither clipped nor stretched
    assert np.asarray(load_image(encode(Image.fromarray(dark), fmt))).max() == 4


def test_big_endian_sixteen_bit():
    values = np.array([[0, 257, 32896, 65535]], np.uint16)
    image = Image.frombytes("I;16B", (4, 1), values.astype(">u2").tobytes())
    np.testing.assert_array_equal(np.asarray(load_image(encode(image, "TIFF"))), [[0, 1, 128, 255]])


def test_mode_i_with_sixteen_bit_data():
    image = Image.fromarray(np.array([[0, 257, 65535]], np.int32), "I")
    np.testing.assert_array_equal(np.asarray(load_image(encode(image, "TIFF"))), [[0, 1, 255]])


def _tiff_12bit(values: bytes, width: int) -> bytes:
    """An uncompressed one-row TIFF whose samples are packed 12-bit (Pillow opens it as "I;16")."""
    tags = [(256, width), (257, 1), (258, 12), (259, 1), (262, 1), (273, 0), (277, 1), (278, 1), (279, len(values))]
    offset = 8 + 2 + 12 * len(tags) + 4
    ifd = b"".join(struct.pack("<HHII", t, 4, 1, offset if t == 273 else v) for t, v in tags)
    return b"II*\x00" + struct.pack("<IH", 8, len(tags)) + ifd + b"\x00" * 4 + values


def test_twelve_bit_tiff_scales_by_its_declared_depth():
    out = load_image(_tiff_12bit(bytes([0x00, 0x0F, 0xFF]), 2))  # samples 0x000 and 0xFFF
    np.testing.assert_array_equal(np.asarray(out), [[0, 255]])


def test_one_bit_becomes_0_and_255():
    one = Image.new("1", (8, 8), 0)
    one.putpixel((2, 2), 1)
    out = load_image(encode(one, "PNG"))
    assert out.mode == "L" and out.getpixel((2, 2)) == 255 and out.getpixel((0, 0)) == 0


def test_float_tiff_scales_min_to_max():
    f = Image.fromarray(np.linspace(-1, 3, 16, dtype=np.float32).reshape(4, 4), "F")
    out = np.asarray(load_image(encode(f, "TIFF")))
    assert out.min() == 0 and out.max() == 255
    assert (np.diff(out.ravel().astype(int)) >= 0).all()
    nan = Image.fromarray(np.array([[np.nan, 0, 1, np.inf]], np.float32), "F")
    np.testing.assert_array_equal(np.asarray(load_image(encode(nan, "TIFF"))), [[0, 0, 255, 255]])


# ---------------------------------------------------------------- refusals, one test each


def test_empty():
    assert "empty" in refused(b"")


def test_truncated_png():
    data = encode(Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64), np.uint8)), "PNG")
    assert "truncated" in refused(data[: len(data) // 2])


def test_header_only_png():
    assert "PNG but is damaged" in refused(encode(marked(), "PNG")[:40])


def test_random_bytes():
    message = refused(bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)))
    assert "Upload a PNG" in message


def test_plain_text():
    assert "text" in refused(b"Dear student, this is a text file.\n" * 10)


@pytest.mark.parametrize(
    "svg",
    [
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>',
        b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><circle r='4'/></svg>",
    ],
)
def test_svg(svg):
    assert "SVG" in refused(svg)


def test_pdf():
    assert "PDF" in refused(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF")


def test_pickle():
    assert "pickle" in refused(pickle.dumps({"weights": [1, 2, 3]}))


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (encode(Image.new("RGB", (16, 16)), "ICO"), "ICO"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n", "EPS"),
        (encode(Image.new("RGB", (16, 16)), "PCX"), "PCX"),
    ],
)
def test_unsupported_format_is_named(data, name):
    assert f"the {name} format, which is not supported" in refused(data)


def _png(width: int, height: int, pixels: bytes) -> bytes:
    """A gray PNG whose IHDR claims width × height, with CRCs computed so Pillow trusts it."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(pixels, 9)) + chunk(b"IEND", b"")


def _png_declaring(width: int, height: int) -> bytes:
    return _png(width, height, b"\x00" * 10)


@pytest.mark.parametrize(
    ("width", "height", "words"),
    [
        (100_000, 100_000, "10,000,000,000 pixels"),  # Pillow's own DecompressionBombError
        (10_000, 10_000, "pixels"),  # 100 MP: Pillow only warns; the warning becomes an error
        (7_000, 7_000, "7000×7000 pixels"),  # 49 MP: Pillow is silent; our limit refuses it
        (25_000, 10, "25000×10 pixels"),  # few pixels, but a side longer than MAX_SIDE
    ],
)
def test_decompression_bomb_is_refused_fast(width, height, words):
    bomb = _png_declaring(width, height)
    assert len(bomb) < 100
    start = time.perf_counter()
    message = refused(bomb)
    assert time.perf_counter() - start < 0.5
    assert words in message


def test_compressed_bomb_is_refused_before_decoding():
    data = _png(7_000, 7_000, b"\x00" * (7_000 * 7_001))  # every row of a 7000×7000 black PNG, in ~48 kB
    assert len(data) < 100_000
    start = time.perf_counter()
    assert "megapixels" in refused(data)
    assert time.perf_counter() - start < 0.5


def test_bomb_guard_leaves_global_settings_alone():
    filters, limit = list(warnings.filters), Image.MAX_IMAGE_PIXELS
    refused(_png_declaring(10_000, 10_000))
    load_image(encode(marked(), "PNG"))
    assert warnings.filters == filters and limit == Image.MAX_IMAGE_PIXELS


def test_too_many_bytes():
    message = refused(b"\x89PNG" + b"\x00" * (MAX_BYTES + 1))
    assert "25 MB limit" in message


_SEEDS = [
    encode(Image.fromarray(np.random.default_rng(2).integers(0, 256, (12, 16, 3), np.uint8)), fmt)
    for fmt in ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
] + [encode(Image.fromarray(np.arange(64, dtype=np.uint16).reshape(8, 8)), "TIFF", compression="tiff_lzw")]


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow reports the corruption it skips
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(_SEEDS), edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=8))
def test_corrupted_files_give_an_image_or_image_error_never_anything_else(seed, edits):
    data = bytearray(seed)
    for where, value in edits:
        at = int(where * (len(data) - 1))
        data[at : at + (value % 3)] = bytes([value])  # overwrite, insert or delete a byte
    try:
        out = load_image(bytes(data))
    except ImageError:
        return
    assert out.mode in ("RGB", "L")


# ---------------------------------------------------------------- prepare, canvas, grid


def noise(w: int, h: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(1).integers(0, 256, (h, w, 3), dtype=np.uint8))


def test_prepare_downscales_to_max_side_keeping_aspect():
    p = prepare(noise(600, 300), color=False, max_side=128)
    assert isinstance(p, Prepared) and p.tensor.shape == (1, 64, 128)
    assert p.downscaled and p.original_size == (600, 300) and p.size == (128, 64)
    tall = prepare(noise(90, 301), color=True, max_side=100)
    assert tall.tensor.shape == (3, 100, 30) and tall.size == (30, 100)


def test_prepare_never_upscales_and_keeps_exact_values():
    image = noise(60, 30)
    p = prepare(image, color=True, max_side=1000)
    assert p.tensor.shape == (3, 30, 60) and not p.downscaled and p.size == p.original_size == (60, 30)
    assert torch.equal(p.tensor, torch.from_numpy(np.array(image)).permute(2, 0, 1).float())
    assert not prepare(image, color=True, max_side=60).downscaled


def test_prepare_values_are_0_to_255_float32_contiguous():
    for color in (True, False):
        t = prepare(noise(200, 100), color=color, max_side=50).tensor
        assert t.dtype == torch.float32 and t.is_contiguous() and t.shape[0] == (3 if color else 1)
        assert t.min() >= 0 and t.max() <= 255 and t.max() > 1  # pixel values, not 0..1


def test_prepare_gray_is_pillow_luma():
    image = Image.new("RGB", (2, 2), (255, 0, 0))
    assert prepare(image, color=False, max_side=8).tensor.flatten().tolist() == [76.0] * 4  # 0.299 × 255
    assert prepare(Image.new("L", (3, 3), 9), color=True, max_side=8).tensor.shape == (3, 3, 3)


def test_prepare_box_filter_averages():
    image = Image.fromarray(np.tile(np.array([0, 200], np.uint8), (4, 2)), "L")  # 4×4 of alternating columns
    assert prepare(image, color=False, max_side=2).tensor.flatten().tolist() == [100.0] * 4


def test_prepare_rejects_a_nonpositive_max_side():
    with pytest.raises(ValueError, match="max_side"):
        prepare(noise(4, 4), color=True, max_side=0)


def test_canvas_composites_over_black():
    rgba = np.zeros((10, 12, 4), np.uint8)
    rgba[2:4, 2:4] = (255, 255, 255, 255)
    rgba[6, 6] = (200, 100, 50, 128)  # half-transparent stroke edge: half its colour
    out = canvas_to_image(rgba)
    assert out.mode == "RGB" and out.size == (12, 10)
    arr = np.asarray(out)
    assert arr[3, 3].tolist() == [255, 255, 255] and arr[0, 0].tolist() == [0, 0, 0]
    assert arr[6, 6].tolist() == [100, 50, 25]


@pytest.mark.parametrize("bad", [np.zeros((10, 10, 3), np.uint8), np.zeros((10, 10), np.uint8), np.zeros((0, 5, 4))])
def test_canvas_rejects_wrong_shapes(bad):
    with pytest.raises(ImageError, match="RGBA"):
        canvas_to_image(bad)


def test_grid_to_tensor():
    t = grid_to_tensor([[1, 2, 3], [4, 5, 6]])
    assert t.shape == (1, 2, 3) and t.dtype == torch.float32 and t[0, 1, 2] == 6
    assert torch.equal(grid_to_tensor(np.arange(16 * 16).reshape(16, 16)), torch.arange(256.0).reshape(1, 16, 16))
    assert grid_to_tensor([[-2.5]]).item() == -2.5


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ([[1, 2], [3]], "rectangle"),
        ([], "rectangle"),
        ([[]], "rectangle"),
        ([1, 2, 3], "rows"),
        (["12", "34"], "rows"),
        (5, "rows"),
        ([[1, "x"]], "number"),
        ([[1, None]], "number"),
        ([[float("nan")]], "finite"),
        ([[float("inf")]], "finite"),
        ([[0] * 17], "16×16"),
        ([[0]] * 17, "16×16"),
        ([[1e9]], "between"),
    ],
)
def test_grid_refusals(bad, words):
    with pytest.raises(ImageError, match=words):
        grid_to_tensor(bad)


# ---------------------------------------------------------------- memory: wide modes, banded conversion (issue 12)


def _wide(arr: np.ndarray, mode: str) -> Image.Image:
    return Image.fromarray(arr) if mode == "I;16" else Image.fromarray(arr, mode)  # uint16 opens as "I;16"


@pytest.mark.parametrize(("mode", "dtype"), [("F", np.float32), ("I", np.int32), ("I;16", np.uint16)])
def test_wide_images_have_a_lower_pixel_limit(mode, dtype):
    """A float/32/16-bit image over 10 megapixels is refused from its header: a tiny file declaring 11 megapixels."""
    from playground.images import MAX_PIXELS, MAX_WIDE_PIXELS

    assert MAX_WIDE_PIXELS == 10_000_000 < MAX_PIXELS
    big = _wide(np.zeros((2750, 4000), dtype), mode)  # 11 megapixels, compresses to a few KB
    message = refused(encode(big, "TIFF", compression="tiff_adobe_deflate"))
    assert "10 megapixels for a float, 16- or 32-bit image" in message
    ok = _wide(np.zeros((20, 30), dtype), mode)
    assert load_image(encode(ok, "TIFF")).size == (30, 20)
    assert "limit of 40 megapixels" in refused(encode(Image.new("L", (8000, 5001)), "PNG"))  # 8-bit: 40 MP


@pytest.mark.parametrize("mode", ["F", "I", "I;16"])
def test_banded_conversion_equals_converting_the_whole_image(mode, monkeypatch):
    """Rows converted a few at a time give the same pixels as one band, including the range found over all bands."""
    from playground import depth

    rng = np.random.default_rng(0)
    if mode == "F":
        arr = rng.normal(0, 100, (37, 23)).astype(np.float32)
        arr[5, 5], arr[30, 1], arr[0, 0] = np.nan, np.inf, -np.inf
    else:
        arr = rng.integers(-5000 if mode == "I" else 0, 60000, (37, 23)).astype(np.int32 if mode == "I" else np.uint16)
    image = _wide(arr, mode)
    whole = np.asarray(depth.to_8bit(image, 0))
    monkeypatch.setattr(depth, "BAND_PIXELS", 23 * 4)  # 4 rows a band: 10 bands, the last one short
    banded = np.asarray(depth.to_8bit(image, 0))
    np.testing.assert_array_equal(banded, whole)
    assert whole.min() == 0 and whole.max() == 255


PEAK = """
import resource, sys
from playground.images import load_image
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
image = load_image(data)
print(image.size, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_a_ten_megapixel_float_tiff_costs_about_three_times_its_pixels(tmp_path):
    """9.9 MP of float (40 MB decoded) peaked at +255 MB converted whole; a band at a time, ~+110 MB."""
    import subprocess
    import sys
    from pathlib import Path

    arr = np.zeros((2750, 3600), np.float32)
    arr[::97, ::89] = 7
    path = tmp_path / "float.tif"
    path.write_bytes(encode(Image.fromarray(arr, "F"), "TIFF", compression="tiff_adobe_deflate"))
    assert path.stat().st_size < 200_000
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True, cwd=root, timeout=120)
    assert out.returncode == 0, out.stderr
    size, grown_mb = out.stdout.rsplit(" ", 1)
    assert size == "(3600, 2750)" and int(grown_mb) < 150
