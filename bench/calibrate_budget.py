"""Measure training processes of a few networks, to calibrate ``playground.train.budget``'s estimates.

Each network trains for a few hundred images in a process forked from the run machinery's forkserver
(as a Training-studio run does), which reports its peak resident memory and its training speed.
Needs FashionMNIST (``PLAYGROUND_DATA_DIR``). Run: ``python -m bench.calibrate_budget``.
"""

from __future__ import annotations

import math
import resource
import sys
import time

import torch

from playground.train.budget import evaluation_seconds, training_estimate
from playground.train.data import load_fashion_mnist
from playground.train.evaluate import evaluate
from playground.train.loop import Done, Step, TrainConfig, train
from playground.train.models import PRESETS, summarize
from playground.train.processes import CTX, PROCESS_PREFIX, read_apart

STEPS = 20


def _conv(c: int, k: int = 3) -> list[dict]:
    return [{"type": "conv", "out_channels": c, "kernel": k, "padding": k // 2}, {"type": "batchnorm"},
            {"type": "relu"}]  # fmt: skip


def networks() -> dict[str, dict]:
    """The presets, then networks heavy in activations (wide convs) or in parameters (wide Linear layers)."""
    nets = {name.split(" (")[0]: spec for name, spec in PRESETS.items()}
    for c in (64, 256, 512):
        nets[f"conv{c}"] = {"layers": [*_conv(c), {"type": "maxpool"}, {"type": "flatten"},
                                       {"type": "linear", "out_features": 10}]}  # fmt: skip
    nets["conv64x3"] = {"layers": [*_conv(64), *_conv(64), *_conv(64), {"type": "maxpool", "kernel": 4},
                                   {"type": "flatten"}, {"type": "linear", "out_features": 10}]}  # fmt: skip
    for units in (4096,):
        nets[f"mlp{units}"] = {"layers": [{"type": "flatten"}, {"type": "linear", "out_features": units},
                                          {"type": "relu"}, {"type": "linear", "out_features": 10}]}  # fmt: skip
    return nets


def _child(spec, data, config, out) -> None:
    marks: dict[str, float] = {}
    times: list[tuple[float, int]] = []

    def peak_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    def on_event(event) -> None:
        if isinstance(event, Step):
            times.append((time.perf_counter(), event.images_seen))
        elif isinstance(event, Done):
            marks["trained"] = peak_mb()

    marks["start"] = peak_mb()
    train(spec, data, config, on_event=on_event)
    marks["final"] = peak_mb()
    (t0, n0), (t1, n1) = times[2], times[-1]  # from the third step: the first ones warm up (lazy imports, caches)
    out.put((marks["start"], marks["trained"], marks["final"], (n1 - n0) / (t1 - t0)))


def measure(spec: dict, data, batch_size: int) -> tuple[float, float, float, float]:
    """Peak RSS in MB at the start, after the training steps and after the final evaluation, and images/s."""
    config = TrainConfig(epochs=1, batch_size=batch_size, train_size=STEPS * batch_size, evals_per_epoch=1)
    from bench import calibrate_budget  # the child finds its target by module name, never as __main__

    out = CTX.Queue()
    p = CTX.Process(target=calibrate_budget._child, args=(spec, data, config, out), name=PROCESS_PREFIX + "calibrate")
    p.start()
    result = out.get(timeout=600)
    p.join()
    return result


def speed(spec: dict, data, repeats: int = 3) -> tuple[float, float]:
    """Best-of-``repeats`` training and evaluation images/s here (2 threads, batch 256): the best is the least
    disturbed by whatever else this shared machine runs."""
    torch.set_num_threads(2)
    config = TrainConfig(epochs=1, batch_size=256, train_size=STEPS * 256, evals_per_epoch=1, threads=2)
    best_train = best_eval = 0.0
    for _ in range(repeats):
        times: list[tuple[float, int]] = []

        def on_event(event, times=times) -> None:
            if isinstance(event, Step):
                times.append((time.perf_counter(), event.images_seen))

        result = train(spec, data, config, on_event=on_event)
        (t0, n0), (t1, n1) = times[2], times[-1]
        best_train = max(best_train, (n1 - n0) / (t1 - t0))
        start = time.perf_counter()
        evaluate(result.model, data.test_images[:2560], data.test_labels[:2560])
        best_eval = max(best_eval, 2560 / (time.perf_counter() - start))
    return best_train, best_eval


def main() -> int:
    data = load_fashion_mnist(read=read_apart)
    if "--speed" in sys.argv:
        print("| network | MACs/image | activations/image | train images/s | estimate | eval images/s | estimate |")
        print("|---|---|---|---|---|---|---|")
        for name, spec in networks().items():
            s = summarize(spec)
            rate, eval_rate = speed(spec, data)
            est, est_eval = 60_000 / training_estimate(s).seconds_per_epoch, 10_000 / evaluation_seconds(s)
            print(f"| {name} | {s.total_macs:,} | {s.activations:,} | {rate:,.0f} | {est:,.0f} | {eval_rate:,.0f} "
                  f"| {est_eval:,.0f} |", flush=True)  # fmt: skip
        return 0
    print(
        "| network | batch | params | activations/image | MACs/image | start MB | trained MB | final MB "
        "| estimate MB | images/s | estimate images/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, spec in networks().items():
        s = summarize(spec)
        act = sum(math.prod(r.output_shape) for r in s.rows)
        for batch in (64, 256, 1024) if name == "Deeper" else (64, 256):
            start, trained, final, rate = measure(spec, data, batch)
            est = training_estimate(s, batch_size=batch)
            print(
                f"| {name} | {batch} | {s.total_params:,} | {act:,} | {s.total_macs:,} | {start:.0f} | {trained:.0f} "
                f"| {final:.0f} "
                f"| {est.peak_mb:.0f} | {rate:,.0f} | {60_000 / est.seconds_per_epoch:,.0f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
