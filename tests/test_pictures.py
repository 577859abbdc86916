"""Map pictures: sizes, formats, colours, numbers, colour bars and outlines, read back from the pixels."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from playground.render.pictures import PAD, TITLE_SIZE, WIDTH, cell_picture, map_picture, rgb_picture

TOP = PAD + TITLE_SIZE + 12  # first row of the map


def pixels(picture) -> np.ndarray:
    image = Image.open(io.BytesIO(picture.data))
    assert image.format == picture.format
    return np.asarray(image.convert("RGB")).astype(int)


@pytest.mark.parametrize("size", [1, 3, 16, 17, 126, 512])
def test_every_size_gives_a_picture_of_the_canvas_width(size):
    ramp = torch.arange(size, dtype=torch.float32)
    picture = map_picture(torch.sin(ramp[:, None] / 5) * torch.cos(ramp / 7), "Convolution")  # image-like, not noise
    rgb = pixels(picture)
    assert rgb.shape[1] == WIDTH and rgb.shape[0] > WIDTH  # title and colour bar below and above the map
    assert picture.format == ("PNG" if (WIDTH - 2 * PAD) // size >= 4 else "JPEG")  # cells of 4+ px: sharp PNG
    assert len(picture.data) < 200_000


def test_small_maps_are_sharp_pngs_with_whole_pixels_per_cell():
    picture = map_picture(torch.tensor([[-1.0, 1.0], [1.0, -1.0]]), "t", colorbar=False)
    assert picture.format == "PNG"
    rgb = pixels(picture)
    k = (WIDTH - 2 * PAD) // 2
    top = TOP
    left = (WIDTH - 2 * k) // 2
    assert tuple(rgb[top + 5, left + 5]) == tuple(rgb[top + k - 5, left + 5])  # one colour across a cell
    assert rgb[top + 5, left + 5][2] > 90 > rgb[top + 5, left + 5][0]  # −1: blue
    assert rgb[top + 5, left + k + 5][0] > 90 > rgb[top + 5, left + k + 5][2]  # +1: red


def test_zero_is_white_and_the_scale_is_symmetric():
    rgb = pixels(map_picture(torch.tensor([[0.0, 10.0], [-2.0, 0.0]]), "t"))
    k = (WIDTH - 2 * PAD) // 2
    top, left = TOP, (WIDTH - 2 * k) // 2
    zero = rgb[top + 8, left + 8]
    assert (zero >= 240).all()  # the cell holding 0 (away from its number) is white
    two_below = rgb[top + k + 8, left + 8]  # −2 on a ±10 scale: a pale blue
    assert two_below[2] > two_below[0] and two_below.min() > 150


def test_a_3x3_map_shows_its_numbers():
    values = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    with_numbers = pixels(map_picture(values, "t", colorbar=False))
    k = (WIDTH - 2 * PAD) // 3
    top, left = TOP, (WIDTH - 3 * k) // 2
    centre = with_numbers[top + k // 2 - 12 : top + k // 2 + 12, left + k // 2 - 12 : left + k // 2 + 12]
    corner = with_numbers[top + 4 : top + 28, left + 4 : left + 28]
    assert (centre.sum(-1) < 150).any()  # a black digit on the light cell
    assert len(np.unique(corner.reshape(-1, 3), axis=0)) == 1  # plain cell colour
    big = pixels(map_picture(torch.arange(400.0).reshape(20, 20), "t", colorbar=False))
    k = (WIDTH - 2 * PAD) // 20
    top, left = TOP, (WIDTH - 20 * k) // 2
    cell = big[top + 2 * k + 2 : top + 3 * k - 2, left + 2 * k + 2 : left + 3 * k - 2]
    assert len(np.unique(cell.reshape(-1, 3), axis=0)) == 1  # beyond 16×16: no numbers


def test_colour_bar_runs_blue_to_red_under_the_map():
    rgb = pixels(map_picture(torch.randn(30, 30), "t"))
    without = pixels(map_picture(torch.randn(30, 30), "t", colorbar=False))
    assert rgb.shape[0] > without.shape[0] + 40
    strip = rgb[without.shape[0] - PAD + 14]  # a row through the bar
    reds = np.flatnonzero((strip[:, 0] > 150) & (strip[:, 2] < 100))
    blues = np.flatnonzero((strip[:, 2] > 150) & (strip[:, 0] < 100))
    assert len(reds) and len(blues) and blues.max() < reds.min()


def test_gray_input_and_rgb_photo():
    gray = pixels(map_picture(torch.tensor([[0.0, 255.0]]), "Input", signed=False, colorbar=False))
    k = (WIDTH - 2 * PAD) // 2
    top, left = TOP, (WIDTH - 2 * k) // 2
    assert (gray[top + 5, left + 5] < 10).all() and (gray[top + 5, left + k + 5] > 245).all()
    photo = torch.zeros(3, 400, 300)
    photo[0] = 255  # pure red
    picture = rgb_picture(photo, "Input")
    rgb = pixels(picture)
    assert picture.format == "JPEG" and rgb.shape[1] == WIDTH
    r, g, b = rgb[rgb.shape[0] // 2, WIDTH // 2]
    assert r > 240 and g < 20 and b < 20


def test_highlight_and_selection_are_outlined():
    values = torch.full((8, 8), 128.0)
    plain = pixels(map_picture(values, "t", signed=False, colorbar=False))
    marked = pixels(map_picture(values, "t", signed=False, colorbar=False, highlight=[(2, 2)], selected=(5, 5)))

    def yellow(rgb):
        return ((rgb[..., 0] > 200) & (rgb[..., 1] > 180) & (rgb[..., 2] < 60)).any()

    def green(rgb):
        return ((rgb[..., 1] > 150) & (rgb[..., 0] < 60) & (rgb[..., 2] < 120)).any()

    assert yellow(marked) and green(marked) and not yellow(plain) and not green(plain)


def test_cell_picture_puts_panels_side_by_side():
    a = torch.arange(9.0).reshape(3, 3)
    picture = cell_picture([("Patch", a, False), ("Weights", -a, True), ("Products", a * -a, True)])
    assert picture.format == "PNG"
    assert pixels(picture).shape[1] == 3 * WIDTH + 2 * 2 * PAD  # three panels, two gaps


@pytest.mark.parametrize(("size", "cell"), [(126, (57, 80)), (512, (300, 11)), (512, (0, 511)), (8, (5, 2))])
def test_the_selected_cell_shows_at_any_size(size, cell):
    from playground.render.marks import MIN_MARK, SELECTED

    ramp = torch.arange(size, dtype=torch.float32)
    values = torch.sin(ramp[:, None] / 5) * torch.cos(ramp / 7)
    rgb = pixels(map_picture(values, "t", colorbar=False, selected=cell))
    green = (np.abs(rgb - np.array(SELECTED.rgb)) <= 50).all(-1)  # large maps are JPEG: colours shift a little
    ys, xs = np.nonzero(green)
    assert len(ys) and not (np.abs(pixels(map_picture(values, "t", colorbar=False)) - SELECTED.rgb) <= 50).all(-1).any()
    k = (WIDTH - 2 * PAD) / size if size > (WIDTH - 2 * PAD) // 4 else (WIDTH - 2 * PAD) // size
    left = (WIDTH - round(size * k)) // 2
    cx, cy = left + (cell[1] + 0.5) * k, TOP + (cell[0] + 0.5) * k
    near = (np.abs(ys - cy) <= 2 * MIN_MARK) & (np.abs(xs - cx) <= 2 * MIN_MARK)
    assert near.all()  # all of the marker is around the cell ...
    assert xs.max() - xs.min() >= MIN_MARK - 2 and ys.max() - ys.min() >= MIN_MARK - 2  # ... and ≥ 8 screen px wide
    if size == 8:  # a large cell: its own outline, no crosshair
        assert xs.max() - xs.min() <= k + 2 and abs((xs.max() + xs.min()) / 2 - cx) <= 2
    elif min(cx - left, cy - TOP, left + size * k - cx) > 2 * MIN_MARK:  # away from the edges: centred on the cell
        assert abs((xs.max() + xs.min()) / 2 - cx) <= 2 and abs((ys.max() + ys.min()) / 2 - cy) <= 2
        assert xs.max() - xs.min() >= 2 * MIN_MARK - 4  # arms beyond the box


def test_reached_cells_are_outlined_in_magenta():
    from playground.render.marks import REACHED

    values = torch.full((126, 126), 128.0)
    rgb = pixels(map_picture(values, "t", signed=False, colorbar=False, reached=[(60, 60), (60, 61)]))
    magenta = (np.abs(rgb - np.array(REACHED.rgb)) <= 50).all(-1)
    assert magenta.any() and np.ptp(np.nonzero(magenta)[1]) >= 20  # a box one cell around them, at least 24 px
