"""The selected cell's marker on a large plotly map, measured in the pixels Chromium draws."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from playground.render.figures import map_figure
from playground.render.marks import SELECTED


@pytest.mark.parametrize("size", [126, 512])
def test_selected_cell_is_at_least_8_screen_pixels_in_a_narrow_column(page, size):
    row, col = size // 2, size // 3
    values = torch.sin(torch.arange(size * size, dtype=torch.float32).reshape(size, size) / 50)
    fig = map_figure(values, "t", selected=(row, col), clickable=True)
    page.set_viewport_size({"width": 800, "height": 600})
    page.set_content(fig.to_html(include_plotlyjs=True, full_html=True, default_width="300px", default_height="340px"))
    page.locator(".main-svg").first.wait_for(timeout=30_000)
    page.wait_for_timeout(300)
    # Where plotly put the selected cell's centre, in page pixels.
    cx, cy = page.evaluate(
        f"""() => {{
            const gd = document.querySelector('.js-plotly-plot'), L = gd._fullLayout, box = gd.getBoundingClientRect();
            return [box.left + L.xaxis._offset + L.xaxis.l2p({col}), box.top + L.yaxis._offset + L.yaxis.l2p({row})];
        }}"""
    )
    rgb = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB")).astype(int)
    green = (np.abs(rgb - np.array(SELECTED.rgb)) <= 40).all(-1)
    ys, xs = np.nonzero(green)
    assert xs.max() - xs.min() >= 16 and ys.max() - ys.min() >= 16  # box and crosshair: ≥ 8 px however small a cell
    assert abs((xs.max() + xs.min()) / 2 - cx) <= 2 and abs((ys.max() + ys.min()) / 2 - cy) <= 2  # centred on it
