"""``python -m playground.train``: train from the shell with the app's defaults, write model.pt and metrics.json."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import torch

from playground.settings import current, ray_address
from playground.train.checkpoints import save_checkpoint
from playground.train.data import DataNotFound, load_fashion_mnist
from playground.train.loop import PRECISIONS, Diverged, Eval, TrainConfig, TrainResult, resolve_precision, train
from playground.train.models import PRESETS
from playground.train.processes import ChildFailed
from playground.train.training_process import decode_result


def main(argv: list[str] | None = None) -> int:
    defaults = TrainConfig()
    p = argparse.ArgumentParser(prog="python -m playground.train", description=__doc__)
    p.add_argument("--epochs", type=int, default=defaults.epochs)
    p.add_argument("--out", type=Path, required=True, help="folder for model.pt and metrics.json")
    p.add_argument("--preset", default="Classic (default)", choices=list(PRESETS))
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--batch-size", type=int, default=defaults.batch_size)
    p.add_argument("--lr", type=float, default=defaults.lr)
    p.add_argument("--train-size", type=int, default=None)
    p.add_argument("--precision", default=defaults.precision, choices=PRECISIONS)
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="default: every core (no web page to serve)")
    p.add_argument("--ray", metavar="ADDRESS", default="",
                   help="train on the Ray cluster at ADDRESS (auto or HOST:PORT); files are written here")  # fmt: skip
    args = p.parse_args(argv)
    try:
        current()  # a mistyped PLAYGROUND_* variable is refused before anything starts
        ray_address("--ray", args.ray)
        config = TrainConfig(epochs=args.epochs, seed=args.seed, batch_size=args.batch_size, lr=args.lr,
                             train_size=args.train_size, threads=args.threads, precision=args.precision)  # fmt: skip
    except ValueError as e:  # SettingsError is one
        print(f"error: {e}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        data = load_fashion_mnist()
    except DataNotFound as e:
        print(e, file=sys.stderr)
        return 1
    print(f"Data: {data.source}. Training {args.preset} for {config.epochs} epoch(s)…", flush=True)

    def report(event) -> None:
        if isinstance(event, Eval):
            print(f"  epoch {event.epoch:4.2f}  test loss {event.test_loss:.3f}  accuracy {event.test_accuracy:.2%} "
                  f"(first 2,000 test images)", flush=True)  # fmt: skip

    spec = PRESETS[args.preset]
    try:
        result, node = train_on_ray(args.ray, spec, data, config, report) if args.ray else (
            train(spec, data, config, on_event=report), None)  # fmt: skip
    except (Diverged, ChildFailed) as e:  # ChildFailed: the Ray cluster cannot be reached, or its worker died
        print(f"error: {e}", file=sys.stderr)
        return 1
    h = result.history
    steps_per_epoch = max(h["step"]) / config.epochs if h["step"] else 1
    metrics = {
        "command": "python -m playground.train " + " ".join(argv if argv is not None else sys.argv[1:]),
        "preset": args.preset,
        "test_accuracy": result.evaluation.accuracy,
        "test_accuracy_per_epoch_subset": {
            f"{s / steps_per_epoch:.2f}": a for s, a in zip(h["eval_step"], h["test_acc"], strict=True)
        },
        "per_class_accuracy": result.evaluation.per_class.tolist(),
        "seconds_training": round(result.seconds, 2),
        "seconds_total": round(time.perf_counter() - start, 2),
        "images_per_second": round(result.images_per_sec),
        "data_source": data.source,
        "torch": torch.__version__,
        "precision": resolve_precision(config.precision),
        "config": dataclasses.asdict(result.config),
        "backend": "ray" if args.ray else "local",
        **({"node": node} if args.ray else {}),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    save_checkpoint(spec, result.model, dataclasses.asdict(config), h, args.out / "model.pt")
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"Test accuracy {result.evaluation.accuracy:.2%} on all 10,000 test images; "
          f"{result.images_per_sec:,.0f} images/s; wrote {args.out / 'model.pt'} and metrics.json")  # fmt: skip
    return 0


def train_on_ray(address: str, spec: dict, data, config: TrainConfig, report) -> tuple[TrainResult, str]:
    """``train`` in an actor of the Ray cluster at ``address``; the result and the id of the node that ran it.

    Raises:
        ChildFailed: the cluster cannot be reached, the actor died, or the loss became NaN (the sentence says which).
    """
    from playground.train.ray_runs import RayBackend

    child = RayBackend(address).start(spec, data, config, None, f"train-cli-{os.getpid()}")
    try:
        kind, payload = child.relay(report, "Ray worker")
    finally:
        child.end()
    if kind != "result":  # "diverged" or "error": a sentence
        raise ChildFailed(payload)
    return decode_result(payload, spec, child.config), child.node
