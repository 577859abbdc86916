"""What a network will cost to train, from its summary alone: the training process's peak memory and time per epoch.

Calibrated once on this project's 2-core x86_64 machine (torch 2.14.1, bfloat16 autocast, 2 threads), shared
with other work at the time (load 3-7), by ``PLAYGROUND_DATA_DIR=/work/shared/data python -m bench.calibrate_budget``
(peak memory of short training processes forked as runs are: presets, 64-512-channel convs, an MLP) and
``... bench.calibrate_budget --speed`` (best of 3 images/s). Memory, measured → estimated, MB: Tiny 607 → 626,
Classic 740 → 691, Deeper 935 → 912 (batch 1024: 1,473 → 1,809), conv256 1,763 → 1,744, conv512 3,137 → 2,888,
3×conv64 922 → 1,174, MLP 4096 696 → 705 (batch 256 unless said). The final evaluation inside a run sometimes
peaked far higher (conv256: 4.9 GB, conv512: 8.6 GB, not reproduced in 4 repeats): that is not modelled.
Time per image is rough, within ~3× either way (Classic 2,688 images/s measured, Deeper 2,064, conv512 123).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from playground.train.models import Summary

BASE_MB = 600.0  # a training process of the smallest network: torch, the dataset it touches, the optimizer
PARAM_BYTES = 28.0  # per parameter: weights, gradients, two Adam moments, copies made for the result
NUMBER_BYTES = 4.0  # float32
EVAL_BATCH = 256  # playground.train.evaluate's batch: the evaluations inside a run use it, whatever the training batch
# Seconds per image of training: memory traffic of every layer output (batch norms, activations and pooling are
# bandwidth-bound), multiply-adds, and the optimizer's step over every parameter, shared by a batch.
SECONDS_PER_ACTIVATION = 2.5e-9
SECONDS_PER_MAC = 3e-11
SECONDS_PER_PARAM_STEP = 5e-8
# Seconds per image of evaluation (inference only).
EVAL_SECONDS_PER_ACTIVATION = 9e-10
EVAL_SECONDS_PER_MAC = 1e-11


@dataclass(frozen=True)
class Estimate:
    """A training run's cost, estimated."""

    peak_mb: float  # the training process's peak resident memory
    seconds_per_epoch: float


def training_estimate(summary: Summary, batch_size: int = 256, images: int = 60_000) -> Estimate:
    """The peak memory and time per epoch of a training process for ``summary``'s network.

    Args:
        summary: the network's summary (``playground.train.models.summarize``); only its totals are used.
        batch_size: images per step.
        images: training images per epoch.
    """
    # Training keeps every layer's output for the backward pass, and the largest layer's gradient and its
    # input's stand beside it; an evaluation holds about four of the largest layer's outputs at once.
    widest = max((math.prod(r.output_shape) for r in summary.rows), default=0)
    kept = max(batch_size * (summary.activations + 2 * widest), EVAL_BATCH * 4 * widest) * NUMBER_BYTES
    peak = BASE_MB + (summary.total_params * PARAM_BYTES + kept) / 2**20
    per_image = (summary.activations * SECONDS_PER_ACTIVATION + summary.total_macs * SECONDS_PER_MAC
                 + summary.total_params * SECONDS_PER_PARAM_STEP / batch_size)  # fmt: skip
    return Estimate(peak, images * per_image)


def evaluation_seconds(summary: Summary, images: int = 10_000) -> float:
    """Estimated seconds to evaluate ``summary``'s network on ``images`` test images (inference only)."""
    return images * (summary.activations * EVAL_SECONDS_PER_ACTIVATION + summary.total_macs * EVAL_SECONDS_PER_MAC)


def over_budget(estimate: Estimate, budget_mb: int, batch_size: int) -> str | None:
    """Why a run with this ``estimate`` is refused under a budget of ``budget_mb``, as a sentence; None if it fits."""
    if estimate.peak_mb <= budget_mb:
        return None
    return (
        f"Train is off: with batches of {batch_size}, this network would take its training process to "
        f"~{estimate.peak_mb:,.0f} MB, over this server's budget of {budget_mb:,} MB (PLAYGROUND_MAX_NETWORK_MB). "
        "Use fewer channels or units, pool earlier, or a smaller batch size."
    )
