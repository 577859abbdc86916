"""Zoomed neighbourhoods and the legend, read back from their pixels; marks' colours come from one place."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from playground.render.figures import map_figure
from playground.render.marks import FIELD, FIELD_BOX, MARKS, REACHED, SELECTED, legend_entries
from playground.render.pictures import map_picture
from playground.render.zoom import compact, legend_picture, zoom_picture


def pixels(picture) -> np.ndarray:
    image = Image.open(io.BytesIO(picture.data))
    assert image.format == picture.format
    return np.asarray(image.convert("RGB")).astype(int)


def mask(rgb: np.ndarray, color: tuple[int, int, int], tolerance: int = 40) -> np.ndarray:
    return (np.abs(rgb - np.array(color)) <= tolerance).all(-1)


def box(m: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the True pixels."""
    ys, xs = np.nonzero(m)
    return ys.min(), ys.max(), xs.min(), xs.max()


def map_area(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the zoomed cells of a ``vivid`` map: the coloured pixels (text is gray)."""
    return box(rgb.max(-1) - rgb.min(-1) > 40)


def vivid(h: int, w: int, seed: int = 0) -> torch.Tensor:
    """Values of ±0.5 … ±1 at random: every cell clearly red or blue."""
    g = torch.Generator().manual_seed(seed)
    return (0.5 + torch.rand(h, w, generator=g) / 2) * torch.randint(0, 2, (h, w), generator=g).mul(2).sub(1)


def centre_marker(rgb: np.ndarray) -> tuple[int, int, int, int]:
    return box(mask(rgb, SELECTED.rgb, 10))


def test_zoom_shows_a_seven_by_seven_window_with_its_centre_marked():
    values = vivid(126, 126)
    rgb = pixels(zoom_picture(values, (57, 80), title="Convolution"))
    top, bottom, left, right = map_area(rgb)
    k = (right - left + 1) / 7
    assert abs((bottom - top + 1) / 7 - k) < 2 and k > 45  # 7×7 square cells, ~50 px each on 440 px
    t, b, x0, x1 = centre_marker(rgb)
    assert abs((t + b) / 2 - (top + 3.5 * k)) < 4 and abs((x0 + x1) / 2 - (left + 3.5 * k)) < 4  # the middle cell
    assert b - t >= k - 4  # outlines the whole cell


def test_zoom_slides_inside_the_map_at_a_corner():
    values = vivid(126, 126)
    rgb = pixels(zoom_picture(values, (0, 125)))
    top, bottom, left, right = map_area(rgb)
    k = (right - left + 1) / 7
    assert abs((bottom - top + 1) / 7 - k) < 2  # still 7×7
    t, b, x0, x1 = centre_marker(rgb)
    assert abs((t + b) / 2 - (top + 0.5 * k)) < 4 and abs((x0 + x1) / 2 - (left + 6.5 * k)) < 4  # top-right cell


def test_a_small_map_is_shown_whole():
    rgb = pixels(zoom_picture(vivid(3, 3), (1, 1)))
    top, bottom, left, right = map_area(rgb)
    t, b, x0, _ = centre_marker(rgb)
    k = (right - left + 1) / 3
    assert abs((bottom - top + 1) / 3 - k) < 2 and k > 100  # 3×3 cells, as large as the picture allows
    assert abs((t + b) / 2 - (top + 1.5 * k)) < 4 and abs(x0 - (left + k)) < 4 and b - t >= k - 4


def test_colours_use_the_whole_maps_range():
    values = torch.zeros(50, 50)
    values[0, 0], values[49, 49] = -100.0, 100.0  # far from the window: the scale is ±100
    values[20:31, 20:31] = torch.linspace(-1, 1, 121).reshape(11, 11)
    values[25, 25] = -0.6

    def centre_cell(rgb):
        t, _, x0, _ = centre_marker(rgb)
        return rgb[t + 14, x0 + 14]  # inside the outline, away from the number

    assert centre_cell(pixels(zoom_picture(values, (25, 25)))).min() > 235  # −0.6 of ±100: almost white
    alone = centre_cell(pixels(zoom_picture(values[20:31, 20:31], (5, 5))))  # the same cell, on a ±1 scale
    assert alone[0] < 200 and alone[2] > alone[0] + 40  # clearly blue


def test_row_and_column_indices_are_written_along_the_edges():
    values = vivid(126, 126)
    a, b, c = (pixels(zoom_picture(values, centre)) for centre in ((57, 80), (57, 90), (70, 80)))
    top, bottom, left, right = map_area(a)
    k = (right - left + 1) / 7

    def ink(rgb, region):
        return (rgb[region].max(-1) < 110).sum()

    left_band = (slice(top, bottom), slice(0, left - 2))
    top_band = (slice(top - 40, top - 4), slice(left, right))
    for i in range(7):  # each row's index, each column's index
        assert ink(a, (slice(int(top + i * k), int(top + (i + 1) * k)), slice(0, left - 2))) > 30
        assert ink(a, (slice(top - 40, top - 4), slice(int(left + i * k), int(left + (i + 1) * k)))) > 30
    assert (a[left_band] == b[left_band]).all() and not (a[top_band] == b[top_band]).all()  # columns 77… vs 87…
    assert (a[top_band] == c[top_band]).all() and not (a[left_band] == c[left_band]).all()  # rows 54… vs 67…
    assert ink(a, (slice(0, top - 4), slice(0, left - 2))) > 30  # the word "row" above the row indices


def test_three_digit_column_indices_stay_apart():
    rgb = pixels(zoom_picture(vivid(512, 512), (300, 400)))
    top, _, left, right = map_area(rgb)
    k = (right - left + 1) / 7
    band = rgb[top - 40 : top - 4]
    for j in range(1, 7):  # between two columns' indices: blank
        x = round(left + j * k)
        assert (band[:, x - 2 : x + 3].max(-1) > 200).all(), j
    assert (band[:, round(left + 0.5 * k)].max(-1) < 110).any()  # and each index is written


def test_numbers_are_large_enough_to_read_at_300_px():
    values = torch.full((20, 20), -354.0)
    values[0, 0] = 902.0  # blue cells with 4-character numbers ("−354"), as in the Laplacian photo
    rgb = pixels(zoom_picture(values, (10, 10)))
    t, b, x0, x1 = centre_marker(rgb)  # the centre cell, 3 cells from the left edge
    cell = rgb[t + 10 : b - 10, x0 + 10 : x1 - 10]
    ink = np.nonzero((cell.max(-1) < 90).any(1))[0]
    assert (ink.max() - ink.min() + 1) * 300 / 440 >= 8.5  # digits ≥ 8.5 px tall (a 12 px font) shown 300 px wide


def test_highlight_and_reached_are_drawn_inside_the_window_only():
    values = torch.rand(40, 40) * 255
    field = [(r, c) for r in range(18, 21) for c in range(18, 21)]
    rgb = pixels(zoom_picture(values, (19, 19), signed=False, highlight=field, reached=[(22, 22)], mark_center=False))
    assert mask(rgb, FIELD.rgb, 10).any() and mask(rgb, FIELD_BOX.rgb, 10).any() and mask(rgb, REACHED.rgb, 10).any()
    assert not mask(rgb, SELECTED.rgb, 10).any()
    far = pixels(zoom_picture(values, (5, 5), signed=False, highlight=field, reached=[(22, 22)]))
    assert not mask(far, FIELD.rgb, 10).any() and not mask(far, REACHED.rgb, 10).any()
    # A field just above the window (rows 15–17; the window starts at row 18): no yellow, but the orange box
    # one cell around it reaches into the window's top row, clipped there.
    above = pixels(zoom_picture(values, (21, 19), signed=False, highlight=[(r, 19) for r in (15, 16, 17)]))
    assert not mask(above, FIELD.rgb, 10).any() and mask(above, FIELD_BOX.rgb, 10).any()


def test_compact_numbers():
    values = (-0.254, 7.5, 7.25, -9.96, 12.34, -80.4, 70.4, -138.4, 902.0, 0.0, 2e-4)
    expected = ["−0.25", "7.5", "7.2", "−10", "12", "−80", "70", "−138", "902", "0", "0.0002"]
    assert [compact(v) for v in values] == expected


def test_legend_has_every_mark_in_its_own_colour():
    assert legend_entries() == [
        ("#ffd400", "Yellow: cells of the receptive field"),
        ("#ff6d00", "Orange: box one cell around the receptive field, so it shows on large maps"),
        ("#00c853", "Green: the selected cell"),
        ("#d500f9", "Magenta: cells the chosen input pixel reaches"),
    ]
    picture = legend_picture()
    rgb = pixels(picture)
    assert picture.format == "PNG" and rgb.shape[1] == 440
    tops = [box(mask(rgb, m.rgb, 0))[0] for m in MARKS]
    assert tops == sorted(tops)  # one swatch per mark, in order, each in exactly its colour
    assert len(pixels(legend_picture([SELECTED]))) < len(rgb)


@pytest.mark.parametrize("size", [8, 126])
def test_pictures_and_figures_draw_the_legends_colours(size):
    values = torch.rand(size, size)
    kwargs = {"highlight": [(1, 1), (1, 2)], "selected": (4, 4), "reached": [(5, 5), (5, 6)]}
    rgb = pixels(map_picture(values * 0, "t", signed=False, colorbar=False, **kwargs))  # black: no mark colour
    shown = {m.name for m in MARKS if mask(rgb, m.rgb, 30).any()}  # (large maps are JPEG: colours shift a little)
    assert shown == ({"yellow", "orange", "green", "magenta"} if size == 8 else {"orange", "green", "magenta"})
    colours = {s["line"]["color"] for s in map_figure(values, **kwargs).to_dict()["layout"]["shapes"]}
    assert colours == {m.hex for m in MARKS}


def test_the_centre_outline_does_not_hide_its_number():
    values = torch.full((30, 30), -49.1)
    values[0, 0] = 902.0  # every zoomed cell: the same pale blue with the same black "−49.1"
    rgb = pixels(zoom_picture(values, (15, 15)))
    t, b, x0, x1 = centre_marker(rgb)
    k = x1 - x0 + 1

    def ink_columns(cell):
        return np.nonzero((cell.max(-1) < 90).any(0))[0]

    centre = ink_columns(rgb[t:b, x0 : x1 + 1])
    neighbour = ink_columns(rgb[t:b, x0 - k : x0])
    assert centre.max() - centre.min() == neighbour.max() - neighbour.min()  # the whole number, digits unhidden
