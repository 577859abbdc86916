"""Inside a training process: ``train`` with its events sent to the server, Stop obeyed, weights saved as it goes.

Messages to the server (over ``playground.processes.Child``'s pipe): ``("events", [Step | Eval | Done, …])``
in bundles at most every ``FLUSH_SECONDS``, then one of ``("result", bytes)``, ``("diverged", sentence)``
or ``("error", sentence)``. From the server, between steps: ``("stop",)`` and ``("threads", n)``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import io
import time
from pathlib import Path

import torch

from playground.checkpoints import save_checkpoint
from playground.data import FashionMNIST
from playground.evaluate import Evaluation
from playground.models import build_model, with_dropout
from playground.processes import send_or_give_up
from playground.run_store import atomic_write
from playground.train import Diverged, Done, Eval, Step, TrainConfig, TrainResult, train

FLUSH_SECONDS = 0.25  # step events go out in bundles at most this often


class _ServerGone(Exception):
    """The server closed the pipe or took nothing for too long: nobody is left to train for."""


def main(conn, spec: dict, data: FashionMNIST, config: TrainConfig, model_path: str | None) -> None:
    """Train and report; with ``model_path``, write a checkpoint there after each evaluation (atomically)."""
    gc.freeze()  # the objects inherited from the forkserver: a collection would touch (and so copy) all their pages
    bundle: list = []
    last = time.monotonic()
    history: dict[str, list] = {"step": [], "loss": [], "eval_step": [], "test_loss": [], "test_acc": []}
    trained_spec, stop = with_dropout(spec, config.dropout), False

    def flush() -> None:
        nonlocal last
        if bundle:
            try:
                send_or_give_up(conn, ("events", bundle.copy()))
            except (OSError, TimeoutError):
                raise _ServerGone from None
            bundle.clear()
        last = time.monotonic()

    def on_event(event: Step | Eval | Done) -> None:
        bundle.append(event)
        if isinstance(event, Step):
            history["step"].append(event.step), history["loss"].append(event.loss)
        elif isinstance(event, Eval):
            history["eval_step"].append(event.step), history["test_loss"].append(event.test_loss)
            history["test_acc"].append(event.test_accuracy)
        if not isinstance(event, Step) or time.monotonic() - last >= FLUSH_SECONDS:
            flush()

    def between_steps() -> bool:
        """Follow the server's messages: Stop, and its share of the cores (it changes as other runs start and end)."""
        nonlocal stop
        while conn.poll():
            try:
                message = conn.recv()
            except (EOFError, OSError):
                raise _ServerGone from None
            if message[0] == "stop":
                stop = True
            elif message[0] == "threads" and message[1] != torch.get_num_threads():
                torch.set_num_threads(message[1])
        return stop

    def save_weights(model: torch.nn.Module) -> None:
        """So a run interrupted by a server restart keeps what it had learned.

        Measured here (torch.save, fsync, rename): 3.4 ms for the classic network (0.13 MB), 16 ms for Deeper
        (1.9 MB), against ~9 s and ~45 s per epoch of training with four evaluations each: ~0.15% of the run.
        """
        with contextlib.suppress(OSError):  # the server reports the folder's problem; training goes on
            atomic_write(Path(model_path), save_checkpoint(trained_spec, model, dataclasses.asdict(config), history))

    try:
        result = train(spec, data, config, on_event=on_event, should_stop=between_steps,
                       on_evaluated=save_weights if model_path else None)  # fmt: skip
        message = ("result", encode_result(result))
    except _ServerGone:
        return
    except Diverged as e:
        message = ("diverged", str(e))
    except Exception as e:
        message = ("error", f"{type(e).__name__}: {e}")
    try:
        flush()
        send_or_give_up(conn, message)
    except (_ServerGone, OSError, TimeoutError):
        pass  # undeliverable: dropped, and the process ends


def encode_result(result: TrainResult) -> bytes:
    """The trained weights and the final evaluation as ``torch.save`` bytes (tensors only: loaded weights_only)."""
    ev, buf = result.evaluation, io.BytesIO()
    torch.save({"state_dict": {k: v.contiguous() for k, v in result.model.state_dict().items()},
                "history": result.history, "seconds": result.seconds, "images_per_sec": result.images_per_sec,
                "status": result.status, "loss": ev.loss, "accuracy": ev.accuracy, "per_class": ev.per_class,
                "confusion": ev.confusion, "predictions": ev.predictions}, buf)  # fmt: skip
    return buf.getvalue()


def decode_result(data: bytes, spec: dict, config: TrainConfig) -> TrainResult:
    """Rebuild the trained model and its evaluation from ``encode_result``'s bytes."""
    r = torch.load(io.BytesIO(data), weights_only=True)
    model = build_model(with_dropout(spec, config.dropout))
    model.load_state_dict(r["state_dict"])
    ev = Evaluation(r["loss"], r["accuracy"], r["per_class"], r["confusion"], r["predictions"])
    return TrainResult(model.eval(), r["history"], ev, r["seconds"], r["images_per_sec"], r["status"], config)
