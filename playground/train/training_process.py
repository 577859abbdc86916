"""Inside a training process: ``train`` with its events sent to the server, Stop obeyed, weights saved as it goes.

``train_and_report`` is the part that does not care where it runs; ``playground.train.ray_runs`` runs it in a Ray actor.

Messages to the server (over ``playground.train.processes.Child``'s pipe): ``("events", [Step | Eval | Done |
Paused, …])`` in bundles at most every ``FLUSH_SECONDS``, then one of ``("result", bytes)``, ``("diverged", sentence)``
or ``("error", sentence)``. From the server, between steps: ``("stop",)``, ``("threads", n)``, ``("pause",)``,
``("resume",)`` and ``("step",)`` (while paused: train one batch, then wait again). A paused process blocks on its
pipe (no CPU), waking every ``PAUSE_WAKE_SECONDS`` to notice a server that has gone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import io
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from playground.settings import current
from playground.train.checkpoints import save_checkpoint
from playground.train.data import FashionMNIST
from playground.train.evaluate import Evaluation
from playground.train.loop import Diverged, Done, Eval, Step, TrainConfig, TrainResult, train
from playground.train.models import build_model, with_dropout
from playground.train.processes import send_or_give_up
from playground.train.run_store import atomic_write

FLUSH_SECONDS = 0.25  # step events go out in bundles at most this often
PAUSE_WAKE_SECONDS = 1.0  # a paused process's longest sleep between two looks at its pipe


@dataclass(frozen=True)
class Paused:
    """The process has stopped after step ``step`` (whose loss was ``loss``) and waits for the server's word."""

    step: int
    loss: float


class ServerGone(Exception):
    """The server closed the pipe or took nothing for too long: nobody is left to train for."""


def main(conn, spec: dict, data: FashionMNIST, config: TrainConfig, model_path: str | None) -> None:
    """Train and report; with ``model_path``, write a checkpoint there after each evaluation (atomically)."""
    gc.freeze()  # the objects inherited from the forkserver: a collection would touch (and so copy) all their pages
    yield_to_pages()

    def send(message: tuple) -> None:
        try:
            send_or_give_up(conn, message)
        except (OSError, TimeoutError):
            raise ServerGone from None

    def inbox(wait: float = 0.0) -> list[tuple]:
        messages = []
        try:
            if wait and not conn.poll(wait):  # blocks in the kernel: a paused run costs no CPU
                return messages
            while conn.poll():
                messages.append(conn.recv())
        except (EOFError, OSError):
            raise ServerGone from None
        return messages

    def save(checkpoint: bytes) -> None:
        """Measured here (torch.save, fsync, rename): 3.4 ms for the classic network (0.13 MB), 16 ms for Deeper
        (1.9 MB), against ~9 s and ~45 s per epoch of training with four evaluations each: ~0.15% of the run."""
        with contextlib.suppress(OSError):  # the server reports the folder's problem; training goes on
            atomic_write(Path(model_path), checkpoint)

    with contextlib.suppress(ServerGone):  # the server is gone: the last message is dropped, and the process ends
        send(train_and_report(spec, data, config, send, inbox, save if model_path else None))


def yield_to_pages() -> None:
    """Lower this process's priority by PLAYGROUND_TRAINING_NICE: when students' page loads and training runs want
    the same cores, the pages go first (a page waits on one request; a run loses the few milliseconds it took)."""
    with contextlib.suppress(OSError):  # not allowed here: train at the priority we have
        os.nice(current().training_nice)


def train_and_report(spec: dict, data: FashionMNIST, config: TrainConfig, send: Callable[[tuple], None],
                     inbox: Callable[[float], list[tuple]], save: Callable[[bytes], None] | None = None) -> tuple:
    """``train`` speaking this module's messages, wherever it runs (a training process, a Ray actor).

    Args:
        send: takes ``("events", [...])`` bundles; raises ``ServerGone`` when nobody listens any more.
        inbox: the control messages that came since it was last called (this module's docstring lists them);
            ``inbox(seconds)`` waits up to that long for one, without using the CPU.
        save: gets a checkpoint's bytes after each evaluation, so an interrupted run keeps what it had learned.

    Returns:
        The last message, to be sent once the events are out: ``("result", bytes)``, ``("diverged", sentence)``
        or ``("error", sentence)``.

    Raises:
        ServerGone: as ``send``.
    """
    bundle: list = []
    last = time.monotonic()
    history: dict[str, list] = {"step": [], "loss": [], "eval_step": [], "test_loss": [], "test_acc": []}
    trained_spec, stop, paused, steps_allowed = with_dropout(spec, config.dropout), False, False, 0

    def flush() -> None:
        nonlocal last
        if bundle:
            send(("events", bundle.copy()))
            bundle.clear()
        last = time.monotonic()

    def on_event(event: Step | Eval | Done | Paused) -> None:
        bundle.append(event)
        if isinstance(event, Step):
            history["step"].append(event.step), history["loss"].append(event.loss)
        elif isinstance(event, Eval):
            history["eval_step"].append(event.step), history["test_loss"].append(event.test_loss)
            history["test_acc"].append(event.test_accuracy)
        if not isinstance(event, Step) or time.monotonic() - last >= FLUSH_SECONDS:
            flush()

    def between_steps() -> bool:
        """Follow the server's messages: Stop, its share of the cores (it changes as other runs start and end), and
        Pause: wait here (Resume, Stop, or One step: let exactly one more batch through, then wait again)."""
        nonlocal stop, paused, steps_allowed
        messages, said = inbox(0.0), False
        while True:
            for message in messages:
                if message[0] == "stop":
                    stop = True
                elif message[0] == "threads" and message[1] != torch.get_num_threads():
                    torch.set_num_threads(message[1])
                elif message[0] in ("pause", "resume"):
                    paused, steps_allowed = message[0] == "pause", 0
                elif message[0] == "step" and paused:
                    steps_allowed += 1
            if stop or not paused:
                return stop
            if steps_allowed:
                steps_allowed -= 1
                return False
            if not said:  # tell the server where it stands, at once: the page shows that step's loss
                last = (history["step"][-1], history["loss"][-1]) if history["step"] else (0, math.nan)
                on_event(Paused(*last))
                flush()
                said = True
            messages = inbox(PAUSE_WAKE_SECONDS)

    def save_weights(model: torch.nn.Module) -> None:
        save(save_checkpoint(trained_spec, model, dataclasses.asdict(config), history))

    try:
        result = train(spec, data, config, on_event=on_event, should_stop=between_steps,
                       on_evaluated=save_weights if save else None)  # fmt: skip
        message = ("result", encode_result(result))
    except ServerGone:
        raise
    except Diverged as e:
        message = ("diverged", str(e))
    except Exception as e:
        message = ("error", f"{type(e).__name__}: {e}")
    flush()
    return message


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
