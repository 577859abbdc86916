"""Choosing the model to inspect, and the input to feed it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import streamlit as st
import torch

from playground.checkpoints import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from playground.evaluate import Evaluation
from playground.limits import MAX_UPLOAD_MB
from playground.predict import prepare_for_model
from playground.sandbox import EvaluationRefused, evaluate_apart
from ui.common import ROOT, session_id
from ui.image_input import image_input
from ui.text import plain
from ui.training import run_manager

P = "mi"
PRETRAINED = ROOT / "assets" / "pretrained" / "model.pt"


@st.cache_resource(show_spinner=False)
def _pretrained(path: Path) -> Checkpoint:
    return load_checkpoint(path.read_bytes())


@st.cache_resource(max_entries=8, show_spinner=False)  # one object per file: test_evaluation's key stays the same
def _uploaded(data: bytes) -> Checkpoint:
    return load_checkpoint(data)


def choose_model() -> tuple[str, Checkpoint] | None:
    """This session's latest run, the bundled pretrained model, or an uploaded checkpoint."""
    runs = [r for r in run_manager().runs_for(session_id()) if r.result is not None]
    options = (["This session's latest run"] if runs else []) + ["Bundled pretrained model", "Upload a checkpoint"]
    source = st.radio("Model", options, horizontal=True, key=f"{P}_source")
    if source.startswith("This session"):
        run = runs[-1]
        state = run.result.model.state_dict()
        config = dataclasses.asdict(run.config)
        return f"run {len(runs)} of this session", Checkpoint(run.spec, state, config, run.result.history)
    if source.startswith("Bundled"):
        return "the bundled pretrained model", _pretrained(PRETRAINED)
    up = st.file_uploader(f"A .pt checkpoint saved by CNN Playground (up to {MAX_UPLOAD_MB} MB)", type=["pt", "pth"],
                          key=f"{P}_upload")  # fmt: skip
    if up is None:
        return None
    try:
        return up.name, _uploaded(up.getvalue())
    except CheckpointError as e:
        st.error(plain(e))  # the message can quote the file's own strings: shown as plain text
        return None


def download_button(name: str, ckpt: Checkpoint) -> None:
    data = save_checkpoint(ckpt.spec, ckpt.state_dict, ckpt.config, ckpt.history)
    st.download_button("Download this model (.pt)", data, file_name="cnn-playground-model.pt", key=f"{P}_dl")


@st.cache_data(max_entries=4, show_spinner="Evaluating on the 10,000 test images…", hash_funcs={Checkpoint: id})
def test_evaluation(_ckpt: Checkpoint, key: str, _images: torch.Tensor, _labels: torch.Tensor) -> Evaluation | str:
    """Evaluated in a process with a memory and time budget (playground.sandbox); a refusal is its sentence."""
    try:
        return evaluate_apart(_ckpt.spec, _ckpt.state_dict, _images, _labels)
    except EvaluationRefused as e:
        return str(e)


def model_input(test_images: torch.Tensor) -> tuple[str, torch.Tensor]:
    """A test image, or the user's own (drawn, uploaded, photographed) prepared as (1, 28, 28) in [0, 1]."""
    kind = st.radio("Input", ("A test image", "My own image"), horizontal=True, key=f"{P}_input")
    if kind == "A test image":
        i = st.number_input("Test image #", 0, len(test_images) - 1, 0, key=f"{P}_idx")
        return f"test image {i}", test_images[i][None].float() / 255.0
    chosen = image_input(f"{P}_img")
    if chosen is None or chosen.picture is None:
        st.info("Draw, upload or photograph a piece of clothing.")
        return "an empty image", torch.zeros(1, 28, 28)
    return chosen.label, prepare_for_model(chosen.picture)
