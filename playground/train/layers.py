"""Layer kinds: what each kind of layer takes, the row of the network table it makes, and the module it builds.

One table (``LAYER_KINDS``) says it all for every kind; ``layer_params`` checks a spec's layer against it once,
and the rows and the builders only ever see checked parameters. ``playground.train.models`` puts rows together into
a network's summary and its module.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from playground.explorer import shapes


class SpecError(ValueError):
    """A spec that cannot be built, with the reason in words."""


@dataclass(frozen=True, kw_only=True)
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


def _n(x: int) -> str:
    return f"{x:,}"


@dataclass(frozen=True)
class Whole:
    """A whole-number parameter: its default (None: "automatic") and its least value."""

    default: int | None
    minimum: int


@dataclass(frozen=True)
class Real:
    """A number parameter; ``below`` is an exclusive upper bound (a probability's 1)."""

    default: float
    minimum: float | None = None
    below: float | None = None
    words: str = "a number"


def _check(kind: str, key: str, rule: Whole | Real, value: object) -> object:
    if value is None and rule.default is None:
        return None
    if isinstance(rule, Whole):
        if isinstance(value, bool) or not isinstance(value, int) or value < rule.minimum:
            raise SpecError(f"{key} must be a whole number of at least {rule.minimum}, got {value!r}.")
        return value
    lo, hi = rule.minimum, rule.below
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or (
            lo is not None and value < lo) or (hi is not None and value >= hi):  # fmt: skip
        raise SpecError(f"{LAYER_KINDS[kind].title} {key} must be {rule.words}, got {value!r}.")
    return value


def _no_params(i: int, name: str, kind: str, shape: tuple[int, ...], formula: str) -> LayerRow:
    """The row of a layer with no parameters and no multiply-accumulates."""
    return LayerRow(index=i, name=name, type=kind, output_shape=shape, formula=formula, params=0, params_formula="0",
                    macs=0)  # fmt: skip


def _conv_row(i: int, q: dict, shape: tuple[int, ...]) -> tuple[LayerRow, tuple[int, ...]]:
    (c, h, w), (o, k, s, p, d) = shape, (q[key] for key in ("out_channels", "kernel", "stride", "padding", "dilation"))
    ah, aw = shapes.conv_axis(h, k, s, p, d), shapes.conv_axis(w, k, s, p, d)
    out, params = (o, ah.output, aw.output), o * k * k * c + o
    formula = ah.substituted("H") if h != w or ah != aw else ah.substituted("H,W")
    name = f"Conv2d({c}→{o}, {k}×{k}" + (f", stride {s}" if s > 1 else "") + (f", pad {p}" if p else "") + (
        f", dilation {d}" if d > 1 else "") + ")"  # fmt: skip
    row = LayerRow(index=i, name=name, type="conv", output_shape=out, formula=formula, params=params,
                   params_formula=f"{o}·({k}·{k}·{c}) + {o} = {_n(params)}",
                   macs=o * ah.output * aw.output * k * k * c)  # fmt: skip
    return row, out


def _pool_row(kind: str):
    def row(i: int, q: dict, shape: tuple[int, ...]) -> tuple[LayerRow, tuple[int, ...]]:
        (c, h, w), k, s = shape, q["kernel"], q["stride"]
        ah, aw = shapes.pool_axis(h, k, s), shapes.pool_axis(w, k, s)
        out = (c, ah.output, aw.output)
        formula = ah.substituted("H") if h != w else ah.substituted("H,W")
        title = f"{LAYER_KINDS[kind].title}({k}×{k}, stride {s})"
        return _no_params(i, title, kind, out, formula), out

    return row


def _batchnorm_row(i: int, q: dict, shape: tuple[int, ...]) -> tuple[LayerRow, tuple[int, ...]]:
    c = shape[0]
    row = LayerRow(index=i, name=f"BatchNorm2d({c})", type="batchnorm", output_shape=shape, formula="",
                   params=2 * c, params_formula=f"2·{c} = {2 * c}", macs=0)  # fmt: skip
    return row, shape


def _flatten_row(i: int, q: dict, shape: tuple[int, ...]) -> tuple[LayerRow, tuple[int, ...]]:
    n = math.prod(shape)
    formula = "·".join(map(str, shape)) + f" = {_n(n)}" if len(shape) == 3 else ""
    return _no_params(i, "Flatten", "flatten", (n,), formula), (n,)


def _linear_row(i: int, q: dict, shape: tuple[int, ...]) -> tuple[LayerRow, tuple[int, ...]]:
    if len(shape) != 1:
        raise SpecError(f"A Linear layer needs a flat vector: add a Flatten before it (it gets {shape}).")
    n_in, o, declared = shape[0], q["out_features"], q["in_features"]
    if declared is not None and declared != n_in:
        raise SpecError(f"Linear expects {_n(declared)} inputs but receives {_n(n_in)}. "
                        f"Set in_features to {n_in} or leave it automatic.")  # fmt: skip
    params = o * n_in + o
    row = LayerRow(index=i, name=f"Linear({_n(n_in)}→{o})", type="linear", output_shape=(o,), formula="",
                   params=params, params_formula=f"{o}·{_n(n_in)} + {o} = {_n(params)}", macs=o * n_in)  # fmt: skip
    return row, (o,)


def _same_shape(kind: str, name: Callable[[dict], str]):
    def row(i: int, q: dict, shape: tuple[int, ...]) -> tuple[LayerRow, tuple[int, ...]]:
        return _no_params(i, name(q), kind, shape, ""), shape

    return row


Row = Callable[[int, dict, tuple[int, ...]], tuple[LayerRow, tuple[int, ...]]]


@dataclass(frozen=True)
class LayerKind:
    """One kind of layer: its parameters with their defaults, its row of the network table, its module.

    ``row`` and ``build`` receive the parameters checked and completed by ``layer_params``, never a raw spec.
    """

    title: str  # the PyTorch module's name
    params: dict[str, Whole | Real]
    row: Row
    build: Callable[[dict, tuple[int, ...]], nn.Module]  # (checked parameters, input shape) → module
    needs_image: bool = False  # C×H×W in, not a flat vector


def _activation(kind: str, module: type[nn.Module]) -> LayerKind:
    return LayerKind(module.__name__, {}, _same_shape(kind, lambda q: module.__name__), lambda q, shape: module())


def _pool(kind: str, module: type[nn.Module]) -> LayerKind:
    build = lambda q, shape: module(q["kernel"], q["stride"])  # noqa: E731
    return LayerKind(module.__name__, {"kernel": Whole(2, 1), "stride": Whole(None, 1)}, _pool_row(kind), build, True)


# Every layer a spec may use, in the editor's order: the one place that says what each kind takes and makes.
LAYER_KINDS: dict[str, LayerKind] = {
    "conv": LayerKind(
        "Conv2d",
        {
            "out_channels": Whole(16, 1),
            "kernel": Whole(3, 1),
            "stride": Whole(1, 1),
            "padding": Whole(1, 0),
            "dilation": Whole(1, 1),
        },
        _conv_row,
        lambda q, shape: nn.Conv2d(shape[0], q["out_channels"], q["kernel"], q["stride"], q["padding"], q["dilation"]),
        needs_image=True,
    ),
    "batchnorm": LayerKind("BatchNorm2d", {}, _batchnorm_row, lambda q, shape: nn.BatchNorm2d(shape[0]), True),
    "relu": _activation("relu", nn.ReLU),
    "leaky_relu": LayerKind(
        "LeakyReLU",
        {"slope": Real(0.01)},
        _same_shape("leaky_relu", lambda q: f"LeakyReLU({q['slope']})"),
        lambda q, shape: nn.LeakyReLU(q["slope"]),
    ),
    "elu": _activation("elu", nn.ELU),
    "gelu": _activation("gelu", nn.GELU),
    "tanh": _activation("tanh", nn.Tanh),
    "sigmoid": _activation("sigmoid", nn.Sigmoid),
    "maxpool": _pool("maxpool", nn.MaxPool2d),
    "avgpool": _pool("avgpool", nn.AvgPool2d),
    "dropout": LayerKind(
        "Dropout",
        {"p": Real(0.25, 0.0, 1.0, "a probability in [0, 1)")},
        _same_shape("dropout", lambda q: f"Dropout(p={q['p']})"),
        lambda q, shape: nn.Dropout(q["p"]),
    ),
    "flatten": LayerKind("Flatten", {}, _flatten_row, lambda q, shape: nn.Flatten()),
    "linear": LayerKind(
        "Linear",
        {"out_features": Whole(10, 1), "in_features": Whole(None, 1)},
        _linear_row,
        lambda q, shape: nn.Linear(shape[0], q["out_features"]),
    ),
}
# Each kind's parameters and their defaults (None: automatic): the page builds its editor from this.
LAYER_TYPES = {kind: {key: rule.default for key, rule in k.params.items()} for kind, k in LAYER_KINDS.items()}


def layer_params(layer: object) -> tuple[str, dict]:
    """A spec layer's kind and its parameters, checked and with defaults filled in; raises SpecError in words."""
    kind = layer.get("type") if isinstance(layer, dict) else layer
    if not isinstance(kind, str) or kind not in LAYER_KINDS:  # a str first: a list or dict is not even hashable
        raise SpecError(f"Unknown layer type {kind!r}; choose one of {', '.join(LAYER_KINDS)}.")
    rules = LAYER_KINDS[kind].params
    q = {key: _check(kind, key, rule, layer.get(key, rule.default)) for key, rule in rules.items()}
    if kind in ("maxpool", "avgpool") and q["stride"] is None:
        q["stride"] = q["kernel"]  # PyTorch's default: windows side by side
    return kind, q


def layer_row(i: int, layer: dict, shape: tuple[int, ...]) -> tuple[LayerRow, tuple[int, ...]]:
    """Describe layer ``i`` on input ``shape``; raises SpecError (or ValueError from shapes) if impossible."""
    kind, q = layer_params(layer)
    if LAYER_KINDS[kind].needs_image and len(shape) != 3:
        raise SpecError(f"A {kind} layer needs an image (C×H×W) but gets a flat vector of {shape[0]} numbers.")
    return LAYER_KINDS[kind].row(i, q, shape)
