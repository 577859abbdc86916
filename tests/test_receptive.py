"""Receptive fields by the recurrence, against a brute-force probe: which input pixels move one unit."""

import doctest

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from playground.explorer import receptive
from playground.explorer.receptive import receptive_fields
from playground.train.models import DEFAULT_SPEC, build_model, summarize

SIDE = 24

layer = st.one_of(
    st.builds(lambda k, s, p, d: {"type": "conv", "out_channels": 2, "kernel": k, "stride": s, "padding": p,
                                  "dilation": d},
              st.integers(1, 5), st.integers(1, 2), st.integers(0, 2), st.integers(1, 2)),
    st.builds(lambda kind, k, s: {"type": kind, "kernel": k, "stride": s},
              st.sampled_from(["maxpool", "avgpool"]), st.integers(1, 3), st.integers(1, 3)),
    st.just({"type": "relu"}),
)  # fmt: skip


def probe(spec: dict, index: int, unit: int, side: int = SIDE) -> tuple[int, int] | None:
    """First and last input row that changes unit (``unit``, ``unit``) of layer ``index``'s channel 0; None if none.

    Every weight 1 and every input 1, max pooling as average pooling (the same windows): every path from a
    pixel to the unit then carries a positive gradient, so the gradient's support is exactly the field.
    """
    model = build_model(spec, (1, side, side), classes=None).double().eval()  # batch norm: per channel
    for name, m in list(model.named_children()):
        if isinstance(m, nn.Conv2d):
            nn.init.ones_(m.weight), nn.init.zeros_(m.bias)
        elif isinstance(m, nn.MaxPool2d):
            model._modules[name] = nn.AvgPool2d(m.kernel_size, m.stride)
    x = torch.ones(1, 1, side, side, dtype=torch.float64, requires_grad=True)
    out = model[: index + 2](x)  # "normalize" first, then layers 0..index
    (grad,) = torch.autograd.grad(out[0, 0, unit, unit], x)
    rows = grad[0, 0].abs().sum(1).nonzero().flatten()
    return (int(rows.min()), int(rows.max())) if len(rows) else None


@settings(max_examples=150, deadline=None)
@given(st.lists(layer, min_size=1, max_size=5), st.data())
def test_the_recurrence_matches_the_pixels_that_move_a_unit(layers, data):
    """The pixels that move a unit lie in its field; all of it, when the field is inside the image and no
    layer pads (padding a layer adds is zeros, not pixels: a unit near the border sees less of the image)."""
    spec = {"layers": layers}
    summary = summarize(spec, (1, SIDE, SIDE), classes=None)
    if not summary.ok:
        return  # a size PyTorch refuses: nothing to probe
    fields = receptive_fields(spec)
    index = data.draw(st.integers(0, len(layers) - 1))
    unit = data.draw(st.integers(0, summary.rows[index].output_shape[1] - 1))
    first, last = fields[index].span(unit)
    moved = probe(spec, index, unit)
    if moved is not None:
        assert first <= moved[0] <= moved[1] <= last
    if first >= 0 and last < SIDE and not any(layer.get("padding") for layer in layers):
        assert moved == (first, last)


def test_the_classic_networks_fields_are_the_pixels_that_move_its_central_units():
    fields = receptive_fields(DEFAULT_SPEC)
    summary = summarize(DEFAULT_SPEC)
    for index, field in enumerate(fields):
        if field is None:
            break
        unit = summary.rows[index].output_shape[1] // 2
        assert probe(DEFAULT_SPEC, index, unit, side=28) == field.span(unit), index


def test_doctest_and_the_rule_written_out():
    assert doctest.testmod(receptive).failed == 0
    one, two = receptive.Field(size=5, jump=2, start=-2), receptive.Field(size=13, jump=4, start=-6)
    assert two.recurrence(5, 2, 2, 1, one) == "r = 5 + (5 − 1)·1·2 = 13, j = 2·2 = 4"
    assert receptive_fields({"layers": [{"type": "flatten"}, {"type": "linear"}]}) == [None, None]
