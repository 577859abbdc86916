"""What every session of this server shares, made once per server by ``st.cache_resource``.

The dataset, the run manager, the decoded uploads and the bundled pretrained model. Shared by every user: never
modify what these return (the stores lock their own changes). Each browser's small stored values are
``ui.browser_store``'s, apart from this module's engine (and torch), which the home page does not need.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from PIL import Image

from playground import images
from playground.bounded_cache import BoundedCache
from playground.train.checkpoints import Checkpoint, load_checkpoint
from playground.train.data import DataNotFound, FashionMNIST, load_fashion_mnist
from playground.train.processes import read_apart
from playground.train.runs import RunManager
from ui.keys import STUDIO


@st.cache_resource(show_spinner="Loading FashionMNIST into memory (once per server)…")
def _load(download: bool) -> FashionMNIST:
    return load_fashion_mnist(download=download, read=read_apart)  # torchvision reads it, outside the server


def loaded() -> FashionMNIST | None:
    """The shared dataset, or None without a word when it is not found (for code that draws no page)."""
    try:
        return _load(False)
    except DataNotFound:
        return None


def dataset() -> FashionMNIST | None:
    """The shared dataset, or None after telling the user exactly how to get it (with a download button)."""
    try:
        return _load(False)
    except DataNotFound as e:
        st.error(str(e))
        if st.button("Download FashionMNIST (30 MB, needs internet)", key=f"{STUDIO.prefix}_download"):
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
    """One per server, set by the PLAYGROUND_* variables (PLAYGROUND_MAX_RUNS runs at once, PLAYGROUND_RUNS_DIR …)."""
    return RunManager.from_settings()


@st.cache_resource
def decoded_uploads() -> BoundedCache[Image.Image]:
    """Decoded uploads for every session, by content, bounded by bytes and age (one object each, never copied)."""
    return BoundedCache(images.CACHE_BYTES, images.CACHE_SECONDS, size=images.decoded_bytes)


@st.cache_resource(show_spinner=False)
def pretrained(path: Path) -> Checkpoint:
    """The bundled pretrained model at ``path``, read once per server."""
    return load_checkpoint(path.read_bytes())
