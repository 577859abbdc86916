"""Specs, shapes and parameter counts against real modules; impossible specs are reported, not raised."""

import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from playground.train.layers import LAYER_KINDS, LAYER_TYPES
from playground.train.models import (
    DEFAULT_SPEC,
    MEAN,
    PRESETS,
    SpecError,
    build_model,
    dense_comparison,
    feature_maps,
    summarize,
)


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def test_the_classic_and_keras_networks_have_the_published_parameter_counts():
    assert n_params(build_model(DEFAULT_SPEC)) == summarize(DEFAULT_SPEC).total_params == 29_034
    keras = PRESETS["Keras book"]
    assert n_params(build_model(keras)) == summarize(keras).total_params == 93_322
    rows = summarize(DEFAULT_SPEC)
    assert rows[0].params_formula == "16·(5·5·1) + 16 = 416" and rows[0]["name"] == "Conv2d(1→16, 5×5, pad 2)"
    assert [r.output_shape for r in rows][:9] == [
        (16, 28, 28), (16, 28, 28), (16, 28, 28), (16, 14, 14), (32, 14, 14), (32, 14, 14), (32, 14, 14),
        (32, 7, 7), (1568,),
    ]  # fmt: skip
    assert "28 + 2 + 2" in rows[0].formula and rows[0].formula.endswith("= 28")


def _assert_rows_match_module(spec, classes=10):
    summary = summarize(spec, classes=classes)
    assert summary.ok, summary.error
    model = build_model(spec, classes=classes).eval()
    maps = feature_maps(model, torch.zeros(2, 1, 28, 28))
    assert [tuple(t.shape[1:]) for _, t in maps] == [r.output_shape for r in summary]
    assert n_params(model) == summary.total_params


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_matches_its_module(name):
    _assert_rows_match_module(PRESETS[name])


layer = st.one_of(
    st.builds(lambda c, k, s, p, d: {"type": "conv", "out_channels": c, "kernel": k, "stride": s, "padding": p,
                                     "dilation": d},
              st.integers(1, 6), st.integers(1, 5), st.integers(1, 2), st.integers(0, 2), st.integers(1, 2)),
    st.builds(lambda k: {"type": "maxpool", "kernel": k}, st.integers(1, 3)),
    st.builds(lambda k: {"type": "avgpool", "kernel": k, "stride": 1}, st.integers(1, 3)),
    st.sampled_from([{"type": t} for t in ("batchnorm", "relu", "gelu", "tanh", "sigmoid", "elu")]),
    st.just({"type": "leaky_relu", "slope": 0.2}),
    st.just({"type": "dropout", "p": 0.1}),
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(layer, min_size=1, max_size=5), st.integers(1, 20))
def test_random_specs_match_real_modules_or_are_reported(layers, units):
    spec = {"name": "random", "layers": [*layers, {"type": "flatten"}, {"type": "linear", "out_features": units}]}
    summary = summarize(spec, classes=None)  # any number of outputs: the shapes are what is tested here
    if summary.ok:
        _assert_rows_match_module(spec, classes=None)
    else:
        assert summary.error.startswith(f"Layer {summary.error_row + 1}:")
        with pytest.raises(SpecError):
            build_model(spec, classes=None)


@pytest.mark.parametrize(
    ("change", "row", "words"),
    [
        (lambda s: s["layers"].insert(8, {"type": "conv", "out_channels": 8, "kernel": 11}), 8, "no window fits"),
        (lambda s: (s["layers"][4].update(stride=2), s["layers"][9].update(in_features=1568)), 9,
         "Linear expects 1,568 inputs but receives 288"),  # a typed input count that no longer fits
        (lambda s: s["layers"][0].update(kernel=-1), 0, "kernel must be a whole number"),
        (lambda s: s["layers"].insert(2, {"type": "transformer"}), 2, "Unknown layer type"),
        (lambda s: s["layers"].insert(9, {"type": "conv", "out_channels": 4}), 9, "needs an image"),
        (lambda s: s["layers"].pop(8), 8, "add a Flatten"),
        (lambda s: s["layers"].insert(1, {"type": "dropout", "p": 1.5}), 1, "probability"),
    ],
)
def test_impossible_specs_are_explained_on_their_row(change, row, words):
    spec = copy.deepcopy(DEFAULT_SPEC)
    change(spec)
    summary = summarize(spec)
    assert not summary.ok and summary.error_row == row and words in summary.error
    assert len(summary.rows) == row
    with pytest.raises(SpecError, match=words):
        build_model(spec)


FLAT = {"type": "flatten"}


@pytest.mark.parametrize(
    ("layers", "words"),
    [
        ([FLAT, {"type": "linear", "out_features": 149}], "ends with 149 numbers, but it must end with 10"),
        ([{"type": "conv", "out_channels": 2}], "ends with an image of 2×28×28 numbers"),
        ([FLAT], "ends with 784 numbers"),
        ([{"type": "maxpool", "kernel": 7}, {"type": "relu"}, FLAT, {"type": "dropout"}], "ends with 16 numbers"),
        ([{"type": "conv", "out_channels": 10, "kernel": 28, "padding": 0}, FLAT], None),  # 10 scores: it trains
        ([{"type": "maxpool", "kernel": 7}, FLAT, {"type": "avgpool"}], "needs an image"),
    ],
)
def test_networks_that_could_not_be_trained_are_refused_on_their_last_row(layers, words):
    """Issue 9: a network not ending in 10 scores died in training (shape '[10, 10]' is invalid …); now refused."""
    summary = summarize({"layers": layers})
    if words is None:
        assert summary.ok and summary.output_shape == (10,)
        assert build_model({"layers": layers})(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
        return
    assert not summary.ok and words in summary.error
    with pytest.raises(SpecError, match=words):
        build_model({"layers": layers})


def test_a_network_without_weights_is_refused_before_the_optimizer_would_be():
    spec = {"layers": [{"type": "avgpool", "kernel": 28, "stride": 28}, FLAT, {"type": "relu"}]}
    no_weights = "Layer 3: this network has no weights to learn. Add a Conv or Linear layer."
    assert summarize(spec, classes=1).error == no_weights
    assert summarize(spec, classes=None).ok  # the shapes alone are fine


def test_every_parameter_takes_its_default_from_the_one_table():
    """A conv row without ``out_channels`` built a KeyError; now each kind's defaults come from LAYER_KINDS."""
    spec = {"layers": [{"type": "conv"}, {"type": "maxpool"}, FLAT, {"type": "linear"}]}
    summary = summarize(spec)
    assert summary.ok and summary.rows[0].output_shape == (16, 28, 28) and summary.rows[1].output_shape == (16, 14, 14)
    model = build_model(spec)
    conv, pool = model.get_submodule("0"), model.get_submodule("1")
    defaults = LAYER_TYPES["conv"]
    assert (conv.out_channels, conv.kernel_size, conv.padding) == (
        defaults["out_channels"], (defaults["kernel"],) * 2, (defaults["padding"],) * 2)  # fmt: skip
    assert pool.stride == pool.kernel_size == LAYER_TYPES["maxpool"]["kernel"]  # stride None: PyTorch's default
    assert set(LAYER_TYPES) == set(LAYER_KINDS)


def test_malformed_specs():
    for bad in ({}, {"layers": []}, {"layers": "conv"}, None):
        assert not summarize(bad).ok


def test_normalisation_is_inside_and_channels_last_works():
    model = build_model(DEFAULT_SPEC).eval()
    x = torch.rand(4, 1, 28, 28)
    assert torch.allclose(model.normalize(x), (x - MEAN) / 0.3530)
    assert len(list(model.normalize.parameters())) == 0
    plain = model(x)  # before the conversion: .to(memory_format=…) changes the model in place and returns it
    cl = model.to(memory_format=torch.channels_last)
    assert cl.get_submodule("0").weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(cl(x.contiguous(memory_format=torch.channels_last)), plain, atol=1e-5)


def test_dense_comparison_for_the_parameter_sharing_lesson():
    lesson = dense_comparison((1, 28, 28), (16, 28, 28), 416)
    assert lesson["dense_params"] == 784 * 12_544 + 12_544 and lesson["ratio"] > 20_000


@pytest.mark.parametrize("name", list(PRESETS))
def test_multiply_accumulates_match_torchs_own_count(name):
    """summarize's MACs per image, checked against torch's FLOP counter (2 FLOPs per multiply-accumulate)."""
    from torch.utils.flop_counter import FlopCounterMode

    spec = PRESETS[name]
    model = build_model(spec).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    counted = sum(n for op, n in counter.get_flop_counts()["Global"].items() if "conv" in str(op) or "mm" in str(op))
    assert summarize(spec).total_macs * 2 == counted


def test_training_with_the_pool_before_the_relu_is_the_same_network_gradients_included():
    """playground.train.loop trains so: every value and every gradient must be the one of the network as written."""
    from playground.train.models import pool_before_relu

    torch.manual_seed(0)
    written = build_model(DEFAULT_SPEC).train()
    swapped = build_model(DEFAULT_SPEC).train()
    swapped.load_state_dict(written.state_dict())
    as_written = pool_before_relu(swapped)
    kinds = [type(m).__name__ for m in swapped]
    assert kinds[3:5] == ["MaxPool2d", "ReLU"] and kinds[7:9] == ["MaxPool2d", "ReLU"]
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    for model in (written, swapped):
        torch.nn.functional.cross_entropy(model(x), y).backward()
    assert torch.equal(written(x), swapped(x))
    for (name, a), (_, b) in zip(written.named_parameters(), swapped.named_parameters(), strict=True):
        assert torch.equal(a.grad, b.grad), name
    as_written()
    assert [type(m).__name__ for m in swapped] == [type(m).__name__ for m in written]
    assert list(swapped.state_dict()) == list(written.state_dict())
