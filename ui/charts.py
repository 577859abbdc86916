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
