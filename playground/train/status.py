"""A training run's statuses, the consistent snapshot of it that the pages read, and why one cannot start (RunError).

Statuses (``Status``, a StrEnum: each equals its old string, so comparisons with strings keep working)::

    queued → starting → running → (stopping →) evaluating → finished | stopped
    running ⇄ paused → (stopping →) evaluating    paused: the process waits for Resume, One step (one batch) or Stop
    queued → stopped                        Stop while queued: the run leaves the queue, nothing trained
    starting … evaluating → failed          ``error`` says what happened (the process died, a bad network …)
    starting … evaluating → diverged        the loss became NaN or infinite: the run stopped itself, ``error``
                                            says at which step and what to change; the curve is kept, no model
    (active at a server restart) → interrupted   its curve and the weights of its last evaluation are kept

A paused run keeps its process and its slot among the runs training at once (it is still active).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from playground.train.loop import TrainConfig


class Status(StrEnum):
    QUEUED = "queued"
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    EVALUATING = "evaluating"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"
    DIVERGED = "diverged"
    INTERRUPTED = "interrupted"


ACTIVE = (Status.QUEUED, Status.STARTING, Status.RUNNING, Status.PAUSED, Status.STOPPING, Status.EVALUATING)
WITH_MODEL = (Status.FINISHED, Status.STOPPED, Status.INTERRUPTED)  # may have weights to inspect


def new_history(saved: dict | None = None) -> dict:
    """A run's curve as the pages read it: every key present, whatever ``saved`` (e.g. read from disk) lacks."""
    blank = {"step": [], "loss": [], "eval_step": [], "test_loss": [], "test_acc": [], "steps_per_epoch": 1.0}
    return {**blank, **(saved if isinstance(saved, dict) else {})}


class RunError(RuntimeError):
    """A run that cannot be started (the owner already has one going)."""


@dataclass(frozen=True)
class RunSnapshot:
    """A consistent copy of a run's state, safe to read from any thread."""

    id: str
    status: Status
    queue_position: int | None
    progress: float
    images_per_sec: float
    eta_seconds: float | None
    history: dict
    error: str | None
    accuracy: float | None
    config: TrainConfig = field(default_factory=TrainConfig)
    has_model: bool = False
    storage_error: str | None = None
    wait_seconds: float | None = None  # while queued: about how long until it starts
    name: str | None = None  # the name its owner gave it
    seconds: float | None = None  # training time, once it has ended with a model
    halted: tuple[int, float] | None = None  # paused: the step it stands at and that step's loss, once it has stopped
    stepped: tuple[int, float] | None = None  # the step "One step" trained last and its loss
