"""Training budgets on the real FashionMNIST, each beside its baseline, in one run.

1. Throughput of the default network: the tutorial pipeline (torchvision dataset + ToTensor +
   Normalize + DataLoader, batch 100) against this engine (preloaded tensors, channels_last,
   batch 256, bfloat16 autocast where the CPU has it; and all float32, also with the loop before
   2026-12-03 patched back in), interleaved, same thread count, medians.
2. From "Train" to ≥ 90% test accuracy with the app's default recipe, data loading included: as the
   app runs it (a training process) and as ``python -m playground.train`` does (every core).
3. Peak resident memory of this process.

Run: ``python -m bench.bench_train [--repeats N] [--threads T]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from unittest import mock

import torch
import torch.nn.functional as F

from playground.train.data import find_data_root, load_fashion_mnist
from playground.train.evaluate import evaluate
from playground.train.loop import Eval, TrainConfig, default_threads, resolve_precision, train, tune_allocator
from playground.train.models import DEFAULT_SPEC, build_model
from playground.train.runs import ACTIVE, RunManager


def tutorial_rate(root, n_batches: int) -> float:
    """Images/s of the PyTorch-tutorial pipeline: per-sample PIL → ToTensor → Normalize in a DataLoader."""
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))])
    loader = DataLoader(datasets.FashionMNIST(str(root), train=True, transform=tf), batch_size=100, shuffle=True)
    model = build_model(DEFAULT_SPEC).train()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    start, seen = time.perf_counter(), 0
    for i, (x, y) in enumerate(loader):
        if i == n_batches:
            break
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen += len(y)
    return seen / (time.perf_counter() - start)


def engine_rate(data, n_images: int, threads: int, precision: str = "auto", pool_first: bool = True) -> float:
    """Images/s of this engine's training loop on ``n_images`` images (one epoch, no evaluation in between).

    ``pool_first=False`` patches the earlier loop back in: every ReLU computed before its pooling, as written.
    """
    config = TrainConfig(epochs=1, train_size=n_images, evals_per_epoch=1, threads=threads, precision=precision)
    if pool_first:
        return train(DEFAULT_SPEC, data, config).images_per_sec
    with mock.patch("playground.train.loop.pool_before_relu", lambda model: lambda: None):
        return train(DEFAULT_SPEC, data, config).images_per_sec


def time_to_90(threads: int) -> tuple[float | None, float, float]:
    """As ``python -m playground.train`` does it, in this process with ``threads`` threads:
    (seconds from start to the first evaluation ≥ 90%, final full-test accuracy, total seconds)."""
    start = time.perf_counter()
    data = load_fashion_mnist()
    reached: list[float] = []

    def watch(event):
        if isinstance(event, Eval) and event.test_accuracy >= 0.90 and not reached:
            reached.append(time.perf_counter() - start)

    result = train(DEFAULT_SPEC, data, TrainConfig(threads=threads), on_event=watch)
    full = evaluate(result.model, data.test_images, data.test_labels).accuracy
    return (reached[0] if reached else None), full, time.perf_counter() - start


def time_to_90_in_app() -> tuple[float | None, int]:
    """As the Training studio does it: load the data, submit a run (a training process with the app's
    thread count), and watch its evaluations. Returns (seconds to the first evaluation ≥ 90%, threads)."""
    start = time.perf_counter()
    data = load_fashion_mnist()
    run = RunManager().submit("bench", DEFAULT_SPEC, TrainConfig(), data)
    reached = None
    while run.status in ACTIVE:
        if reached is None and any(a >= 0.90 for a in run.snapshot().history["test_acc"]):
            reached = time.perf_counter() - start
        time.sleep(0.05)
    return reached, run.result.config.threads if run.result else default_threads()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args(argv)
    tune_allocator()
    torch.set_num_threads(args.threads)
    location = find_data_root()
    if location is None:
        print("FashionMNIST not found: see python -m playground.train.data")
        return 1
    data = load_fashion_mnist()
    tutorial, engine, engine32, written32 = [], [], [], []
    for _ in range(args.repeats):  # interleaved, so all see the same machine load
        tutorial.append(tutorial_rate(location.root, 60))
        torch.set_num_threads(args.threads)
        engine.append(engine_rate(data, 10_240, args.threads))
        engine32.append(engine_rate(data, 10_240, args.threads, "float32"))
        written32.append(engine_rate(data, 10_240, args.threads, "float32", pool_first=False))
    t, e, e32 = statistics.median(tutorial), statistics.median(engine), statistics.median(engine32)
    w32 = statistics.median(written32)
    reached, full, total = time_to_90(args.threads)
    in_app, app_threads = time_to_90_in_app()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # Linux reports KiB
    print(f"Threads: {args.threads}; medians of {args.repeats} interleaved repeats; torch {torch.__version__}.")
    print("| measure | CNN Playground | tutorial pipeline | ratio | budget |")
    print("|---|---|---|---|---|")
    arithmetic = resolve_precision("auto")
    print(f"| training throughput, default network ({arithmetic}) | {e:,.0f} images/s | {t:,.0f} images/s "
          f"| {e / t:.2f}× | ≥ 2.0× |")  # fmt: skip
    print(f"| the same, all float32 | {e32:,.0f} images/s | {t:,.0f} images/s | {e32 / t:.2f}× | ≥ 2.0× |")
    print(f"| the same, all float32, each ReLU before its pooling (the loop before 2026-12-03) | {w32:,.0f} images/s "
          f"| {t:,.0f} images/s | {w32 / t:.2f}× | |")  # fmt: skip
    for label, secs in ((f"in the app (a training process, {app_threads} thread(s))", in_app),
                        (f"`python -m playground.train` ({args.threads} threads)", reached)):  # fmt: skip
        hit = f"{secs:.1f} s" if secs is not None else "not reached"
        print(f"| Train → first test evaluation ≥ 90% (data loading included), {label} | {hit} | | | ≤ 30 s |")
    print(f"| default recipe: final accuracy on all 10,000 test images | {full:.2%} after {total:.0f} s | | | ≥ 90% |")
    print(f"| peak RSS of this process (both pipelines, one run at a time) | {rss:.2f} GB | | | ≤ 1.4 GB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
