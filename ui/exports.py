"""Exports for slides and notebooks: the explorer's GIF and code, the studio's network code, run downloads.

Each piece draws into the current container; the engine makes every file (``render.animation``,
``explorer.code``, ``train.code``, ``train.metrics``, ``render.curve_picture``, ``render.confusion_picture``).
"""

from __future__ import annotations

import dataclasses
import hashlib

import streamlit as st
import torch

from playground.explorer import code as explorer_code
from playground.explorer.code import LITERAL_LIMIT, layer_code, transposed_code
from playground.explorer.conv import Stages
from playground.explorer.transposed import TransposedStages
from playground.render import animation
from playground.render.confusion_picture import confusion_picture
from playground.render.curve_picture import curves_picture
from playground.train import code as train_code
from playground.train.code import network_code
from playground.train.data import CLASSES
from playground.train.loop import TrainConfig
from playground.train.metrics import metrics_csv
from ui.explorer_controls import Settings
from ui.keys import EXPLORER, INSPECT, STUDIO

E, S, INS = EXPLORER.prefix, STUDIO.prefix, INSPECT.prefix
GIF_NAME, MP4_NAME = "cnn-playground-convolution.gif", "cnn-playground-convolution.mp4"
# What each kind of animation is: its maker, file name, type, and the name the page gives it.
MOVIES = {"gif": (animation.conv_animation, GIF_NAME, "image/gif", "GIF"),
          "mp4": (animation.conv_video, MP4_NAME, "video/mp4", "MP4")}  # fmt: skip
LAYER_NAME, NETWORK_NAME = explorer_code.FILE_NAME, train_code.FILE_NAME
CURVES_NAME, METRICS_NAME, CONFUSION_NAME = "training-curves.png", "training-metrics.csv", "confusion-matrix.png"
PY_MIME = "text/x-python"


def _fingerprint(image: torch.Tensor, settings: Settings, channel: int) -> str:
    """Which settings a made GIF belongs to: a GIF made for other settings is not offered."""
    t = image.detach().contiguous()
    digest = hashlib.sha256(t.numpy().tobytes()).hexdigest()
    return f"{digest}|{tuple(t.shape)}|{settings.conv}|{settings.transposed}|{channel}"


def _make(kind: str, stages: Stages | TransposedStages, channel: int, key: str) -> None:
    """Make the GIF or the MP4 (``kind``) with a progress bar (400 frames take a few seconds) and keep it for this
    browser's session; a video that cannot be made says why."""
    make = MOVIES[kind][0]
    bar = st.progress(0.0, text="Drawing the frames…")

    def tick(done: int, total: int) -> None:
        if done == total or done % 10 == 0:  # each update is a message to the browser
            bar.progress(done / total, text=f"Drawing frame {done} of {total}…")

    try:
        st.session_state[f"{E}_{kind}"] = (key, make(stages, channel, on_frame=tick))
    except ImportError:  # (the GIF needs only Pillow)
        st.warning("An MP4 needs PyAV, which this server lacks (`pip install av`): the GIF works without it.")
    except Exception as e:  # (PyAV's errors have no builtin type in common: say it, keep the page)
        if kind != "mp4":
            raise
        st.warning(f"The MP4 could not be made ({type(e).__name__}: {e}). The GIF shows the same.")
    finally:
        bar.empty()


def _movie(kind: str, stages: Stages | TransposedStages, channel: int, key: str) -> None:
    """The button that makes a GIF or an MP4 of the current settings, then its download."""
    _, name, mime, label = MOVIES[kind]
    made = st.session_state.get(f"{E}_{kind}")
    if st.button(f"Make the {label}", key=f"{E}_{kind}_make"):
        _make(kind, stages, channel, key)
        made = st.session_state.get(f"{E}_{kind}")
    if made is not None and made[0] == key:
        st.download_button(f"Download the {label}", made[1], file_name=name, mime=mime, key=f"{E}_{kind}_dl")
    elif made is not None:
        st.caption(f"The settings changed since the last {label}: make it again.")


def explorer_exports(image: torch.Tensor, settings: Settings, stages: Stages | TransposedStages, channel: int,
                     source: str) -> None:  # fmt: skip
    """The "Export" expander: the kernel sliding as a GIF (made on request) and the layer as PyTorch code.

    ``stages`` is the convolution's (``run_stages``) or, for the transposed kind, ``run_transposed``'s.
    """
    with st.expander("Export for slides and notebooks: animated GIF or MP4, PyTorch code", key=f"{E}_export"):
        plan = animation.plan(stages, channel)
        spread = " spread out with zeros (how conv_arithmetic draws a transposed convolution)"
        st.markdown(f"**The kernel sliding over the input{spread if settings.transposed else ''}**, as an animated "
                    f"GIF or an MP4 video: {plan.words()}")  # fmt: skip
        key = _fingerprint(image, settings, channel)
        gif, mp4 = st.columns(2)
        with gif:
            _movie("gif", stages, channel, key)
        with mp4:
            _movie("mp4", stages, channel, key)
        if settings.transposed is None:
            code = layer_code(image, settings.conv, settings.act, settings.pool, source)
            _layer_code(code, image, "pad, convolve with your kernel and bias, activate, pool")
        else:
            code = transposed_code(image, settings.transposed, settings.act, source)
            _layer_code(code, image, "a transposed convolution with your kernel and bias, then the activation")


def _layer_code(code: str, image: torch.Tensor, what: str) -> None:
    """The explorer's layer script: what it does, the code to copy, and its download."""
    st.markdown(
        f"**The layer in PyTorch**: {what}. It runs as it is and prints every stage's shape"
        + ("." if image.numel() <= LITERAL_LIMIT else
           f"; your input has more than {LITERAL_LIMIT:,} numbers, so the script says how to load an image.")
    )  # fmt: skip
    st.code(code, language="python")
    st.download_button("Download the code (.py)", code, file_name=LAYER_NAME, mime=PY_MIME, key=f"{E}_code_dl")


def network_exports(spec: dict, config: TrainConfig | None) -> None:
    """The studio's network and training settings as a runnable script, in an expander."""
    with st.expander("The network in PyTorch code (for a notebook)", key=f"{S}_code"):
        code = network_code(spec, config)
        st.caption(f"It runs as it is: `python {NETWORK_NAME}` prints each layer's output shape; "
                   "`--train` downloads FashionMNIST with torchvision and trains with these settings.")  # fmt: skip
        st.code(code, language="python")
        st.download_button("Download the code (.py)", code, file_name=NETWORK_NAME, mime=PY_MIME, key=f"{S}_code_dl")


def run_downloads(runs: list[tuple[str, dict]], config: TrainConfig, accuracy: float | None, log_scale: bool) -> None:
    """The ended runs' curves as a PNG and the newest run's metrics as CSV, side by side."""
    a, b, _ = st.columns([1, 1, 2])
    curves = curves_picture(runs, log_scale, config.epochs).data
    a.download_button("Curves (.png)", curves, file_name=CURVES_NAME, mime="image/png", key=f"{S}_curves_dl")
    metrics = metrics_csv(runs[-1][1], dataclasses.asdict(config), accuracy)
    b.download_button(f"Metrics of {runs[-1][0]} (.csv)", metrics, file_name=METRICS_NAME, mime="text/csv",
                      key=f"{S}_metrics_dl")  # fmt: skip


def model_downloads(confusion: torch.Tensor | None, history: dict, config: dict) -> None:
    """Inspect's downloads beside the confusion matrix: the matrix as a PNG, the model's training metrics as CSV."""
    a, b = st.columns(2)
    if confusion is not None:
        png = lambda: confusion_picture(confusion, CLASSES).data  # noqa: E731 (drawn when clicked)
        a.download_button("Confusion matrix (.png)", png, file_name=CONFUSION_NAME, mime="image/png",
                          key=f"{INS}_confusion_dl")  # fmt: skip
    if history.get("step"):
        b.download_button("Training metrics (.csv)", metrics_csv(history, config), file_name=METRICS_NAME,
                          mime="text/csv", key=f"{INS}_metrics_dl")  # fmt: skip
