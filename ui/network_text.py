"""A network's layers as one short line for links and slides: ``conv16k5p2_bn_relu_max2_…_flat_lin10``.

Layers are separated by ``_``. Each is a word and its numbers: ``conv{out}k{kernel}p{padding}``
(plus ``s{stride}`` and ``d{dilation}`` when not 1), ``max{size}``/``avg{size}`` (plus ``s{stride}``
when it is not the size), ``drop{p}``, ``lrelu{slope}``, ``lin{out}`` (plus ``i{inputs}`` when typed
rather than inferred), and ``bn``, ``relu``, ``elu``, ``gelu``, ``tanh``, ``sigmoid``, ``flat``.
Whether the network can be built is ``playground.train.models.summarize``'s business; this only reads and writes.

>>> text = layers_text([{"type": "conv", "out_channels": 16, "kernel": 5, "padding": 2}, {"type": "relu"}])
>>> text
'conv16k5p2_relu'
>>> parse_layers(text)[0]["out_channels"]
16
"""

from __future__ import annotations

import re

from playground.train.layers import LAYER_TYPES
from ui.params import number_text

MAX_LAYERS = 40
_WORDS = {"batchnorm": "bn", "relu": "relu", "elu": "elu", "gelu": "gelu", "tanh": "tanh", "sigmoid": "sigmoid",
          "flatten": "flat"}  # fmt: skip
_KINDS = {w: k for k, w in _WORDS.items()}
_NUM = r"(-?\d+(?:\.\d+)?(?:e-?\d+)?)"
_CONV = re.compile(r"conv(\d+)k(\d+)(?:s(\d+))?p(\d+)(?:d(\d+))?")
_POOL = re.compile(r"(max|avg)(\d+)(?:s(\d+))?")
_LIN = re.compile(r"lin(\d+)(?:i(\d+))?")
_DROP = re.compile(rf"drop{_NUM}")
_LRELU = re.compile(rf"lrelu{_NUM}")


def _get(layer: dict, key: str):
    value = layer.get(key)
    return LAYER_TYPES[layer["type"]].get(key) if value is None and key != "in_features" else value


def layer_text(layer: dict) -> str:
    kind = layer["type"]
    if kind == "conv":
        s, d = _get(layer, "stride"), _get(layer, "dilation")
        return (f"conv{_get(layer, 'out_channels')}k{_get(layer, 'kernel')}" + (f"s{s}" if s != 1 else "")
                + f"p{_get(layer, 'padding')}" + (f"d{d}" if d != 1 else ""))  # fmt: skip
    if kind in ("maxpool", "avgpool"):
        k, s = _get(layer, "kernel"), layer.get("stride")
        return f"{kind[:3]}{k}" + (f"s{s}" if s is not None and s != k else "")
    if kind == "linear":
        n_in = layer.get("in_features")
        return f"lin{_get(layer, 'out_features')}" + (f"i{n_in}" if n_in is not None else "")
    if kind == "dropout":
        return f"drop{number_text(float(_get(layer, 'p')))}"
    if kind == "leaky_relu":
        return f"lrelu{number_text(float(_get(layer, 'slope')))}"
    return _WORDS[kind]


def layers_text(layers: list[dict]) -> str:
    """The layers as one line (see the module docstring)."""
    return "_".join(layer_text(layer) for layer in layers)


def _layer(word: str) -> dict:
    if word in _KINDS:
        return {"type": _KINDS[word]}
    if m := _CONV.fullmatch(word):
        o, k, s, p, d = m.groups()
        return {"type": "conv", "out_channels": int(o), "kernel": int(k), "stride": int(s or 1), "padding": int(p),
                "dilation": int(d or 1)}  # fmt: skip
    if m := _POOL.fullmatch(word):
        kind, k, s = m.groups()
        return {"type": f"{kind}pool", "kernel": int(k), "stride": int(s or k)}
    if m := _LIN.fullmatch(word):
        o, n_in = m.groups()
        return {"type": "linear", "out_features": int(o), "in_features": int(n_in) if n_in else None}
    if m := _DROP.fullmatch(word):
        return {"type": "dropout", "p": float(m.group(1))}
    if m := _LRELU.fullmatch(word):
        return {"type": "leaky_relu", "slope": float(m.group(1))}
    raise ValueError(f"does not know the layer {word[:20]!r}")


def parse_layers(text: str) -> list[dict]:
    """Layers from one line; raises ValueError naming the first word it cannot read."""
    words = [w for w in text.strip().lower().split("_") if w]
    if not words:
        raise ValueError("lists no layers")
    if len(words) > MAX_LAYERS:
        raise ValueError(f"lists more than {MAX_LAYERS} layers")
    return [_layer(w) for w in words]
