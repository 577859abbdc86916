"""Rendering: plotly figures and Pillow pictures from tensors, sharing one module of colours and scales."""
