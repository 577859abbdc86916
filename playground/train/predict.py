"""Predictions on a person's own image, prepared exactly as the FashionMNIST training images are."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image


def prepare_for_model(image: Image.Image) -> torch.Tensor:
    """A drawing, photo or upload → (1, 28, 28) float in [0, 1], like a FashionMNIST image.

    FashionMNIST shows a light object on a black background, filling a 28×28 square. So: gray,
    inverted when the background (the border) is light, cropped to the object, padded to a square
    and shrunk to 28×28, centred.
    """
    gray = np.asarray(image.convert("L"), dtype=np.float32)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if border.mean() > 127:
        gray = 255.0 - gray
    mask = gray > max(25.0, 0.2 * float(gray.max()))
    if mask.any():
        rows, cols = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
        gray = gray[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = gray.shape
    side = max(h, w)
    square = np.zeros((side, side), dtype=np.float32)
    square[(side - h) // 2 : (side - h) // 2 + h, (side - w) // 2 : (side - w) // 2 + w] = gray
    small = Image.fromarray(square.clip(0, 255).astype(np.uint8)).resize((28, 28), Image.Resampling.BOX)
    return torch.from_numpy(np.asarray(small, dtype=np.float32) / 255.0)[None]


def probabilities(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Softmax over the 10 classes for one (1, 28, 28) image."""
    model.eval()
    with torch.inference_mode():
        return torch.softmax(model(x[None]), dim=1)[0]


@dataclass(frozen=True, kw_only=True)
class Decision:
    """How a network's last Linear layer and the softmax turn one image's features into its prediction."""

    features: int  # the length of the vector the last Linear layer reads
    logits: torch.Tensor  # (classes,) scores z
    probabilities: torch.Tensor  # (classes,) softmax(z)
    winner: int  # the class with the highest score
    top: tuple[tuple[int, float, float], ...]  # (feature index, feature value, weight): the winner's largest products
    rest: float  # the sum of the winner's other products
    bias: float  # the winner's bias


def decision(model: torch.nn.Sequential, x: torch.Tensor, top: int = 5) -> Decision | None:
    """The last layer's dot product for the winning class and the softmax, for one (1, 28, 28) image.

    None when the network does not end with a Linear layer.
    """
    last = model[-1]
    if not isinstance(last, torch.nn.Linear):
        return None
    model.eval()
    with torch.inference_mode():
        features = model[:-1](x[None])[0].flatten().double()
        weight, bias = last.weight.double(), last.bias.double()
        logits = weight @ features + bias
        winner = int(logits.argmax())
        products = weight[winner] * features
        order = products.abs().argsort(descending=True)[:top].tolist()
        rest = float(products.sum() - products[order].sum())
        return Decision(features=len(features), logits=logits.float(), probabilities=torch.softmax(logits, 0).float(),
                        winner=winner, top=tuple((i, float(features[i]), float(weight[winner, i])) for i in order),
                        rest=rest, bias=float(bias[winner]))  # fmt: skip
