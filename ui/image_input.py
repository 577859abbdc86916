"""The image chooser: draw, upload, photograph, pick a sample or type a number grid.

What the user chose outlives the page: a drawing is kept per browser (so a reload brings it
back), a typed grid is part of the page's link, and the last upload or photo stays in use for the
session (a link or a reload cannot carry it: the page says so).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch
from PIL import Image

from playground import images
from playground.explorer import samples
from playground.limits import MAX_UPLOAD_MB
from ui.browser_store import browser_store
from ui.keys import KEEP
from ui.matrix_editor import matrix_editor
from ui.server import decoded_uploads
from ui.state import browser_id
from ui.text import plain

SOURCES = ("Sample", "Draw", "Upload", "Camera", "Number grid")
GRID_SIDES = (5, 12)
CANVAS = 280  # the drawing square, in pixels


@dataclass(frozen=True, eq=False)
class Chosen:
    """What the user picked: a picture to prepare, or an exact grid of numbers (1, H, W)."""

    label: str
    picture: Image.Image | None = None
    grid: torch.Tensor | None = None


def grid_values(n: int, seed: int) -> tuple[tuple[float, ...], ...]:
    """A random n×n grid of whole numbers 0..9 (the number grid's starting values)."""
    g = torch.Generator().manual_seed(seed)
    return tuple(tuple(float(v) for v in row) for row in torch.randint(0, 10, (n, n), generator=g).tolist())


def _decode(data: bytes) -> Image.Image:
    return decoded_uploads().get(hashlib.sha256(data).digest(), lambda: images.load_image(data))


def _from_bytes(data: bytes, label: str, prefix: str) -> Chosen | None:
    try:
        picture = _decode(data)
    except images.ImageError as e:
        st.error(f"{e} The previous image is still in use.")
        return st.session_state.get(f"{prefix}_last")
    return Chosen(label, picture=picture)


def _strokes(rgba: np.ndarray) -> np.ndarray:
    """The canvas's RGBA strokes as gray levels 0..255 over black, (H, W) uint8."""
    return np.asarray(images.canvas_to_image(rgba).convert("L"))


def _png(gray: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(gray, "L").save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _clear_drawing(prefix: str) -> None:
    browser_store().put(browser_id(), f"{prefix}_drawing", None, 0)
    st.session_state[f"{prefix}_canvas_gen"] = st.session_state.get(f"{prefix}_canvas_gen", 0) + 1


def _drawn_image(prefix: str) -> Chosen:
    """The drawing square. What was drawn before (on another page, before a reload) is its background."""
    from streamlit_drawable_canvas import st_canvas  # imported here: it needs a running Streamlit app

    ss, store, who = st.session_state, browser_store(), browser_id()
    brush = st.slider("Brush size", 2, 40, key=f"{prefix}_brush", persist_state=KEEP)
    generation = ss.setdefault(f"{prefix}_canvas_gen", 0)
    key = f"{prefix}_canvas_{generation}"
    if key not in ss:  # a fresh canvas: it starts from the drawing kept for this browser
        ss[f"{key}_background"] = store.get(who, f"{prefix}_drawing")
    background = ss.get(f"{key}_background")
    result = st_canvas(
        stroke_width=brush,
        stroke_color="#FFFFFF",
        background_color="#000000",
        background_image=background,
        height=CANVAS,
        width=CANVAS,
        drawing_mode="freedraw",
        return_image_data=True,
        key=key,
    )
    st.button("Clear drawing", key=f"{prefix}_clear", on_click=_clear_drawing, args=(prefix,))
    drawn = _strokes(result.image_data) if result.image_data is not None else np.zeros((CANVAS, CANVAS), np.uint8)
    if background is not None:
        kept = np.asarray(Image.open(io.BytesIO(background)).convert("L").resize((CANVAS, CANVAS)))
        drawn = np.maximum(drawn, kept)
    if not drawn.any():
        st.info("Draw on the black square with the mouse or a finger: light strokes on dark, like FashionMNIST.")
    elif result.image_data is not None and result.image_data[..., 3].any():
        png = _png(drawn)  # ~5 KB: kept per browser, so the drawing survives a page switch and a reload
        if png != store.get(who, f"{prefix}_drawing"):
            store.put(who, f"{prefix}_drawing", png, len(png))
    return Chosen("your drawing", picture=Image.fromarray(drawn, "L").convert("RGB"))


def _resize_grid(prefix: str) -> None:
    ss = st.session_state
    n, old = ss[f"{prefix}_grid_n"], ss[f"{prefix}_grid"]
    fresh = grid_values(n, ss.get(f"{prefix}_grid_seed", 0))
    ss[f"{prefix}_grid"] = tuple(
        tuple(old[i][j] if i < len(old) and j < len(old) else fresh[i][j] for j in range(n)) for i in range(n)
    )


def _randomise(prefix: str) -> None:
    ss = st.session_state
    ss[f"{prefix}_grid_seed"] = ss.get(f"{prefix}_grid_seed", 0) + 1
    ss[f"{prefix}_grid"] = grid_values(ss[f"{prefix}_grid_n"], ss[f"{prefix}_grid_seed"])


def _parse_grid(rows) -> tuple[tuple[float, ...], ...]:
    try:
        t = images.grid_to_tensor(rows)
    except images.ImageError as e:
        raise ValueError(str(e)) from None
    return tuple(tuple(float(v) for v in row) for row in t[0].double().tolist())


def _grid(prefix: str) -> Chosen:
    ss = st.session_state
    ss[f"{prefix}_grid_n"] = len(ss[f"{prefix}_grid"])  # the grid (perhaps from a link) decides the size
    st.slider("Grid size", *GRID_SIDES, key=f"{prefix}_grid_n", on_change=_resize_grid, args=(prefix,))
    st.button("Randomise", key=f"{prefix}_grid_random", on_click=_randomise, args=(prefix,))
    values = ss[f"{prefix}_grid"]
    matrix_editor(f"{prefix}_gridedit", values, parse=_parse_grid,
                  on_valid=lambda v: ss.__setitem__(f"{prefix}_grid", v))  # fmt: skip
    n = len(values)
    return Chosen(f"a {n}×{n} number grid", grid=torch.tensor(values, dtype=torch.float32)[None])


def image_input(prefix: str) -> Chosen | None:
    """Widgets for choosing an image; returns the choice (the last good one after a bad upload).

    Session keys ``{prefix}_source``, ``_sample``, ``_brush`` and ``_grid`` must be set (by ``ui.state.restore``).
    """
    source = st.radio("Image source", SOURCES, horizontal=True, key=f"{prefix}_source", persist_state=KEEP)
    chosen: Chosen | None
    if source == "Sample":
        name = st.selectbox("Sample", list(samples.SAMPLES), key=f"{prefix}_sample", persist_state=KEEP)
        chosen = Chosen(name, picture=samples.load_sample(name))
    elif source == "Draw":
        chosen = _drawn_image(prefix)
    elif source in ("Upload", "Camera"):
        if source == "Upload":
            up = st.file_uploader(f"Upload an image (PNG, JPEG, GIF, WebP, BMP, TIFF; up to {MAX_UPLOAD_MB} MB)",
                                  key=f"{prefix}_upload",
                                  type=["png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff"])  # fmt: skip
            label = up.name if up else None
        else:
            up = st.camera_input("Take a photo", key=f"{prefix}_camera")
            label = "your photo"
        if up is not None:
            chosen = _from_bytes(up.getvalue(), label, prefix)
            st.session_state[f"{prefix}_last_file"] = chosen
        else:
            chosen = st.session_state.get(f"{prefix}_last_file")
            if chosen is not None:
                st.caption(f"Still using {plain(chosen.label)}, chosen earlier in this session.")
        st.caption("An upload or a photo stays for this session only: a link or a reload cannot carry it.")
    else:
        chosen = _grid(prefix)
    if chosen is not None:
        st.session_state[f"{prefix}_last"] = chosen
    return chosen
