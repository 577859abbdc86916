"""Plotly charts on a page: projector-sized text in presentation mode."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from playground.render.figures import projector_fonts


def chart(fig: go.Figure, *, where=st, **kwargs):
    """``where.plotly_chart(fig, **kwargs)``, every text at least 18 px when presenting."""
    if st.session_state.get("present"):
        fig = projector_fonts(fig)
    return where.plotly_chart(fig, **kwargs)


def clicked_cell(key: str) -> tuple[int, int] | None:
    """The (row, col) of the cell last clicked on the clickable map chart ``key`` (``map_figure(clickable=True)``,
    drawn with ``on_select``), or None when no cell was clicked."""
    points = st.session_state.get(key, {}).get("selection", {}).get("points", [])
    return (int(points[0]["y"]), int(points[0]["x"])) if points else None
