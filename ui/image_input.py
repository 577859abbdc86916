"""The image chooser: draw, upload, photograph, pick a sample or type a number grid."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st
import torch
from PIL import Image

from playground import images, samples
from playground.bounded_cache import BoundedCache
from playground.limits import MAX_UPLOAD_MB

SOURCES = ("Sample", "Draw", "Upload", "Camera", "Number grid")


@dataclass(frozen=True, eq=False)
class Chosen:
    """What the user picked: a picture to prepare, or an exact grid of numbers (1, H, W)."""

    label: str
    picture: Image.Image | None = None
    grid: torch.Tensor | None = None


@st.cache_resource
def _decoded() -> BoundedCache[Image.Image]:
    """Decoded uploads for every session, by content, bounded by bytes and age (one object each, never copied)."""
    return BoundedCache(images.CACHE_BYTES, images.CACHE_SECONDS, size=images.decoded_bytes)


def _decode(data: bytes) -> Image.Image:
    return _decoded().get(hashlib.sha256(data).digest(), lambda: images.load_image(data))


def _from_bytes(data: bytes, label: str, prefix: str) -> Chosen | None:
    try:
        picture = _decode(data)
    except images.ImageError as e:
        st.error(f"{e} The previous image is still in use.")
        return st.session_state.get(f"{prefix}_last")
    return Chosen(label, picture=picture)


def _canvas(prefix: str) -> Chosen | None:
    from streamlit_drawable_canvas import st_canvas  # imported here: it needs a running Streamlit app

    brush = st.slider("Brush size", 2, 40, 14, key=f"{prefix}_brush")
    generation = st.session_state.setdefault(f"{prefix}_canvas_gen", 0)
    result = st_canvas(
        stroke_width=brush,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=280,
        width=280,
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"{prefix}_canvas_{generation}",
    )
    if st.button("Clear drawing", key=f"{prefix}_clear"):
        st.session_state[f"{prefix}_canvas_gen"] = generation + 1
        st.rerun()
    data = result.image_data if result is not None else None
    if data is None or not np.asarray(data)[..., :3].any():
        st.info("Draw on the black square with the mouse or a finger: light strokes on dark, like FashionMNIST.")
        data = np.zeros((280, 280, 4), dtype=np.uint8)
    return Chosen("your drawing", picture=images.canvas_to_image(np.asarray(data)))


def _grid(prefix: str) -> Chosen | None:
    n = st.slider("Grid size", 5, 12, 6, key=f"{prefix}_grid_n")
    seed = st.session_state.setdefault(f"{prefix}_grid_seed", 0)
    if st.button("Randomise", key=f"{prefix}_grid_random"):
        st.session_state[f"{prefix}_grid_seed"] = seed = seed + 1
    start = torch.randint(0, 10, (n, n), generator=torch.Generator().manual_seed(seed)).numpy()
    edited = st.data_editor(
        pd.DataFrame(start, columns=[str(i) for i in range(n)]),
        key=f"{prefix}_grid_{n}_{seed}",
        hide_index=False,
        width="stretch",
    )
    try:
        grid = images.grid_to_tensor(edited.to_numpy().tolist())
    except images.ImageError as e:
        st.error(str(e))
        return st.session_state.get(f"{prefix}_last")
    return Chosen(f"a {n}×{n} number grid", grid=grid)


def image_input(prefix: str) -> Chosen | None:
    """Widgets for choosing an image; returns the choice (the last good one after a bad upload)."""
    source = st.radio("Image source", SOURCES, horizontal=True, key=f"{prefix}_source")
    chosen: Chosen | None
    if source == "Sample":
        name = st.selectbox("Sample", list(samples.SAMPLES), key=f"{prefix}_sample")
        chosen = Chosen(name, picture=samples.load_sample(name))
    elif source == "Draw":
        chosen = _canvas(prefix)
    elif source == "Upload":
        up = st.file_uploader(
            f"Upload an image (PNG, JPEG, GIF, WebP, BMP, TIFF; up to {MAX_UPLOAD_MB} MB)",
            key=f"{prefix}_upload",
            type=["png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff"],
        )
        chosen = _from_bytes(up.getvalue(), up.name, prefix) if up else st.session_state.get(f"{prefix}_last")
    elif source == "Camera":
        shot = st.camera_input("Take a photo", key=f"{prefix}_camera")
        chosen = _from_bytes(shot.getvalue(), "your photo", prefix) if shot else st.session_state.get(f"{prefix}_last")
    else:
        chosen = _grid(prefix)
    if chosen is not None:
        st.session_state[f"{prefix}_last"] = chosen
    return chosen
