"""Samples: every one loads, is deterministic, has a sensible size, and the shipped photos are documented."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from playground.explorer.samples import PHOTOS, SAMPLES, SIZE, load_sample
from playground.images import prepare

GENERATED = [name for name in SAMPLES if not name.startswith("Photo")]
PHOTO_SAMPLES = [name for name in SAMPLES if name.startswith("Photo")]


def test_the_promised_samples_exist():
    assert {"Shapes", "Stripes", "Checkerboard", "Letter A", "Gradient"} <= set(SAMPLES)
    assert PHOTO_SAMPLES, "at least one natural photo"


@pytest.mark.parametrize("name", list(SAMPLES))
def test_sample_loads_and_is_deterministic(name):
    a, b = load_sample(name), load_sample(name)
    assert a.mode in ("L", "RGB")
    assert np.array_equal(np.asarray(a), np.asarray(b))
    assert np.asarray(a).std() > 10  # not blank


@pytest.mark.parametrize("name", GENERATED)
def test_generated_samples_are_128_square_gray(name):
    image = load_sample(name)
    assert image.size == (SIZE, SIZE) == (128, 128) and image.mode == "L"


@pytest.mark.parametrize("name", PHOTO_SAMPLES)
def test_photos_are_rgb_and_at_most_512(name):
    image = load_sample(name)
    assert image.mode == "RGB" and 256 <= max(image.size) <= 512
    arr = np.asarray(image, dtype=int)
    assert np.abs(arr[..., 0] - arr[..., 2]).mean() > 5  # really in colour


@pytest.mark.parametrize("name", list(SAMPLES))
def test_callers_get_copies(name):
    image = load_sample(name)
    image.paste(0, (0, 0, *image.size))
    assert np.asarray(load_sample(name)).any()


@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_sample_prepares(name):
    p = prepare(load_sample(name), color=False, max_side=96)
    assert p.tensor.shape[0] == 1 and max(p.tensor.shape[1:]) <= 96 and p.tensor.max() > 100


def test_unknown_name_lists_the_samples():
    with pytest.raises(KeyError, match=r"Shapes.*Checkerboard"):
        load_sample("nope")


def test_stripes_are_vertical():
    arr = np.asarray(load_sample("Stripes"), dtype=int)
    assert (arr == arr[0]).all()  # every row the same: no horizontal edges
    assert len(set(arr[0].tolist())) == 2 and (np.diff(arr[0]) != 0).sum() >= 8


def test_checkerboard_alternates_both_ways():
    arr = np.asarray(load_sample("Checkerboard"), dtype=int)
    assert arr[0, 0] != arr[0, 16] and arr[0, 0] != arr[16, 0] and arr[0, 0] == arr[16, 16]


def test_gradient_rises_smoothly():
    arr = np.asarray(load_sample("Gradient"), dtype=int)
    assert (np.diff(arr, axis=0) >= 0).all() and (np.diff(arr, axis=1) >= 0).all()
    assert arr[0, 0] < 5 and arr[-1, -1] > 250 and np.abs(np.diff(arr, axis=1)).max() <= 2


def test_shapes_are_light_on_dark():
    arr = np.asarray(load_sample("Shapes"), dtype=int)
    assert arr[0, 0] < 40 and np.median(arr) < 60
    assert len(np.unique(arr)) >= 4  # background and three shapes of different brightness


def test_letter_is_big_and_centred():
    arr = np.asarray(load_sample("Letter A")) > 128
    ys, xs = np.nonzero(arr)
    assert ys.max() - ys.min() > 60 and abs(xs.mean() - 64) < 10
    assert 0.05 < arr.mean() < 0.5


def test_every_shipped_photo_is_used_small_and_documented():
    files = sorted(p.name for p in PHOTOS.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    sources = (Path(PHOTOS).parent / "SOURCES.md").read_text(encoding="utf-8")
    assert len(files) == len(PHOTO_SAMPLES)
    for name in files:
        assert (PHOTOS / name).stat().st_size < 200_000
        with Image.open(PHOTOS / name) as image:
            assert max(image.size) <= 512
        assert f"`{name}`" in sources and "CC0" in sources
