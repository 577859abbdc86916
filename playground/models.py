"""Network specs as plain data, the modules they build, and the table that explains them.

A spec is ``{"name": str, "layers": [{"type": "conv", "out_channels": 16, ...}, ...]}``: plain
types, so it fits in a checkpoint and a URL. Every size comes from ``playground.shapes``; a spec over
``playground.limits`` is refused by ``summarize`` before anything is built.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn

from playground import limits, shapes
from playground.presets import DEFAULT_SPEC, PRESETS  # noqa: F401 (re-exported: part of this module's contract)

MEAN, STD = 0.2860, 0.3530  # FashionMNIST pixel statistics on the [0, 1] scale

# Each layer type and its parameters with their defaults: the page builds its editor from this.
LAYER_TYPES: dict[str, dict[str, object]] = {
    "conv": {"out_channels": 16, "kernel": 3, "stride": 1, "padding": 1, "dilation": 1},
    "batchnorm": {},
    "relu": {},
    "leaky_relu": {"slope": 0.01},
    "elu": {},
    "gelu": {},
    "tanh": {},
    "sigmoid": {},
    "maxpool": {"kernel": 2, "stride": 2},
    "avgpool": {"kernel": 2, "stride": 2},
    "dropout": {"p": 0.25},
    "flatten": {},
    "linear": {"out_features": 10, "in_features": None},
}
ACTIVATIONS = {"relu": nn.ReLU, "elu": nn.ELU, "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


class SpecError(ValueError):
    """A spec that cannot be built, with the reason in words."""


class Normalize(nn.Module):
    """(x − mean) / std with FashionMNIST's statistics: inside the model, so callers feed [0, 1] pixels."""

    def __init__(self, mean: float = MEAN, std: float = STD):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean), persistent=False)
        self.register_buffer("std", torch.tensor(std), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


@dataclass(frozen=True)
class LayerRow:
    """One row of the network table."""

    index: int
    name: str
    type: str
    output_shape: tuple[int, ...]
    formula: str
    params: int
    params_formula: str
    macs: int
    error: str | None = None

    def __getitem__(self, key: str):
        return getattr(self, key)


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


def _int(layer: dict, key: str, minimum: int) -> int:
    value = layer.get(key, LAYER_TYPES[layer["type"]].get(key))
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(f"{key} must be a whole number of at least {minimum}, got {value!r}.")
    return value


def _n(x: int) -> str:
    return f"{x:,}"


def _row(i: int, layer: dict, shape: tuple[int, ...]) -> tuple[LayerRow, tuple[int, ...]]:
    """Describe layer ``i`` on input ``shape``; raises SpecError (or ValueError from shapes) if impossible."""
    kind = layer.get("type") if isinstance(layer, dict) else layer
    if not isinstance(kind, str) or kind not in LAYER_TYPES:  # a str first: a list or dict is not even hashable
        raise SpecError(f"Unknown layer type {kind!r}; choose one of {', '.join(LAYER_TYPES)}.")
    kind = layer["type"]
    spatial = len(shape) == 3
    if kind in ("conv", "batchnorm", "maxpool", "avgpool") and not spatial:
        raise SpecError(f"A {kind} layer needs an image (C×H×W) but gets a flat vector of {shape[0]} numbers.")
    if kind == "conv":
        c, h, w = shape
        limits = (("out_channels", 1), ("kernel", 1), ("stride", 1), ("padding", 0), ("dilation", 1))
        o, k, s, p, d = (_int(layer, key, m) for key, m in limits)
        ah, aw = shapes.conv_axis(h, k, s, p, d), shapes.conv_axis(w, k, s, p, d)
        out = (o, ah.output, aw.output)
        params = o * k * k * c + o
        formula = ah.substituted("H") if h != w or ah != aw else ah.substituted("H,W")
        name = f"Conv2d({c}→{o}, {k}×{k}" + (f", stride {s}" if s > 1 else "") + (f", pad {p}" if p else "") + (
            f", dilation {d}" if d > 1 else "") + ")"  # fmt: skip
        return LayerRow(i, name, kind, out, formula, params, f"{o}·({k}·{k}·{c}) + {o} = {_n(params)}",
                        o * ah.output * aw.output * k * k * c), out  # fmt: skip
    if kind in ("maxpool", "avgpool"):
        c, h, w = shape
        k = _int(layer, "kernel", 1)
        s = _int(layer, "stride", 1) if layer.get("stride") is not None else k
        ah, aw = shapes.pool_axis(h, k, s), shapes.pool_axis(w, k, s)
        out = (c, ah.output, aw.output)
        formula = ah.substituted("H") if h != w else ah.substituted("H,W")
        label = "MaxPool2d" if kind == "maxpool" else "AvgPool2d"
        return LayerRow(i, f"{label}({k}×{k}, stride {s})", kind, out, formula, 0, "0", 0), out
    if kind == "batchnorm":
        c = shape[0]
        return LayerRow(i, f"BatchNorm2d({c})", kind, shape, "", 2 * c, f"2·{c} = {2 * c}", 0), shape
    if kind == "flatten":
        n = 1
        for d in shape:
            n *= d
        return LayerRow(i, "Flatten", kind, (n,), "·".join(map(str, shape)) + f" = {_n(n)}" if spatial else "", 0,
                        "0", 0), (n,)  # fmt: skip
    if kind == "linear":
        if spatial:
            raise SpecError(f"A Linear layer needs a flat vector: add a Flatten before it (it gets {shape}).")
        n_in, o = shape[0], _int(layer, "out_features", 1)
        declared = layer.get("in_features")
        if declared is not None:
            declared = _int(layer, "in_features", 1)
        if declared is not None and declared != n_in:
            raise SpecError(f"Linear expects {_n(declared)} inputs but receives {_n(n_in)}. "
                            f"Set in_features to {n_in} or leave it automatic.")  # fmt: skip
        params = o * n_in + o
        return LayerRow(i, f"Linear({_n(n_in)}→{o})", kind, (o,), "", params,
                        f"{o}·{_n(n_in)} + {o} = {_n(params)}", o * n_in), (o,)  # fmt: skip
    if kind == "dropout":
        p = layer.get("p", 0.25)
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p < 1:
            raise SpecError(f"Dropout p must be a probability in [0, 1), got {p!r}.")
        return LayerRow(i, f"Dropout(p={p})", kind, shape, "", 0, "0", 0), shape
    if kind == "leaky_relu":
        slope = layer.get("slope", 0.01)
        if isinstance(slope, bool) or not isinstance(slope, int | float):
            raise SpecError(f"Leaky ReLU slope must be a number, got {slope!r}.")
        return LayerRow(i, f"LeakyReLU({slope})", kind, shape, "", 0, "0", 0), shape
    return LayerRow(i, ACTIVATIONS[kind].__name__, kind, shape, "", 0, "0", 0), shape


def summarize(spec: dict, input_shape: tuple[int, ...] = (1, 28, 28)) -> Summary:
    """One row per layer, with shapes, formulas, parameters and MACs; an impossible spec is reported, not raised.

    A spec over a limit of ``playground.limits`` (layers, weights, activations or multiply-adds per image) is
    reported the same way, on the row where it crosses the limit, from the arithmetic alone.
    """
    rows: list[LayerRow] = []
    shape = tuple(input_shape)
    layers = spec.get("layers") if isinstance(spec, dict) else None
    if not isinstance(layers, list) or not layers:
        return Summary((), 0, 0, shape, "The spec needs a non-empty list of layers.", 0)
    for i, layer in enumerate(layers):
        try:
            row, new_shape = _row(i, layer, shape)
            too_big = limits.network_error([*rows, row], i)
            if too_big:
                raise SpecError(too_big)
        except ValueError as e:  # SpecError, or a size rule from playground.shapes
            return Summary(tuple(rows), sum(r.params for r in rows), sum(r.macs for r in rows), shape,
                           f"Layer {i + 1}: {e}", i)  # fmt: skip
        rows.append(row)
        shape = new_shape
    return Summary(tuple(rows), sum(r.params for r in rows), sum(r.macs for r in rows), shape)


def _module(layer: dict, row: LayerRow, in_shape: tuple[int, ...]) -> nn.Module:
    kind = layer["type"]
    if kind == "conv":
        k, s, p, d = (layer.get(key, LAYER_TYPES["conv"][key]) for key in ("kernel", "stride", "padding", "dilation"))
        return nn.Conv2d(in_shape[0], layer["out_channels"], k, s, p, d)
    if kind in ("maxpool", "avgpool"):
        k = layer.get("kernel", 2)
        cls = nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d
        return cls(k, layer.get("stride") or k)
    if kind == "batchnorm":
        return nn.BatchNorm2d(in_shape[0])
    if kind == "flatten":
        return nn.Flatten()
    if kind == "linear":
        return nn.Linear(in_shape[0], layer["out_features"])
    if kind == "dropout":
        return nn.Dropout(layer.get("p", 0.25))
    if kind == "leaky_relu":
        return nn.LeakyReLU(layer.get("slope", 0.01))
    return ACTIVATIONS[kind]()


def build_model(spec: dict, input_shape: tuple[int, ...] = (1, 28, 28)) -> nn.Sequential:
    """The module for ``spec``: ``Normalize`` first, then one child per spec layer, named "0", "1", ….

    Takes (N, 1, 28, 28) images with pixels in [0, 1].

    Raises:
        SpecError: the spec is impossible; the message is the one ``summarize`` reports.
    """
    summary = summarize(spec, input_shape)
    if not summary.ok:
        raise SpecError(summary.error)
    model = nn.Sequential()
    model.add_module("normalize", Normalize())
    shape = tuple(input_shape)
    for i, (layer, row) in enumerate(zip(spec["layers"], summary.rows, strict=True)):
        model.add_module(str(i), _module(layer, row, shape))
        shape = row.output_shape
    return model


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
