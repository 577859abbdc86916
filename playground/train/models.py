"""Network specs as plain data, the modules they build, and the table that explains them.

A spec is ``{"name": str, "layers": [{"type": "conv", "out_channels": 16, ...}, ...]}``: plain
types, so it fits in a checkpoint and a URL. Every size comes from ``playground.explorer.shapes``; a spec over
``playground.limits`` is refused by ``summarize`` before anything is built.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from playground import limits
from playground.train.layers import LAYER_KINDS, LayerRow, SpecError, layer_params, layer_row
from playground.train.presets import DEFAULT_SPEC, PRESETS  # noqa: F401 (re-exported: part of this module's contract)

MEAN, STD = 0.2860, 0.3530  # FashionMNIST pixel statistics on the [0, 1] scale
CLASSES = 10  # FashionMNIST's: every network the app trains or inspects ends with one score per class


class Normalize(nn.Module):
    """(x − mean) / std with FashionMNIST's statistics: inside the model, so callers feed [0, 1] pixels."""

    def __init__(self, mean: float = MEAN, std: float = STD):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean), persistent=False)
        self.register_buffer("std", torch.tensor(std), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


@dataclass(frozen=True)
class Summary:
    """The network table: rows up to the first broken layer, totals, and the error if any."""

    rows: tuple[LayerRow, ...]
    total_params: int
    total_macs: int
    output_shape: tuple[int, ...]
    error: str | None = None
    error_row: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def activations(self) -> int:
        """Numbers one image makes across every layer's output: what its feature maps hold."""
        return sum(math.prod(r.output_shape) for r in self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> LayerRow:
        return self.rows[i]


def summarize(spec: dict, input_shape: tuple[int, ...] = (1, 28, 28), *, classes: int | None = CLASSES) -> Summary:
    """One row per layer, with shapes, formulas, parameters and MACs; an impossible spec is reported, not raised.

    A spec over a limit of ``playground.limits`` (layers, weights, activations or multiply-adds per image) is
    reported the same way, on the row where it crosses the limit, from the arithmetic alone; so is a network that
    could not learn to classify: one that does not end with ``classes`` numbers (None: any output will do) or
    has no weights at all.
    """
    rows: list[LayerRow] = []
    shape = tuple(input_shape)
    layers = spec.get("layers") if isinstance(spec, dict) else None
    if not isinstance(layers, list) or not layers:
        return Summary((), 0, 0, shape, "The spec needs a non-empty list of layers.", 0)
    for i, layer in enumerate(layers):
        try:
            row, new_shape = layer_row(i, layer, shape)
            too_big = limits.network_error([*rows, row], i)
            if too_big:
                raise SpecError(too_big)
        except ValueError as e:  # SpecError, or a size rule from playground.explorer.shapes
            return Summary(tuple(rows), sum(r.params for r in rows), sum(r.macs for r in rows), shape,
                           f"Layer {i + 1}: {e}", i)  # fmt: skip
        rows.append(row)
        shape = new_shape
    params, macs, last = sum(r.params for r in rows), sum(r.macs for r in rows), len(rows) - 1
    if classes is not None and shape != (classes,):
        ends = f"an image of {'×'.join(map(str, shape))} numbers" if len(shape) == 3 else f"{shape[0]:,} numbers"
        fix = "end with Flatten and a Linear layer" if len(shape) == 3 else "set the last Linear layer's outputs"
        return Summary(tuple(rows), params, macs, shape, f"Layer {last + 1}: the network ends with {ends}, but it "
                       f"must end with {classes}, one score per class: {fix} to {classes}.", last)  # fmt: skip
    if classes is not None and params == 0:
        return Summary(tuple(rows), params, macs, shape, f"Layer {last + 1}: this network has no weights to learn. "
                       "Add a Conv or Linear layer.", last)  # fmt: skip
    return Summary(tuple(rows), params, macs, shape)


def build_model(
    spec: dict, input_shape: tuple[int, ...] = (1, 28, 28), *, classes: int | None = CLASSES
) -> nn.Sequential:
    """The module for ``spec``: ``Normalize`` first, then one child per spec layer, named "0", "1", ….

    Takes (N, 1, 28, 28) images with pixels in [0, 1].

    Raises:
        SpecError: the spec is impossible; the message is the one ``summarize`` reports.
    """
    summary = summarize(spec, input_shape, classes=classes)
    if not summary.ok:
        raise SpecError(summary.error)
    model = nn.Sequential()
    model.add_module("normalize", Normalize())
    shape = tuple(input_shape)
    for i, (layer, row) in enumerate(zip(spec["layers"], summary.rows, strict=True)):
        kind, q = layer_params(layer)
        model.add_module(str(i), LAYER_KINDS[kind].build(q, shape))
        shape = row.output_shape
    return model


def pool_before_relu(model: nn.Sequential) -> Callable[[], None]:
    """Swap, in place, every ReLU that a MaxPool2d follows, and return the function that swaps them back.

    ``relu(maxpool(x)) == maxpool(relu(x))`` exactly, gradients included (ReLU keeps the order of the values
    it lets through, so the same element wins each window): the same network, with the ReLU and its gradient
    computed on the pooled map, 4× smaller after a 2×2 pooling. Training runs so (``playground.train.loop``);
    the table, the feature maps and the checkpoint keep the order as written (neither layer has weights).
    """
    names = list(model._modules)
    pairs = [(a, b) for a, b in itertools.pairwise(names)
             if type(model._modules[a]) is nn.ReLU and type(model._modules[b]) is nn.MaxPool2d]  # fmt: skip

    def swap() -> None:
        for a, b in pairs:
            model._modules[a], model._modules[b] = model._modules[b], model._modules[a]

    swap()
    return swap


def feature_maps(model: nn.Sequential, x: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """Each layer's output for a batch ``x`` (N, 1, 28, 28), as (layer name, tensor) pairs."""
    out = []
    with torch.inference_mode():
        for name, module in model.named_children():
            x = module(x)
            if name != "normalize":
                out.append((f"{name}: {type(module).__name__}", x))
    return out


def with_dropout(spec: dict, p: float | None) -> dict:
    """A copy of ``spec`` whose Dropout layers use ``p`` (unchanged when ``p`` is None)."""
    spec = copy.deepcopy(spec)
    if p is not None:
        for layer in spec["layers"]:
            if layer.get("type") == "dropout":
                layer["p"] = p
    return spec


def dense_comparison(input_shape: tuple[int, int, int], out_shape: tuple[int, int, int], conv_params: int) -> dict:
    """The parameter-sharing lesson: a fully connected layer producing the same outputs vs the conv layer."""
    n_in = input_shape[0] * input_shape[1] * input_shape[2]
    n_out = out_shape[0] * out_shape[1] * out_shape[2]
    dense = n_in * n_out + n_out
    return {"inputs": n_in, "outputs": n_out, "dense_params": dense, "conv_params": conv_params,
            "ratio": dense / max(1, conv_params)}  # fmt: skip
