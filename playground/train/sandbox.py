"""Evaluating a network on the test images apart from the server: a child process with a memory and a time budget.

An uploaded checkpoint can describe a small but slow network (a 3.7 KB file with padding 137 took the
server 66 s and 2.8 GB). Here the child is forked from the run machinery's forkserver
(``playground.train.processes.CTX``), caps its own address space (``RLIMIT_AS``) at what it starts with plus
the memory budget and its CPU time (``RLIMIT_CPU``, so it ends even if the server dies), evaluates in
batches sized to fit that budget, and is killed when the time budget is over. A network whose
estimated time is already over the budget is refused without starting. The child answers over a
pipe of its own: only ``CTX`` and ``PROCESS_PREFIX`` are borrowed from the run machinery.
"""

from __future__ import annotations

import contextlib
import io
import math
import resource
import signal
import time
from multiprocessing.connection import wait

import torch

from playground.settings import current
from playground.train.budget import evaluation_seconds
from playground.train.evaluate import Evaluation, evaluate
from playground.train.models import build_model, summarize
from playground.train.processes import CTX, PROCESS_PREFIX

BATCH = 256  # as playground.train.evaluate: as fast as larger batches here, when the budget allows it
EVAL_BYTES_PER_ACTIVATION = 8  # inference keeps about two layers' outputs; a layer's may be all of them


class EvaluationRefused(RuntimeError):
    """The evaluation was refused or stopped by its budget; the message says why, in a sentence."""


def batch_for(activations: int, memory_mb: int) -> int:
    """Images per batch so that a batch's activations take at most half the memory budget (at least 1)."""
    per_image = max(1, activations) * EVAL_BYTES_PER_ACTIVATION
    return max(1, min(BATCH, memory_mb * 2**20 // 2 // per_image))


def evaluate_apart(
    spec: dict,
    state_dict: dict,
    images: torch.Tensor,
    labels: torch.Tensor,
    memory_mb: int | None = None,
    seconds: float | None = None,
) -> Evaluation:
    """``evaluate`` the network ``spec`` with weights ``state_dict`` in a child process, within budgets.

    Args:
        spec, state_dict: the network, already checked (``playground.train.checkpoints.load_checkpoint``).
        images: uint8 (N, 28, 28) test images; labels: int64 (N,).
        memory_mb: memory the child may add to what it starts with (default: ``PLAYGROUND_EVAL_MB``).
        seconds: time the evaluation may take (default: ``PLAYGROUND_EVAL_SECONDS``).

    Raises:
        EvaluationRefused: the network is impossible, its estimated time is over the budget, or the child
            ran out of its memory or time, or failed.
    """
    settings = current()
    memory_mb = memory_mb or settings.eval_mb
    seconds = seconds or settings.eval_seconds
    summary = summarize(spec)
    if not summary.ok:
        raise EvaluationRefused(f"This network cannot be built. {summary.error}")
    n = len(labels)
    estimate = evaluation_seconds(summary, n)
    if estimate > seconds:
        raise EvaluationRefused(
            f"Evaluating this network on the {n:,} test images would take about {estimate:,.0f} s "
            f"({summary.total_macs:,} multiply-adds per image), over this server's limit of {seconds:,.0f} s."
        )
    ours, theirs = CTX.Pipe(duplex=False)
    args = (spec, state_dict, images, labels, batch_for(summary.activations, memory_mb), memory_mb, seconds, theirs)
    process = CTX.Process(target=_child, args=args, daemon=True, name=PROCESS_PREFIX + "evaluate")
    try:
        process.start()
        theirs.close()  # the child holds its own end: ours reads EOF as soon as the child is gone
        answer = _answer(ours, process, time.monotonic() + seconds)
    finally:
        if process.pid is not None:  # started: make sure it is gone
            process.kill()
            process.join(timeout=5)
            if process.exitcode is not None:
                process.close()  # its sentinel's descriptor now, not whenever the object is collected
        theirs.close()
        ours.close()
    if answer is None:
        raise EvaluationRefused(
            f"Evaluating this network on the {n:,} test images took over {seconds:,.0f} s, this server's limit: "
            "it was stopped."
        )
    kind, payload = answer
    if kind == "error":
        raise EvaluationRefused(payload)
    r = torch.load(io.BytesIO(payload), weights_only=True)
    return Evaluation(r["loss"], r["accuracy"], r["per_class"], r["confusion"], r["predictions"])


def _answer(conn, process, deadline: float) -> tuple[str, object] | None:
    """The child's one message, a ("error", sentence) if it died without one, or None when the deadline passed."""
    if not wait([conn, process.sentinel], timeout=max(0.0, deadline - time.monotonic())):
        return None
    try:
        return conn.recv()  # a message sent just before the child exited is still read
    except (EOFError, OSError):
        process.join(timeout=5)
        if process.exitcode == -signal.SIGXCPU:  # over its CPU time, which is over the time budget
            return None
        return "error", f"The evaluation process ended unexpectedly (exit code {process.exitcode})."


def _limit(extra_mb: int, seconds: float) -> None:
    """Cap this process's address space at its present size plus ``extra_mb`` (past it, allocations fail), and its
    CPU time at ``seconds`` on every core torch uses, plus a margin (past it, the kernel ends it)."""
    with open("/proc/self/status") as f:
        size_kb = next(int(line.split()[1]) for line in f if line.startswith("VmSize:"))
    limit = size_kb * 1024 + extra_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    cpu = math.ceil(seconds * torch.get_num_threads()) + 10
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))


def _child(spec, state_dict, images, labels, batch, memory_mb, seconds, out) -> None:
    try:
        _limit(memory_mb, seconds)
        model = build_model(spec)
        model.load_state_dict(state_dict)
        ev = evaluate(model, images, labels, batch_size=batch)
        buf = io.BytesIO()
        torch.save({"loss": ev.loss, "accuracy": ev.accuracy, "per_class": ev.per_class, "confusion": ev.confusion,
                    "predictions": ev.predictions}, buf)  # fmt: skip
        message = ("result", buf.getvalue())
    except MemoryError:
        message = ("error", f"Evaluating this network needs more than this server's {memory_mb:,} MB for it.")
    except RuntimeError as e:
        if "alloc" in str(e).lower():  # torch's "DefaultCPUAllocator: can't allocate memory"
            message = ("error", f"Evaluating this network needs more than this server's {memory_mb:,} MB for it.")
        else:
            message = ("error", f"The evaluation failed: {type(e).__name__}: {e}")
    except Exception as e:
        message = ("error", f"The evaluation failed: {type(e).__name__}: {e}")
    with contextlib.suppress(OSError):  # the server has gone: nobody to tell
        out.send(message)
    out.close()
