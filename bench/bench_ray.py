"""Local processes against Ray on this machine: the same runs through the run manager, interleaved, in one run.

A head node of this machine is started on loopback (``tests.ray_cluster``, stopped at the end). Each
round trains the same network on the real FashionMNIST once in a local training process and once in
a Ray actor (``PLAYGROUND_RAY_ADDRESS``), one run at a time with the same threads; it prints the
training images/s each reports and the time from Submit to finished (start-up and final evaluation
included), medians over the rounds, and how often the dataset went into Ray's object store.

Run: ``PLAYGROUND_DATA_DIR=… python -m bench.bench_ray [--preset "Classic (default)"] [--rounds 3]`` (minutes).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from playground.train.data import load_fashion_mnist
from playground.train.loop import TrainConfig
from playground.train.models import PRESETS
from playground.train.runs import ACTIVE, RunManager, Status
from tests.ray_cluster import cluster


def one_run(manager: RunManager, spec: dict, config: TrainConfig, data) -> tuple[float, float]:
    """Images/s of training and seconds from Submit to finished."""
    start = time.perf_counter()
    run = manager.submit("bench", spec, config, data)
    while run.status in ACTIVE:
        time.sleep(0.05)
    snap = run.snapshot()
    if snap.status != Status.FINISHED:
        raise SystemExit(f"the run ended {snap.status}: {snap.error}")
    return snap.images_per_sec, time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--preset", default="Classic (default)", choices=list(PRESETS))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--train-size", type=int, default=20_000)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    config = TrainConfig(epochs=1, train_size=args.train_size, threads=args.threads)
    data, spec = load_fashion_mnist(), PRESETS[args.preset]
    results: dict[str, list[tuple[float, float]]] = {"local": [], "ray": []}
    with tempfile.TemporaryDirectory() as runs, cluster(cpus=os.cpu_count() or 1) as address:
        managers = {"local": RunManager(1, f"{runs}/local"), "ray": RunManager(1, f"{runs}/ray", ray_address=address)}
        one_run(managers["ray"], spec, config, data)  # a first actor starts a worker process (imports torch): apart
        for _ in range(args.rounds):
            for name, manager in managers.items():
                results[name].append(one_run(manager, spec, config, data))
        puts = managers["ray"].ray.puts
    print(f"{args.preset}, {args.train_size:,} images × 1 epoch, {args.threads} threads, {os.cpu_count()} cores; "
          f"medians of {args.rounds} interleaved rounds")  # fmt: skip
    print("| backend | training images/s | Submit → finished (s) | each round (images/s, s) |")
    print("|---|---|---|---|")
    for name, rows in results.items():
        rates, secs = [r for r, _ in rows], [s for _, s in rows]
        each = ", ".join(f"{r:,.0f} / {s:.1f}" for r, s in rows)
        print(f"| {name} | {statistics.median(rates):,.0f} | {statistics.median(secs):.1f} | {each} |")
    print(f"dataset put into Ray's object store {puts} time(s) for {args.rounds + 1} Ray runs")


if __name__ == "__main__":
    main()
