"""Training studio widgets: the data, the architecture editor, the network table, hyperparameters."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from playground import models
from playground.budget import training_estimate
from playground.data import CLASSES, DataNotFound, FashionMNIST, load_fashion_mnist
from playground.processes import read_apart
from playground.runs import RunManager
from playground.settings import current
from playground.train import AUGMENTS, OPTIMIZERS, PRECISIONS, TrainConfig, resolve_precision

P = "ts"
PARAM_COLUMNS = {
    "out": ("out_channels", "out_features"),
    "kernel": ("kernel",),
    "stride": ("stride",),
    "padding": ("padding",),
    "dilation": ("dilation",),
    "p / slope": ("p", "slope"),
    "in (Linear)": ("in_features",),
}


@st.cache_resource(show_spinner="Loading FashionMNIST into memory (once per server)…")
def _load(download: bool) -> FashionMNIST:
    return load_fashion_mnist(download=download, read=read_apart)  # torchvision reads it, outside the server


def dataset() -> FashionMNIST | None:
    """The shared dataset, or None after telling the user exactly how to get it (with a download button)."""
    try:
        return _load(False)
    except DataNotFound as e:
        st.error(str(e))
        if st.button("Download FashionMNIST (30 MB, needs internet)", key=f"{P}_download"):
            try:
                with st.spinner("Downloading with torchvision…"):
                    data = _load(True)
                st.rerun()
                return data
            except DataNotFound as e2:
                st.error(f"The download did not work. {e2}")
        return None


@st.cache_resource
def run_manager() -> RunManager:
    """One per server: at most PLAYGROUND_MAX_RUNS runs train at once (default: the number of cores)."""
    return RunManager(current().max_runs)


def _rows(spec: dict) -> pd.DataFrame:
    rows = []
    for i, layer in enumerate(spec["layers"]):
        row = {"order": float(i + 1), "type": layer["type"]}
        for col, keys in PARAM_COLUMNS.items():
            row[col] = next((layer[k] for k in keys if layer.get(k) is not None), None)
        rows.append(row)
    return pd.DataFrame(rows, columns=["order", "type", *PARAM_COLUMNS])


def _layer(row: pd.Series) -> dict:
    kind = row["type"]
    layer: dict = {"type": kind}
    for col, keys in PARAM_COLUMNS.items():
        value = row.get(col)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        for key in keys:
            if key in models.LAYER_TYPES.get(kind, {}):
                layer[key] = float(value) if key in ("p", "slope") else int(value)
    if kind == "linear" and "in_features" not in layer:
        layer["in_features"] = None
    return layer


def architecture_editor() -> dict:
    """Preset, then an editable table of layers (add, delete, reorder by the 'order' column) → a spec."""
    preset = st.selectbox("Start from", list(models.PRESETS), key=f"{P}_preset")
    st.caption(
        "Edit any cell, add a row at the bottom, delete rows with the checkbox on the left, and reorder by changing "
        "'order' (2.5 goes between 2 and 3). 'out' is channels or units; clear a Linear's 'in' to let it "
        "infer its inputs."
    )
    edited = st.data_editor(
        _rows(models.PRESETS[preset]),
        num_rows="dynamic",
        key=f"{P}_layers_{preset}",
        hide_index=True,
        column_config={
            "order": st.column_config.NumberColumn(step=0.5, width="small"),
            "type": st.column_config.SelectboxColumn(options=list(models.LAYER_TYPES), required=True),
        },
    )
    edited = edited.dropna(subset=["type"]).sort_values("order", kind="stable")
    return {"name": preset.split(" (")[0] + " (edited)", "layers": [_layer(r) for _, r in edited.iterrows()]}


def network_table(summary: models.Summary) -> None:
    """The live table: shape, formula with numbers, parameters written out, MACs; totals; the broken row."""
    lines = ["| # | layer | output shape | size formula | parameters | MACs |", "|---|---|---|---|---|---|"]
    for r in summary.rows:
        shape = "×".join(map(str, r.output_shape))
        formula = f"${r.formula}$" if r.formula.startswith(("H", "W")) else r.formula
        lines.append(f"| {r.index + 1} | {r.name} | {shape} | {formula} | {r.params_formula} | {r.macs:,} |")
    if summary.error_row is not None:
        lines.append(f"| {summary.error_row + 1} | ⚠️ | | **{summary.error.split(': ', 1)[-1]}** | | |")
    lines.append(f"| | **total** | | | **{summary.total_params:,}** | **{summary.total_macs:,}** |")
    if summary.ok:  # playground.budget: from the totals alone, at the default batch size and all the images
        est = training_estimate(summary)
        lines.append(f"| | training estimate (batch 256, 60,000 images) | | | ~{est.peak_mb:,.0f} MB peak "
                     f"| ~{est.seconds_per_epoch:,.0f} s per epoch |")  # fmt: skip
    st.markdown("\n".join(lines))


def sharing_lesson(summary: models.Summary) -> None:
    """What a fully connected layer would cost for the first conv layer's output."""
    first = next((r for r in summary.rows if r.type == "conv"), None)
    if first is None:
        return
    lesson = models.dense_comparison((1, 28, 28), first.output_shape, first.params)
    st.info(
        f"**Parameter sharing.** The first conv layer makes {lesson['outputs']:,} outputs from 28·28 = 784 pixels "
        f"with **{first.params:,}** parameters, because every position reuses the same small kernels. A fully "
        f"connected layer making the same outputs would need 784 × {lesson['outputs']:,} + {lesson['outputs']:,} = "
        f"**{lesson['dense_params']:,}** parameters: {lesson['ratio']:,.0f}× more."
    )


def hyperparameters() -> TrainConfig | None:
    """The training settings; None (with the reason shown) when they are invalid."""
    a, b, c = st.columns(3)
    optimizer = a.selectbox(
        "Optimizer",
        OPTIMIZERS,
        key=f"{P}_opt",
        format_func={"adamw": "AdamW", "adam": "Adam", "sgd_momentum": "SGD + momentum", "sgd": "SGD"}.get,
    )
    lr = a.number_input("Learning rate (peak)", 1e-5, 1.0, 3e-3, format="%.4f", key=f"{P}_lr")
    schedule = a.selectbox("Schedule", ("onecycle", "constant"), key=f"{P}_sched")
    batch = b.select_slider("Batch size", (32, 64, 128, 256, 512, 1024), 256, key=f"{P}_bs")
    epochs = b.number_input("Epochs", 1, 30, 3, key=f"{P}_epochs")
    size = b.select_slider("Training images", (1000, 5000, 10000, 30000, 60000), 60000, key=f"{P}_size")
    wd = c.number_input("Weight decay (L2)", 0.0, 1.0, 1e-4, format="%.5f", key=f"{P}_wd")
    l1 = c.number_input("L1 penalty", 0.0, 1.0, 0.0, format="%.6f", key=f"{P}_l1")
    dropout = c.slider("Dropout rate (Dropout layers)", 0.0, 0.9, 0.25, 0.05, key=f"{P}_drop")
    augment = a.selectbox("Augmentation", AUGMENTS, key=f"{P}_aug")
    seed = b.number_input("Random seed", 0, 10**6, 0, key=f"{P}_seed")
    precision = c.selectbox(
        "Arithmetic",
        PRECISIONS,
        key=f"{P}_precision",
        format_func=lambda p: f"auto ({resolve_precision(p)} on this computer)" if p == "auto" else p,
        help="bfloat16 (mixed precision) computes convolutions with 8-bit mantissas: about 30% faster on CPUs that "
        "do it in hardware, for the same accuracy. Weights and evaluation stay float32.",
    )
    try:
        return TrainConfig(
            optimizer=optimizer,
            lr=lr,
            batch_size=batch,
            epochs=int(epochs),
            weight_decay=wd,
            l1=l1,
            dropout=dropout,
            augment=augment,
            train_size=None if size == 60000 else size,
            seed=int(seed),
            schedule=schedule,
            precision=precision,
        )
    except ValueError as e:
        st.error(str(e))
        return None


def samples_grid(data: FashionMNIST) -> None:
    """One training image of each class, with its name."""
    firsts = [int((data.train_labels == c).nonzero()[0]) for c in range(10)]
    st.image([data.train_images[i].numpy() for i in firsts], caption=list(CLASSES), width=84)
