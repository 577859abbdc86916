"""Figure builders return valid plotly figures, in cell coordinates, light enough to send."""

import json

import plotly.graph_objects as go
import pytest
import torch

from playground.explorer.conv import ActivationSpec, activate
from playground.render.colours import value_range
from playground.render.figures import HEATMAP_MAX, activation_figure, map_figure


def validated(fig: go.Figure) -> go.Figure:
    """The builders skip plotly's validation for speed: validate here, once, with it on."""
    return go.Figure(fig.to_dict())


@pytest.mark.parametrize("size", [1, 3, 16, 17, 64, 65, 512])
def test_map_figures_are_valid_at_every_size(size):
    values = torch.randn(size, size)
    raw = map_figure(values, "t", highlight=[(0, 0)], selected=(0, 0), clickable=True)
    validated(raw)
    fig = raw
    kinds = [t.type for t in fig.data]
    assert ("heatmap" in kinds) == (size <= HEATMAP_MAX) and ("image" in kinds) == (size > HEATMAP_MAX)
    assert list(fig.layout.yaxis.range) == [size - 0.5, -0.5]  # row 0 at the top
    assert len(fig.to_json()) < 200_000
    for trace in fig.to_dict()["data"]:  # plotly.js knows no "RdBu_r": colour scales must be explicit lists
        scale = trace.get("colorscale") or trace.get("marker", {}).get("colorscale")
        assert scale is None or isinstance(scale, list | tuple)  # a 512×512 map is a PNG, not 262,144 JSON numbers


def test_small_maps_carry_their_numbers_with_readable_colours():
    fig = map_figure(torch.tensor([[-5.0, 0.0], [2.5, 5.0]]))
    text = next(t for t in fig.data if t.type == "scatter" and t.mode == "text")
    assert list(text.text) == ["−5", "0", "2.5", "5"]
    assert list(text.textfont.color) == ["white", "black", "black", "white"]


def test_signed_range_is_symmetric_so_white_means_zero():
    assert value_range(torch.tensor([-1.0, 3.0]), signed=True) == (-3.0, 3.0)
    assert value_range(torch.tensor([2.0, 2.0]), signed=False) == (2.0, 3.0)


def test_activation_figure_is_valid():
    fig = activation_figure(lambda x: activate(x, ActivationSpec("ReLU")), "ReLU")
    validated(fig)
    assert float(min(fig.data[0].y)) == 0
    json.loads(fig.to_json())


@pytest.mark.parametrize("size", [8, 126, 512])
def test_large_maps_mark_the_selected_cell_at_a_fixed_screen_size(size):
    from playground.render.figures import MARKER_PX
    from playground.render.marks import REACHED, SELECTED

    fig = validated(map_figure(torch.randn(size, size), selected=(3, 5), reached=[(1, 1), (1, 2)]))
    shapes = fig.to_dict()["layout"]["shapes"]
    fixed = [s for s in shapes if s.get("xsizemode") == "pixel"]
    around_reached = [s for s in shapes if s["line"]["color"] == REACHED.hex and s["x1"] - s["x0"] > 1]
    if size == 8:  # cells of ~30 screen px: their own outlines are enough
        assert not fixed and not around_reached
        return
    box = next(s for s in fixed if s["type"] == "rect")
    assert (box["xanchor"], box["yanchor"]) == (5, 3) and box["x1"] - box["x0"] == 2 * MARKER_PX >= 16
    assert box["y1"] - box["y0"] == 2 * MARKER_PX and box["line"]["color"] == SELECTED.hex
    assert len([s for s in fixed if s["type"] == "line"]) == 4  # crosshair arms
    assert len(around_reached) == 1


def test_projector_fonts_lift_every_text_to_18_px():
    import torch

    from playground.render.figures import map_figure, projector_fonts
    from playground.render.train_figures import confusion_figure, grid_figure

    figs = [map_figure(torch.randn(8, 8), "small"), map_figure(torch.randn(90, 90), "large")]
    figs += [confusion_figure(torch.randint(0, 9, (10, 10))), grid_figure(torch.randn(6, 5, 5), "filters")]
    for fig in figs:
        spec = projector_fonts(fig).to_plotly_json()
        layout = spec["layout"]
        assert layout["font"]["size"] >= 18 and layout["title"]["font"]["size"] >= 18
        assert all(a["font"]["size"] >= 18 for a in layout.get("annotations", []))
        for trace in spec["data"]:
            for font in (trace.get("textfont"), (trace.get("colorbar") or {}).get("tickfont"),
                         ((trace.get("marker") or {}).get("colorbar") or {}).get("tickfont")):  # fmt: skip
                assert font is None or font.get("size", 18) >= 18
