"""Evaluating a network on the test images apart from the server: a child process with a memory and a time budget.

An uploaded checkpoint can describe a small but slow network (a 3.7 KB file with padding 137 took the
server 66 s and 2.8 GB). Here the child is forked from the run machinery's forkserver
(``playground.processes.CTX``), caps its own address space (``RLIMIT_AS``) at what it starts with plus
the memory budget, evaluates in batches sized to fit that budget, and is killed when the time budget
is over. A network whose estimated time is already over the budget is refused without starting.
"""

from __future__ import annotations

import io
import resource
import threading
import time

import torch

from playground.budget import evaluation_seconds
from playground.evaluate import Evaluation, evaluate
from playground.models import build_model, summarize
from playground.processes import CTX, PROCESS_PREFIX, relay
from playground.settings import current

BATCH = 256  # as playground.evaluate: as fast as larger batches here, when the budget allows it
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
        spec, state_dict: the network, already checked (``playground.checkpoints.load_checkpoint``).
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
    out = CTX.Queue()
    args = (spec, state_dict, images, labels, batch_for(summary.activations, memory_mb), memory_mb, out)
    process = CTX.Process(target=_child, args=args, daemon=True, name=PROCESS_PREFIX + "evaluate")
    timer = threading.Timer(seconds, process.kill)
    started = time.monotonic()
    try:
        process.start()
        timer.start()
        outcome = relay(process, out, on_event=None, task="evaluating the network")
    finally:
        timer.cancel()
        if process.pid is not None:  # started: make sure it is gone
            process.kill()
            process.join(timeout=5)
        out.close()
    if isinstance(outcome, BaseException):
        if time.monotonic() - started >= seconds:
            raise EvaluationRefused(
                f"Evaluating this network on the {n:,} test images took over {seconds:,.0f} s, this server's "
                "limit: it was stopped."
            )
        raise EvaluationRefused(str(outcome))
    r = torch.load(io.BytesIO(outcome), weights_only=True)
    return Evaluation(r["loss"], r["accuracy"], r["per_class"], r["confusion"], r["predictions"])


def _limit_memory(extra_mb: int) -> None:
    """Cap this process's address space at its present size plus ``extra_mb``: past it, allocations fail."""
    with open("/proc/self/status") as f:
        size_kb = next(int(line.split()[1]) for line in f if line.startswith("VmSize:"))
    limit = size_kb * 1024 + extra_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _child(spec, state_dict, images, labels, batch, memory_mb, out) -> None:
    try:
        _limit_memory(memory_mb)
        model = build_model(spec)
        model.load_state_dict(state_dict)
        ev = evaluate(model, images, labels, batch_size=batch)
        buf = io.BytesIO()
        torch.save({"loss": ev.loss, "accuracy": ev.accuracy, "per_class": ev.per_class, "confusion": ev.confusion,
                    "predictions": ev.predictions}, buf)  # fmt: skip
        out.put(("result", buf.getvalue()))
    except MemoryError:
        out.put(("error", f"Evaluating this network needs more than this server's {memory_mb:,} MB for it."))
    except RuntimeError as e:
        if "alloc" in str(e).lower():  # torch's "DefaultCPUAllocator: can't allocate memory"
            out.put(("error", f"Evaluating this network needs more than this server's {memory_mb:,} MB for it."))
        else:
            out.put(("error", f"The evaluation failed: {type(e).__name__}: {e}"))
    except Exception as e:
        out.put(("error", f"The evaluation failed: {type(e).__name__}: {e}"))
    out.close()
    out.join_thread()
