"""Figures for the Training studio: live curves, confusion matrix, filters, feature maps, probabilities."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from playground.render.colours import RUN_COLOURS, UNSIGNED_SCALE, plotly_scale, scale_for
from playground.train.data import CLASSES


def smooth(values: list[float], weight: float = 0.9) -> list[float]:
    """Exponential moving average, bias-corrected so the start is not pulled towards 0."""
    out, avg = [], 0.0
    for i, v in enumerate(values, 1):
        avg = weight * avg + (1 - weight) * v
        out.append(avg / (1 - weight**i))
    return out


def thin(xs: list[float], ys: list[float], max_points: int = 300) -> tuple[list[float], list[float]]:
    """Every k-th point so a curve has at most ``max_points`` (fewer points for the browser to draw on each redraw)."""
    k = max(1, -(-len(xs) // max_points))
    return xs[::k], ys[::k]


def curves_figure(runs: list[tuple[str, dict]], log_loss: bool = False, height: int = 380) -> go.Figure:
    """Training loss (raw and smoothed) and test accuracy against epochs, one colour per run, newest last.

    Args:
        runs: (label, history) pairs; history has step, loss, eval_step, test_acc, steps_per_epoch.
    """
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("Loss: training (solid), test (dashed)", "Test accuracy (2,000 test images)")
    )
    for i, (label, h) in enumerate(runs):
        color, newest = RUN_COLOURS[i % len(RUN_COLOURS)], i == len(runs) - 1
        spe = h.get("steps_per_epoch") or 1.0
        epochs = [s / spe for s in h["step"]]
        raw_x, raw_y = thin(epochs, h["loss"])
        smooth_x, smooth_y = thin(epochs, smooth(h["loss"]))
        if newest and h["loss"]:
            fig.add_scatter(
                x=raw_x,
                y=raw_y,
                mode="lines",
                line={"color": color, "width": 1},
                opacity=0.35,
                name=f"{label} (raw)",
                row=1,
                col=1,
            )
        fig.add_scatter(
            x=smooth_x,
            y=smooth_y,
            mode="lines",
            line={"color": color, "width": 3 if newest else 1.5},
            name=label,
            legendgroup=label,
            row=1,
            col=1,
        )
        if h.get("test_loss"):  # test loss at each evaluation, dashed, beside the training loss
            fig.add_scatter(
                x=[s / spe for s in h["eval_step"]],
                y=h["test_loss"],
                mode="lines+markers",
                line={"color": color, "width": 2, "dash": "dash"},
                name=f"{label} (test loss)",
                legendgroup=label,
                showlegend=newest,
                row=1,
                col=1,
            )
        fig.add_scatter(
            x=[s / spe for s in h["eval_step"]],
            y=[a * 100 for a in h["test_acc"]],
            mode="lines+markers",
            line={"color": color, "width": 3 if newest else 1.5},
            name=label,
            legendgroup=label,
            showlegend=False,
            hovertemplate="epoch %{x:.2f}: %{y:.2f}%<extra></extra>",
            row=1,
            col=2,
        )
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(type="log" if log_loss else "linear", row=1, col=1)
    fig.update_yaxes(title_text="%", row=1, col=2)
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        font={"size": 15},
        legend={"orientation": "h", "y": -0.2},
        uirevision="keep",
    )
    return fig


def confusion_figure(confusion: torch.Tensor, height: int = 520) -> go.Figure:
    """Rows = true class, columns = predicted, with counts in the cells."""
    z = confusion.tolist()
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(CLASSES),
            y=list(CLASSES),
            colorscale=plotly_scale(UNSIGNED_SCALE),
            reversescale=True,
            texttemplate="%{z}",
            showscale=False,
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        font={"size": 14},
        xaxis={"title": "predicted"},
        yaxis={"title": "true", "autorange": "reversed"},
    )
    return fig


def grid_figure(maps: torch.Tensor, title: str, signed: bool = True, max_maps: int = 32, cols: int = 8) -> go.Figure:
    """Small multiples of (N, H, W) maps: learned filters or feature maps, each with its own colour range."""
    n = min(len(maps), max_maps)
    rows = math.ceil(n / cols)
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=[str(i) for i in range(n)], horizontal_spacing=0.01, vertical_spacing=0.06
    )
    for i in range(n):
        m = maps[i].detach().float()
        lim = float(m.abs().max()) or 1.0
        lo, hi = (-lim, lim) if signed else (float(m.min()), float(m.max()) or 1.0)
        fig.add_trace(
            go.Heatmap(
                z=m.numpy(),
                zmin=lo,
                zmax=hi,
                showscale=False,
                colorscale=plotly_scale(scale_for(signed)),
                hovertemplate="%{z:.3g}<extra></extra>",
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    fig.update_layout(title=title, height=90 + 120 * rows, margin={"l": 5, "r": 5, "t": 60, "b": 5}, font={"size": 12})
    return fig


def probabilities_figure(probs: torch.Tensor, height: int = 360) -> go.Figure:
    """Softmax probabilities as horizontal bars with class names, the top one highlighted."""
    p = (probs * 100).tolist()
    top = int(torch.argmax(probs))
    fig = go.Figure(
        go.Bar(
            x=p,
            y=list(CLASSES),
            orientation="h",
            text=[f"{v:.1f}%" for v in p],
            textposition="auto",
            marker_color=["#d62728" if i == top else "#1f77b4" for i in range(10)],
        )
    )
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        font={"size": 15},
        xaxis={"range": [0, 100], "title": "probability (%)"},
        yaxis={"autorange": "reversed"},
    )
    return fig
