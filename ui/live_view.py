"""Watch it learn: the studio's newest run as a network at work, redrawn while it trains.

The first layer's filters and one test image through every layer, from the weights the run writes after each
evaluation anyway (so a restart keeps them): the training process does nothing more for this view; the server
reads the newest checkpoint and draws two pictures every REDRAW_SECONDS.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch
from torch import nn

from playground.render.network_picture import filters_picture, network_picture
from playground.render.pictures import Picture
from playground.train.checkpoints import Checkpoint, CheckpointError, load_checkpoint
from playground.train.evaluate import to_input
from playground.train.run import Run
from playground.train.runs import ACTIVE, RunManager
from ui.keys import KEEP, STUDIO
from ui.network_view import layer_maps
from ui.pictures import show_picture

P = STUDIO.prefix
IMAGE = 0  # the test image shown going through the network
# While a run trains, the studio redraws this view this often (in a fragment of its own, apart from the progress line's
# faster one): each redraw costs the server a forward pass and two pictures, and the browser ~0.1 s of Streamlit's
# passes over the page, on the cores the run trains on (bench/bench_live.py measures the page's cost).
REDRAW_SECONDS = 10.0
WATCH_DEFAULT = True  # the toggle's value until it is first switched


@st.cache_resource(max_entries=4, show_spinner=False)  # keyed on the run and the weights' version alone
def _pictures(key: str, _data: bytes | None, _ckpt: Checkpoint | None, _image: torch.Tensor):
    """(filters picture or None, network picture or None), or the sentence saying why there is none."""
    try:
        ckpt = _ckpt or load_checkpoint(_data)
    except CheckpointError as e:  # written by a newer or broken version: say so, the run goes on
        return str(e)
    model = ckpt.model().eval()
    x = to_input(_image[None])[0]
    maps = layer_maps(model, ckpt.spec, x)
    first = next((m for m in model if isinstance(m, nn.Conv2d)), None)
    filters: Picture | None = filters_picture(first.weight) if first is not None else None
    return filters, network_picture(x[0], [(name, t) for name, t, _ in maps]) if maps else None


@dataclass(frozen=True)
class Watched:
    """What the live view draws: the pictures and the words that say when they are from, or just a sentence."""

    when: str = ""
    key: str = ""  # names the weights drawn: it changes with each evaluation
    filters: Picture | None = None
    network: Picture | None = None
    caption: str = ""  # no pictures yet: why
    warning: str = ""  # the weights cannot be read: why


def watching() -> bool:
    """The toggle's value, as the last run left it (it is drawn after the work that depends on it)."""
    return bool(st.session_state.get(f"{P}_watch", WATCH_DEFAULT))


def watched(manager: RunManager, runs: list[Run], test_images: torch.Tensor, on: bool = True) -> Watched | None:
    """The newest run's filters and test image 0 through its layers, as they are now (None: nothing to show).

    All the work of the live view, done before it draws anything (see ``watch``). ``on``: the toggle's value.
    """
    if not on or not runs:
        return None
    run, now = runs[-1], runs[-1].snapshot()
    if now.status in ACTIVE:
        got = manager.evaluated(run)
        if got is None:
            return Watched(caption="The network appears here after the run's first evaluation.")
        (stamp, data), ckpt = got, None
        steps = now.history.get("eval_step") or []
        when = f"as of its evaluation at step {steps[-1]:,}" if steps else "as of its latest evaluation"
        key = f"{run.id}|{stamp}"
    else:
        ckpt = run.checkpoint()
        if ckpt is None:  # failed before its first evaluation, or its weights are gone
            return None
        when, key, data = "trained", f"{run.id}|final", None
    drawn = _pictures(key, data, ckpt, test_images[IMAGE])
    if isinstance(drawn, str):
        return Watched(warning=drawn)
    return Watched(when, key, *drawn)


def watch_toggle() -> bool:
    return st.toggle("Watch it learn: the first layer's filters and a test image through every layer, as a run trains",
                   value=WATCH_DEFAULT, key=f"{P}_watch", persist_state=KEEP)  # fmt: skip


def picture_caption(view: Watched) -> str:
    return (f"The newest run, {view.when}: its first layer's filters (red positive, blue negative) and test image "
            f"{IMAGE} through every layer, four maps a layer.")  # fmt: skip


def watch(view: Watched | None) -> None:
    """Under the curves: the toggle, then ``watched``'s pictures."""
    if not watch_toggle() or view is None:
        return
    if view.caption:
        st.caption(view.caption)
        return
    if view.warning:
        st.warning(view.warning)
        return
    st.caption(picture_caption(view))
    if view.filters is not None:
        show_picture(view.filters, key=f"{P}_live_filters")
    if view.network is not None:
        show_picture(view.network, key=f"{P}_live_network")
