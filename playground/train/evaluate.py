"""Evaluation: loss, accuracy, per-class accuracy and the confusion matrix, under inference_mode."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def to_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) → float (N, 1, 28, 28) in [0, 1], channels_last: what the models take."""
    return (images.unsqueeze(1).float() / 255.0).contiguous(memory_format=torch.channels_last)


@dataclass(frozen=True, eq=False)
class Evaluation:
    loss: float
    accuracy: float
    per_class: torch.Tensor  # (10,) accuracy of each true class
    confusion: torch.Tensor  # (10, 10) int64, rows = true class, columns = predicted
    predictions: torch.Tensor  # (N,) int64


def evaluate(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 256) -> Evaluation:
    """Evaluate ``model`` on uint8 (N, 28, 28) ``images`` or float (N, 1, 28, 28) inputs, in eval mode.

    Batches of 256 are as fast as batches of 1,000 here and need ~30 MB instead of ~290 MB.
    """
    model.eval()
    losses, preds = [], []
    with torch.inference_mode():
        for i in range(0, len(labels), batch_size):
            xb = images[i : i + batch_size]
            xb = to_input(xb) if xb.dtype == torch.uint8 else xb
            logits = model(xb)
            losses.append(F.cross_entropy(logits, labels[i : i + batch_size], reduction="sum"))
            preds.append(logits.argmax(1))
    pred = torch.cat(preds)
    confusion = torch.bincount(labels * 10 + pred, minlength=100).reshape(10, 10)
    per_class = confusion.diag() / confusion.sum(1).clamp(min=1)
    n = max(1, len(labels))
    return Evaluation(float(sum(losses)) / n, float((pred == labels).float().mean()), per_class, confusion, pred)
