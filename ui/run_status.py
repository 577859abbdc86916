"""The Training studio's status line for one run, in every state a run can be in (see ``playground.train.run``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import streamlit as st

from playground.train.runs import RunSnapshot, Status

INSPECT_PAGE = "pages/3_Inspect_model.py"


@dataclass(frozen=True)
class StatusLine:
    """What to draw: ``kind`` is progress, info, success, warning or error; ``progress`` only for progress."""

    kind: str
    text: str
    progress: float | None = None
    inspect: bool = False  # offer the Inspect page (the run has weights)


def _finite(x) -> bool:
    return isinstance(x, int | float) and math.isfinite(x)


def _percent(x, digits: int = 0) -> str:
    return f"{x:.{digits}%}" if _finite(x) else "—"


def _rate(x) -> str:
    return f"{x:,.0f} images/s" if _finite(x) else "— images/s"


def _about(seconds) -> str:
    if not _finite(seconds) or seconds < 0:
        return ""
    return f"about {seconds:,.0f} s" if seconds < 120 else f"about {seconds / 60:,.0f} min"


def _left(seconds) -> str:
    return f", {_about(seconds)} left" if _about(seconds) else ""


def describe(now: RunSnapshot, number: int, n_test: int) -> StatusLine:
    """The status line of run ``number`` (1 for an owner's first) whose final evaluation uses ``n_test`` images.

    Pure, and total: any status, any numbers (None, NaN, ±inf, huge or tiny) give a line.
    """
    done = min(max(now.progress, 0.0), 1.0) if _finite(now.progress) else 0.0
    status = now.status
    if status == Status.QUEUED:
        where = f": position {now.queue_position} in the queue" if now.queue_position else ""
        about = _about(now.wait_seconds) if now.wait_seconds else ""  # 0 s: a slot is free, it starts now
        when = f"; it should start in {about}" if about else ""
        return StatusLine("info", f"Run {number} is waiting for a free slot{where}{when}.")
    if status == Status.STARTING:
        return StatusLine("info", f"Run {number} is starting its training process…")
    if status == Status.RUNNING:
        text = f"Running: {_percent(done)} · {_rate(now.images_per_sec)}{_left(now.eta_seconds)}"
        return StatusLine("progress", text, done)
    if status == Status.PAUSED:  # it keeps its process and its slot: say so, so a paused run is not forgotten
        at = (f"step {now.halted[0]:,}, loss {now.halted[1]:.4f}" if now.halted and _finite(now.halted[1])
              else "finishing the current step…")  # fmt: skip
        text = (f"Paused at {_percent(done)} ({at}). A paused run keeps its place among the runs this server trains "
                f"at once: Resume it, or Stop it to free the place.")  # fmt: skip
        return StatusLine("progress", text, done)
    if status == Status.STOPPING:  # no time estimate: it will stop within a step, not in the time the plan had left
        return StatusLine("progress", f"Stopping at {_percent(done)}: finishing the current step…", done)
    if status == Status.EVALUATING:
        return StatusLine("info", f"Training has stopped; measuring accuracy on all {n_test:,} test images…")
    if status == Status.FAILED:
        return StatusLine("error", f"Run {number} failed. {now.error or 'No reason was given.'}")
    if status == Status.DIVERGED:
        return StatusLine("warning", f"Run {number} stopped itself. {now.error or ''} Its curve up to there is kept.")
    if status == Status.INTERRUPTED:
        kept = "its curve and the weights of its last evaluation are kept" if now.has_model else "its curve is kept"
        text = f"Run {number} was interrupted at {_percent(done)} when the server stopped; {kept}."
        return StatusLine("warning", text, inspect=now.has_model)
    if now.accuracy is None:  # stopped while queued: nothing was trained
        return StatusLine("info", f"Run {number} was cancelled before it started training.")
    text = (f"Run {number} {status}: test accuracy **{_percent(now.accuracy, 2)}** on {n_test:,} test images "
            f"({_rate(now.images_per_sec)}).")  # fmt: skip
    return StatusLine("success", text, inspect=now.has_model)


def run_status(now: RunSnapshot, number: int, n_test: int) -> None:
    """Draw ``describe``'s line, the Inspect link when the run has weights, and any trouble saving the run."""
    line = describe(now, number, n_test)
    if line.kind == "progress":
        st.progress(line.progress, text=line.text)
    else:
        getattr(st, line.kind)(line.text)
    if line.inspect:
        st.page_link(INSPECT_PAGE, label="Inspect the trained model", icon="🔬")
    if now.storage_error:
        st.warning(now.storage_error)
