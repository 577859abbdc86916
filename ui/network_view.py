"""The Inspect page's whole-network view: every layer's maps side by side, and one unit's receptive field."""

from __future__ import annotations

import streamlit as st
import torch

from playground.explorer.receptive import receptive_fields
from playground.render.figures import map_figure
from playground.render.network_picture import network_picture
from playground.train.models import feature_maps
from ui.charts import chart, clicked_cell
from ui.keys import INSPECT, KEEP
from ui.params import integer, one
from ui.pictures import show_picture
from ui.step_through import CLICKABLE

P = INSPECT.prefix
FIELDS = [
    one("map", f"{P}_unit_map", 0, integer(0, 4096)),
    one("row", f"{P}_unit_row", 0, integer(0, 4096)),
    one("col", f"{P}_unit_col", 0, integer(0, 4096)),
]


def layer_maps(model: torch.nn.Sequential, spec: dict, x: torch.Tensor) -> list[tuple[str, torch.Tensor, object]]:
    """(name, (C, H, W) maps, receptive field) of every layer that keeps maps, for one image ``x`` (1, H, W)."""
    fields = receptive_fields(spec)
    return [(name, t[0], field) for (name, t), field in zip(feature_maps(model, x[None]), fields, strict=True)
            if t.ndim == 4]  # fmt: skip


def whole_network(x: torch.Tensor, maps: list[tuple[str, torch.Tensor, object]]) -> None:
    st.subheader("The whole network for this image")
    st.caption("Each column is one layer's output: its name, its shape (maps × height × width) and its first "
               "four maps, each in its own colour range (red positive, blue negative, white 0).")  # fmt: skip
    show_picture(network_picture(x[0], [(name, t) for name, t, _ in maps]), key=f"{P}_network")


def _clicked() -> None:
    if (cell := clicked_cell(f"{P}_unit_click")) is not None:
        st.session_state[f"{P}_unit_row"], st.session_state[f"{P}_unit_col"] = cell


def receptive_view(x: torch.Tensor, name: str, maps: torch.Tensor, field) -> None:
    """One map of the chosen layer, clickable; the clicked unit's receptive field outlined on the input."""
    ss = st.session_state
    c, h, w = maps.shape
    for key, top in (("map", c - 1), ("row", h - 1), ("col", w - 1)):
        ss[f"{P}_unit_{key}"] = min(ss[f"{P}_unit_{key}"], top)
    st.markdown("**Click a unit** of the map to see which pixels of the input it sees (its receptive field).")
    k = st.number_input(f"Map of {name} (0–{c - 1})", 0, c - 1, key=f"{P}_unit_map", persist_state=KEEP)
    row, col = ss[f"{P}_unit_row"], ss[f"{P}_unit_col"]
    left, right = st.columns(2)
    height = max(300, min(600, round(520 * h / w) + 90))  # a half-width column: as tall as the map needs
    fig = map_figure(maps[k], f"{name}, map {k}: unit ({row}, {col})", selected=(row, col), clickable=True,
                     height=height)  # fmt: skip
    chart(fig, where=left, key=f"{P}_unit_click", on_select=_clicked, selection_mode="points", config=CLICKABLE)
    size_h, size_w = x.shape[-2:]
    (r0, r1), (c0, c1) = field.within(row, size_h), field.within(col, size_w)
    cells = [(r, q) for r in range(r0, r1 + 1) for q in range(c0, c1 + 1)]
    chart(map_figure(x[0] * 255, "Its receptive field on the input", signed=False, highlight=cells, height=height),
          where=right, key=f"{P}_unit_field")  # fmt: skip
    padded = field.span(row) != (r0, r1) or field.span(col) != (c0, c1)
    cut = " (part of it lies in the padding, which holds no pixels)" if padded else ""
    st.caption(f"Unit ({row}, {col}) of {name} sees input rows {r0}–{r1} and columns {c0}–{c1}: a "
               f"{field.size}×{field.size} field{cut}. Its neighbour's field starts {field.jump} pixel"
               f"{'s' if field.jump != 1 else ''} further (the jump).")  # fmt: skip
