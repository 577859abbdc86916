"""Choosing the model to inspect, and the input to feed it."""

from __future__ import annotations

import hashlib

import plotly.graph_objects as go
import streamlit as st
import torch

from playground.explorer.explain import fmt
from playground.limits import MAX_UPLOAD_MB
from playground.render.train_figures import confusion_figure, grid_figure
from playground.train.checkpoints import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from playground.train.data import CLASSES
from playground.train.evaluate import Evaluation, to_input
from playground.train.models import Summary
from playground.train.predict import decision, prepare_for_model
from playground.train.sandbox import EvaluationRefused, evaluate_apart
from ui import server
from ui.common import ROOT
from ui.image_input import SOURCES, grid_values, image_input
from ui.keys import INSPECT, KEEP
from ui.params import choice, flag, integer, one
from ui.state import browser_id
from ui.text import plain

P = INSPECT.prefix
MODELS = ("This browser's latest run", "Bundled pretrained model", "Upload a checkpoint")
MODEL_SLUGS = ("run", "pretrained", "upload")
INPUTS = ("A test image", "My own image")
FIELDS = [
    one("model", f"{P}_source", MODELS[0], choice(MODELS, dict(zip(MODELS, MODEL_SLUGS, strict=True)))),
    one("input", f"{P}_input", INPUTS[0], choice(INPUTS, dict(zip(INPUTS, ("test", "own"), strict=True)))),
    one("image", f"{P}_idx", 0, integer(0, 9999)),
    one("layer", f"{P}_layer", 0, integer(0, 40)),
    one("src", f"{P}_img_source", "Draw", choice(SOURCES, {"Number grid": "grid"})),
    one("present", "present", False, flag()),
]
DEFAULTS = {f"{P}_img_sample": "Shapes", f"{P}_img_brush": 14, f"{P}_img_grid": grid_values(6, 0)}
PRETRAINED = ROOT / "assets" / "pretrained" / "model.pt"


@st.cache_resource(max_entries=8, show_spinner=False)  # one object per file: test_evaluation's key stays the same
def _uploaded(data: bytes) -> Checkpoint:
    return load_checkpoint(data)


def choose_model() -> tuple[str, Checkpoint, str] | None:
    """This browser's latest run, the bundled pretrained model, or an uploaded checkpoint; with a stable cache key."""
    every = server.run_manager().runs_for(browser_id())
    runs = [r for r in every if r.has_model]
    options = list(MODELS) if runs else list(MODELS[1:])
    ss = st.session_state
    if ss[f"{P}_source"] not in options:
        ss[f"{P}_source"] = options[0]
    source = st.radio("Model", options, horizontal=True, key=f"{P}_source", persist_state=KEEP)
    if source == MODELS[0]:
        run = runs[-1]
        ckpt = run.checkpoint()  # the same object on every rerun, read back from disk if it was dropped from memory
        if ckpt is None:
            st.error("This run's weights could not be read back from the runs folder.")
            return None
        return f"run {every.index(run) + 1} of this browser", ckpt, run.cache_key
    if source == MODELS[1]:
        return "the bundled pretrained model", server.pretrained(PRETRAINED), "pretrained"
    up = st.file_uploader(f"A .pt checkpoint saved by CNN Playground (up to {MAX_UPLOAD_MB} MB)", type=["pt", "pth"],
                          key=f"{P}_upload")  # fmt: skip
    if up is None:
        return None
    try:
        data = up.getvalue()
        return up.name, _uploaded(data), "upload-" + hashlib.sha256(data).hexdigest()
    except CheckpointError as e:
        st.error(plain(e))  # the message can quote the file's own strings: shown as plain text
        return None


def download_button(name: str, ckpt: Checkpoint) -> None:
    """The checkpoint is written when the button is clicked, not on every rerun of the page."""
    data = lambda: save_checkpoint(ckpt.spec, ckpt.state_dict, ckpt.config, ckpt.history)  # noqa: E731
    st.download_button("Download this model (.pt)", data, file_name="cnn-playground-model.pt", key=f"{P}_dl")


@st.cache_data(max_entries=4, show_spinner="Evaluating on the 10,000 test images…")  # keyed on `key` alone
def test_evaluation(_ckpt: Checkpoint, key: str, _images: torch.Tensor, _labels: torch.Tensor) -> Evaluation | str:
    """Evaluated in a process with a memory and time budget (playground.train.sandbox); a refusal is its sentence."""
    try:
        return evaluate_apart(_ckpt.spec, _ckpt.state_dict, _images, _labels)
    except EvaluationRefused as e:
        return str(e)


@st.cache_resource(max_entries=32, show_spinner=False)
def model_figures(key: str, _ckpt: Checkpoint, _ev: Evaluation | None) -> tuple[go.Figure | None, go.Figure | None]:
    """The confusion matrix and the first conv layer's filters of the model ``key`` names (None where it has none),
    built once per model: together they were most of a rerun's server time. Shared: never modify them."""
    confusion = confusion_figure(_ev.confusion) if _ev is not None else None
    first = next((m for m in _ckpt.model().modules() if isinstance(m, torch.nn.Conv2d)), None)
    if first is None:
        return confusion, None
    k = first.kernel_size
    title = f"{first.out_channels} filters, {k[0]}×{k[1]}: red positive, blue negative"
    return confusion, grid_figure(first.weight[:, 0], title)


def model_input(test_images: torch.Tensor) -> tuple[str, torch.Tensor]:
    """A test image, or the user's own (drawn, uploaded, photographed) prepared as (1, 28, 28) in [0, 1]."""
    kind = st.radio("Input", INPUTS, horizontal=True, key=f"{P}_input", persist_state=KEEP)
    if kind == INPUTS[0]:
        last = len(test_images) - 1
        st.session_state[f"{P}_idx"] = min(st.session_state[f"{P}_idx"], last)
        i = st.number_input(f"Test image # (0–{last:,})", 0, last, key=f"{P}_idx", persist_state=KEEP)
        return f"test image {i}", to_input(test_images[i][None])[0]  # the engine's conversion, as in training
    chosen = image_input(f"{P}_img")
    if chosen is None or chosen.picture is None:
        st.info("Draw, upload or photograph a piece of clothing.")
        return "an empty image", torch.zeros(1, 28, 28)
    return chosen.label, prepare_for_model(chosen.picture)


def decision_view(model: torch.nn.Sequential, x: torch.Tensor, summary: Summary) -> None:
    """Flatten, the last layer's dot product for the winning class, and the softmax, written out."""
    made = decision(model, x)
    if made is None:
        return
    with st.expander("From features to a prediction: flatten, the last layer and softmax, written out"):
        flat = next((r for r in summary.rows if r.type == "flatten"), None)
        if flat is not None and flat.formula:
            st.markdown(f"**Flatten.** The last feature maps become one vector of {flat.formula} numbers.")
        name, z = CLASSES[made.winner], made.logits[made.winner]
        terms = " + ".join(f"({fmt(value)} × {fmt(weight)})" for _, value, weight in made.top)
        more = made.features - len(made.top)
        rest = f" + [{more:,} more products: {made.rest:.2f}]" if more else ""
        st.markdown(f"**The last layer, for the winning class ({plain(name)}).** Its score is the dot product of "
                    f"the {made.features:,} features with the class's {made.features:,} weights, plus a bias "
                    "(the largest products first):")  # fmt: skip
        st.code(f"z = {terms}{rest} + bias {made.bias:.2f} = {z:.2f}", language=None, wrap_lines=True)
        top = float(made.logits.max())
        shifted = (made.logits.double() - top).exp()  # e^(z − max): the same probabilities, and never overflows
        st.markdown(r"**Softmax.** $p_k = e^{z_k} / \sum_j e^{z_j}$ turns the scores into probabilities. Subtracting "
                    f"the highest score ({top:.2f}) from every score first changes nothing and keeps the numbers "
                    "small:")  # fmt: skip
        lines = ["| class | score z | e^(z − max) | probability |", "|---|---|---|---|"]
        for k in made.probabilities.argsort(descending=True).tolist():
            b = "**" if k == made.winner else ""
            lines.append(f"| {b}{plain(CLASSES[k])}{b} | {made.logits[k]:.2f} | {shifted[k]:.2f} "
                         f"| {b}{made.probabilities[k]:.2f}{b} |")  # fmt: skip
        lines.append(f"| sum | | {float(shifted.sum()):.2f} | 1.00 |")
        st.markdown("\n".join(lines))
