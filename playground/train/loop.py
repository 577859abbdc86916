"""The training engine: fast on a CPU, speaks in events, stops when asked, never touches the UI.

Speed on 2 cores comes from: the whole dataset as one tensor (no DataLoader, no per-sample
transforms), batches sliced from a seeded permutation, channels_last, a one-cycle schedule that
gets the default network past 90% in three epochs, and evaluation under ``inference_mode``.
``python -m playground.train`` runs it from the shell (see ``playground.train.cli``).
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from playground.train.data import FashionMNIST
from playground.train.evaluate import Evaluation, evaluate, to_input
from playground.train.models import build_model, pool_before_relu, with_dropout

OPTIMIZERS = ("adamw", "adam", "sgd_momentum", "sgd")
AUGMENTS = ("none", "shift", "flip", "crop")
SCHEDULES = ("onecycle", "constant")
PRECISIONS = ("auto", "float32", "bfloat16")
EVAL_SUBSET = 2000  # test images used for the evaluations during training; the final one uses all


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters; plain fields so ``dataclasses.asdict`` goes into checkpoints."""

    optimizer: str = "adamw"
    lr: float = 3e-3  # the peak rate with the one-cycle schedule
    batch_size: int = 256
    epochs: int = 3
    weight_decay: float = 1e-4
    l1: float = 0.0
    dropout: float | None = None  # None: keep the spec's own Dropout rates
    augment: str = "none"
    train_size: int | None = None  # None: all 60,000 images
    seed: int = 0
    schedule: str = "onecycle"
    evals_per_epoch: int = 4
    threads: int | None = None  # None: chosen by default_threads()
    precision: str = "auto"  # the forward pass's arithmetic; "auto": bfloat16 where the CPU computes it natively

    def __post_init__(self):
        checks = [
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}"),
            (self.augment in AUGMENTS, f"augment must be one of {', '.join(AUGMENTS)}"),
            (self.schedule in SCHEDULES, f"schedule must be one of {', '.join(SCHEDULES)}"),
            (self.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}"),
            (0 < self.lr <= 10, "learning rate must be above 0 and at most 10"),
            (1 <= self.batch_size <= 8192, "batch size must be between 1 and 8192"),
            (1 <= self.epochs <= 100, "epochs must be between 1 and 100"),
            (self.weight_decay >= 0 and self.l1 >= 0, "weight decay and L1 must not be negative"),
            (self.dropout is None or 0 <= self.dropout < 1, "dropout must be in [0, 1)"),
            (self.train_size is None or self.train_size >= 10, "the training subset needs at least 10 images"),
            (1 <= self.evals_per_epoch <= 20, "evaluations per epoch must be between 1 and 20"),
            (self.threads is None or self.threads >= 1, "threads must be at least 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message[0].upper() + message[1:] + ".")


@dataclass(frozen=True)
class Step:
    step: int
    epoch: float
    loss: float
    lr: float
    images_seen: int
    images_per_sec: float
    eta_seconds: float
    total_steps: int


@dataclass(frozen=True)
class Eval:
    step: int
    epoch: float
    test_loss: float
    test_accuracy: float


@dataclass(frozen=True)
class Done:
    """The loop has ended (finished or stopped); the final evaluation on the full test set follows."""

    status: str
    step: int


class Diverged(ArithmeticError):
    """The loss became NaN or infinite: training cannot go on, and the sentence says what to change."""

    def __init__(self, what: str, value: float, step: int, lr: float):
        word = "NaN" if math.isnan(value) else "infinite"
        super().__init__(f"The {what} became {word} at step {step}: lower the learning rate (it is {lr:g} now).")
        self.step = step


@dataclass(eq=False)
class TrainResult:
    model: torch.nn.Module
    history: dict
    evaluation: Evaluation
    seconds: float
    images_per_sec: float
    status: str  # "finished" or "stopped"
    config: TrainConfig = field(default_factory=TrainConfig)


def tune_allocator() -> None:
    """Keep freed memory in glibc's heap instead of unmapping it: page faults made evaluation 2–3× slower here."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 256 * 1024 * 1024)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 512 * 1024 * 1024)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass  # not glibc: nothing to tune


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX-512 BF16 or AMX); elsewhere it is emulated, and slow."""
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # a torch without these probes: assume not
        return False


def resolve_precision(precision: str) -> str:
    """ "auto" → "bfloat16" on a CPU with native bfloat16, else "float32"; the others as they are."""
    if precision == "auto":
        return "bfloat16" if native_bfloat16() else "float32"
    return precision


def default_threads(busy: int = 1) -> int:
    """Threads for one run: the cores shared among ``busy`` runs.

    Runs train in their own processes and the page's work is small, so a lone run takes every core.
    """
    cores = os.cpu_count() or 1
    return max(1, cores // max(1, busy))


def _augment(x: torch.Tensor, kind: str, g: torch.Generator) -> torch.Tensor:
    """Random shifts, flips or crops on a whole (N, 1, 28, 28) batch at once (4 groups share one offset)."""
    if kind == "flip":
        mask = torch.rand(x.shape[0], 1, 1, 1, generator=g) < 0.5
        return torch.where(mask, x.flip(-1), x)
    pad = 2 if kind == "shift" else 4
    padded = F.pad(x, (pad, pad, pad, pad))
    parts = []
    for chunk in padded.chunk(4):
        dy, dx = torch.randint(0, 2 * pad + 1, (2,), generator=g).tolist()
        parts.append(chunk[..., dy : dy + 28, dx : dx + 28])
    return torch.cat(parts)


def _optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params, wd = model.parameters(), config.weight_decay
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, config.lr, weight_decay=wd)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, config.lr, weight_decay=wd)
    return torch.optim.SGD(params, config.lr, momentum=0.9 if config.optimizer == "sgd_momentum" else 0.0,
                           weight_decay=wd)  # fmt: skip


def _subset(labels: torch.Tensor, size: int | None, g: torch.Generator) -> torch.Tensor:
    """Indices of a class-balanced random subset (all indices when ``size`` is None)."""
    if size is None or size >= len(labels):
        return torch.arange(len(labels))
    per_class = [torch.nonzero(labels == c).flatten() for c in range(10)]
    picks = [idx[torch.randperm(len(idx), generator=g)[: math.ceil(size / 10)]] for idx in per_class]
    return torch.cat(picks)[:size]


def train(
    spec: dict,
    data: FashionMNIST,
    config: TrainConfig = TrainConfig(),
    *,
    on_event: Callable[[Step | Eval | Done], None] | None = None,
    should_stop: Callable[[], bool] | threading.Event | None = None,
    on_evaluated: Callable[[torch.nn.Module], None] | None = None,
) -> TrainResult:
    """Train ``spec`` on ``data``; report progress to ``on_event``; stop within a step of ``should_stop``.

    ``on_evaluated`` gets the model after each evaluation during training (e.g. to save it).

    Returns:
        The trained model (eval mode) with its history and final evaluation on the full test set.
        A stopped run keeps what it learned (status "stopped").

    Raises:
        Diverged: the training or test loss became NaN or infinite (the events sent so far are the curve).
    """
    stop = should_stop.is_set if isinstance(should_stop, threading.Event) else (should_stop or (lambda: False))
    emit = on_event or (lambda event: None)
    tune_allocator()
    torch.set_num_threads(config.threads or default_threads())
    torch.manual_seed(config.seed)
    g = torch.Generator().manual_seed(config.seed)
    model = build_model(with_dropout(spec, config.dropout)).to(memory_format=torch.channels_last)
    as_written = pool_before_relu(model)  # the same network, its ReLUs on the pooled maps: less work

    # Keep the images as uint8 (47 MB for all 60,000, shared by every run) and convert each batch:
    # a float copy of the whole set would cost every concurrent run another 188 MB for no measurable speed.
    x, y = data.train_images, data.train_labels  # (N, 28, 28) uint8
    if config.train_size is not None and config.train_size < len(y):
        idx = _subset(data.train_labels, config.train_size, g)
        x, y = x[idx], y[idx]
    x_eval, y_eval = data.test_images[:EVAL_SUBSET], data.test_labels[:EVAL_SUBSET]
    n, bs = len(y), config.batch_size
    steps_per_epoch = math.ceil(n / bs)
    total = steps_per_epoch * config.epochs
    eval_every = max(1, steps_per_epoch // config.evals_per_epoch)
    opt = _optimizer(model, config)
    # Mixed precision (autocast): convolutions and matrix products in bfloat16, faster where the CPU has it (see
    # bench/bench_train.py), for the same accuracy; weights, optimizer and loss stay float32, evaluation all float32.
    bf16 = resolve_precision(config.precision) == "bfloat16"
    sched = (torch.optim.lr_scheduler.OneCycleLR(opt, config.lr, total_steps=total)
             if config.schedule == "onecycle" else None)  # fmt: skip
    history: dict[str, list] = {"step": [], "loss": [], "lr": [], "eval_step": [], "test_loss": [], "test_acc": []}
    start, seen, step, status = time.perf_counter(), 0, 0, "finished"
    for _ in range(config.epochs):
        perm = torch.randperm(n, generator=g)
        model.train()
        for i in range(steps_per_epoch):
            asked = time.perf_counter()
            if stop():
                status = "stopped"
                break
            start += time.perf_counter() - asked  # time paused in should_stop is not training time (images/s, ETA)
            batch = perm[i * bs : (i + 1) * bs]
            xb, yb = to_input(x[batch]), y[batch]  # (B, 1, 28, 28) float in [0, 1], channels_last
            if config.augment != "none":
                xb = _augment(xb, config.augment, g)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = model(xb.contiguous(memory_format=torch.channels_last))
            loss = F.cross_entropy(logits.float(), yb)
            if config.l1:
                loss = loss + config.l1 * sum(p.abs().sum() for p in model.parameters())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            step, seen = step + 1, seen + len(batch)
            rate = seen / (time.perf_counter() - start)
            value, lr = loss.item(), opt.param_groups[0]["lr"]
            if not math.isfinite(value):  # nothing more can be learned: say so now, not after the last epoch
                raise Diverged("loss", value, step, config.lr)
            history["step"].append(step), history["loss"].append(value), history["lr"].append(lr)
            emit(Step(step, step / steps_per_epoch, value, lr, seen, rate, (total - step) * bs / rate, total))
            if step % eval_every == 0 or step == total:
                ev = evaluate(model, x_eval, y_eval)
                if not math.isfinite(ev.loss):
                    raise Diverged("test loss", ev.loss, step, config.lr)
                model.train()
                history["eval_step"].append(step), history["test_loss"].append(ev.loss)
                history["test_acc"].append(ev.accuracy)
                emit(Eval(step, step / steps_per_epoch, ev.loss, ev.accuracy))
                if on_evaluated is not None:
                    on_evaluated(model)
        if status == "stopped":
            break
    seconds = time.perf_counter() - start
    emit(Done(status, step))
    final = evaluate(model, data.test_images, data.test_labels)
    history["final_accuracy"] = final.accuracy
    as_written()
    return TrainResult(model.eval(), history, final, seconds, seen / max(seconds, 1e-9), status, config)

