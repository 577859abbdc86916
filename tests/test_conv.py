"""The explorer pipeline against torch.nn modules, the field's worked examples and its own arithmetic."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from playground.explorer.conv import (
    ACTIVATIONS,
    PAD_MODES,
    POOLS,
    ActivationSpec,
    ConfigError,
    ConvSpec,
    PoolSpec,
    activate,
    run_stages,
)
from playground.explorer.explain import explain, fmt
from playground.explorer.kernels import PRESET_NAMES, kernel_tensor, parse_kernel, preset_kernel
from playground.explorer.shapes import same_padding

PATCH = torch.tensor([[134, 134, 117], [153, 144, 141], [152, 154, 150]], dtype=torch.float32)
NONE, NO_POOL = ActivationSpec(), PoolSpec()


def test_sharpen_patch_gives_138_and_reads_as_arithmetic():
    stages = run_stages(PATCH[None], ConvSpec((preset_kernel("Sharpen"),)), NONE, NO_POOL)
    assert stages.conv.item() == 138
    cell = explain(stages, 0, 0, 0)
    assert cell.arithmetic() == [
        "134×0 + 134×(−1) + 117×0 + 153×(−1) + 144×5 + 141×(−1) + 152×0 + 154×(−1) + 150×0 = 138"
    ]


def test_five_by_five_stride_two_gives_two_by_two():
    x = torch.arange(25.0).reshape(1, 5, 5)
    stages = run_stages(x, ConvSpec((preset_kernel("Box blur"),), stride=(2, 2)), NONE, NO_POOL)
    assert stages.conv.shape == (1, 2, 2)
    assert torch.allclose(stages.conv[0], torch.tensor([[6.0, 8.0], [16.0, 18.0]]))


def test_four_by_four_max_pool():
    x = torch.tensor([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=torch.float32)[None]
    stages = run_stages(x, ConvSpec((preset_kernel("Identity", 1),)), NONE, PoolSpec("Max"))
    assert stages.pooled.tolist() == [[[6.0, 8.0], [3.0, 4.0]]]


def test_same_padding_keeps_32x32x3_with_12_filters_then_pools_to_16():
    filters = tuple(preset_kernel("Random", 3, seed=i) for i in range(12))
    top, bottom = same_padding(3)
    spec = ConvSpec(filters, per_channel=False, padding=(top, bottom, top, bottom))
    stages = run_stages(torch.rand(3, 32, 32), spec, ActivationSpec("ReLU"), PoolSpec("Max"))
    assert stages.conv.shape == (12, 32, 32) and stages.pooled.shape == (12, 16, 16)


def test_28_to_7_shape_table():
    spec = ConvSpec((preset_kernel("Gaussian blur", 5),), padding=(2, 2, 2, 2))
    stages = run_stages(torch.rand(1, 28, 28), spec, ActivationSpec("ReLU"), PoolSpec("Max"))
    assert stages.conv.shape[-2:] == (28, 28) and stages.pooled.shape[-2:] == (14, 14)
    again = run_stages(stages.pooled, spec, ActivationSpec("ReLU"), PoolSpec("Max"))
    assert again.conv.shape[-2:] == (14, 14) and again.pooled.shape[-2:] == (7, 7)


def test_laplacian_relu_maxpool_on_a_photo():
    from playground.explorer.samples import SAMPLES, load_sample
    from playground.images import prepare

    photo = next(n for n in SAMPLES if "photo" in n.lower())
    image = prepare(load_sample(photo), color=False, max_side=128).tensor
    stages = run_stages(
        image, ConvSpec((preset_kernel("Laplacian (8-neighbour)"),)), ActivationSpec("ReLU"), PoolSpec("Max")
    )
    expected = F.max_pool2d(
        F.relu(F.conv2d(image[None], kernel_tensor(preset_kernel("Laplacian (8-neighbour)"))[None, None])), 2
    )
    assert torch.equal(stages.pooled, expected[0])
    assert stages.pooled.min() >= 0 and stages.pooled.max() > 50  # a photo has edges


@pytest.mark.parametrize("name", PRESET_NAMES)
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 11])
def test_every_preset_matches_conv2d(name, size):
    kernel = preset_kernel(name, size, seed=3)
    k = kernel_tensor(kernel)
    x = torch.rand(1, 24, 24) * 255
    if k.shape[0] > 24:
        pytest.skip("kernel larger than image")
    stages = run_stages(x, ConvSpec((kernel,)), NONE, NO_POOL)
    assert torch.allclose(stages.conv, F.conv2d(x[None], k[None, None])[0], atol=1e-3)


def test_preset_facts():
    assert sum(map(sum, preset_kernel("Gaussian blur", 5))) == pytest.approx(1)
    assert sum(map(sum, preset_kernel("Box blur", 4))) == pytest.approx(1)
    assert preset_kernel("Laplacian (8-neighbour)") == ((-1, -1, -1), (-1, 8, -1), (-1, -1, -1))
    assert preset_kernel("Random", 3, seed=1) == preset_kernel("Random", 3, seed=1)
    with pytest.raises(KeyError):
        preset_kernel("Nope")
    with pytest.raises(ValueError):
        preset_kernel("Box blur", 12)


def test_parse_kernel_errors():
    assert parse_kernel([["1", 2], [3, "4.5"]]) == ((1, 2), (3, 4.5))
    for bad, words in [
        ([], "empty"),
        ([[1, 2], [3]], "same number"),
        ([[1, "x"]], "not a number"),
        ([[float("nan")]], "finite"),
        ([[0] * 12], "1 to 11"),
    ]:
        with pytest.raises(ValueError, match=words):
            parse_kernel(bad)


TORCH_ACTIVATIONS = {
    "None": lambda a: nn.Identity(),
    "ReLU": lambda a: nn.ReLU(),
    "Leaky ReLU": lambda a: nn.LeakyReLU(a.slope),
    "ELU": lambda a: nn.ELU(a.alpha),
    "GELU": lambda a: nn.GELU(),
    "Tanh": lambda a: nn.Tanh(),
    "Sigmoid": lambda a: nn.Sigmoid(),
}


def _module_pipeline(x, spec, act, pool):
    c_in = x.shape[0]
    k_h, k_w = spec.kernel_size
    groups = c_in if spec.per_channel else 1
    c_out = c_in if spec.per_channel else len(spec.filters)
    top, bottom, left, right = spec.padding
    conv = nn.Conv2d(c_in, c_out, (k_h, k_w), spec.stride, 0, spec.dilation, groups, bias=True)
    with torch.no_grad():
        kernels = [kernel_tensor(k) for k in spec.filters]
        for o in range(c_out):
            k = kernels[0] if spec.per_channel else kernels[o]
            conv.weight[o] = (k.flip(-1, -2) if spec.flip else k).expand(conv.weight.shape[1], -1, -1)
        conv.bias.fill_(spec.bias)
        mode = "constant" if spec.padding_mode == "zeros" else spec.padding_mode
        y = conv(F.pad(x[None], (left, right, top, bottom), mode=mode))
        y = TORCH_ACTIVATIONS[act.name](act)(y)  # torch's own modules, not the engine's activate()
        if pool.kind == "Max":
            y = nn.MaxPool2d(pool.kernel, pool.stride, pool.padding, ceil_mode=pool.ceil_mode)(y)
        elif pool.kind == "Average":
            y = nn.AvgPool2d(pool.kernel, pool.stride, pool.padding, ceil_mode=pool.ceil_mode)(y)
        elif pool.kind == "LP (L2)":
            if any(pool.padding):
                raise ValueError("LPPool2d takes no padding")
            y = nn.LPPool2d(2, pool.kernel, pool.stride, ceil_mode=pool.ceil_mode)(y)
    return y[0]


@settings(max_examples=300, deadline=None)
@given(
    c=st.sampled_from([1, 3]),
    hw=st.tuples(st.integers(3, 20), st.integers(3, 20)),
    k=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    n_filters=st.integers(1, 4),
    per_channel=st.booleans(),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(*[st.integers(0, 3)] * 4),
    mode=st.sampled_from(PAD_MODES),
    dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    flip=st.booleans(),
    bias=st.sampled_from([0.0, 1.5, -3.0]),
    act=st.sampled_from(ACTIVATIONS),
    pool_kind=st.sampled_from(POOLS),
    pool_k=st.integers(1, 3),
    pool_s=st.integers(1, 3),
    pool_p=st.integers(0, 1),
    ceil=st.booleans(),
    data=st.data(),
)
def test_pipeline_matches_torch_modules_and_arithmetic_matches_cells(
    c,
    hw,
    k,
    n_filters,
    per_channel,
    stride,
    padding,
    mode,
    dilation,
    flip,
    bias,
    act,
    pool_kind,
    pool_k,
    pool_s,
    pool_p,
    ceil,
    data,
):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (c, *hw), generator=g).float()
    filters = tuple(
        tuple(tuple(float(v) for v in row) for row in torch.randint(-3, 4, k, generator=g)) for _ in range(n_filters)
    )
    spec = ConvSpec(filters, per_channel, stride, padding, mode, dilation, flip, bias)
    a = ActivationSpec(act, slope=0.1)
    p = PoolSpec(pool_kind, (pool_k, pool_k), (pool_s, pool_s), (pool_p, pool_p), ceil)
    try:
        stages = run_stages(x, spec, a, p)
    except ConfigError as e:
        assert str(e)[0].isupper() and str(e).endswith(".")
        with pytest.raises((RuntimeError, ValueError)):
            _module_pipeline(x, spec, a, p)
        return
    expected = _module_pipeline(x, spec, a, p)
    final = stages.pooled if stages.pooled is not None else stages.activated
    assert final.shape == expected.shape
    assert torch.allclose(final, expected, rtol=1e-4, atol=1e-2)
    ch, h, w = stages.conv.shape
    cell = explain(
        stages, data.draw(st.integers(0, ch - 1)), data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, w - 1))
    )
    assert cell.total == pytest.approx(cell.conv_value, rel=1e-4, abs=1e-2)
    assert cell.activated == pytest.approx(float(activate(torch.tensor(cell.conv_value), a)), abs=1e-5)
    if cell.pooled_cell is not None:
        r, c_ = cell.pooled_cell
        assert cell.pooled_value == float(stages.pooled[cell.channel, r, c_])
        if p.kind == "Max":
            assert cell.pooled_value >= cell.activated


def test_impossible_configurations_say_why():
    x = torch.rand(1, 4, 4)
    cases = [
        (ConvSpec((preset_kernel("Gaussian blur", 7),)), NO_POOL, "no window fits"),
        (ConvSpec((preset_kernel("Sharpen"),), padding=(4, 4, 0, 0), padding_mode="reflect"), NO_POOL, "Reflect"),
        (ConvSpec((preset_kernel("Sharpen"),), padding=(5, 5, 0, 0), padding_mode="circular"), NO_POOL, "Circular"),
        (ConvSpec((preset_kernel("Sharpen"),)), PoolSpec("Max", (2, 2), (2, 2), (2, 2)), "half the pooling"),
        (ConvSpec((preset_kernel("Sharpen"),)), PoolSpec("Max", (3, 3), (1, 1)), "empty"),
        (ConvSpec((preset_kernel("Sharpen"),)), PoolSpec("LP (L2)", (1, 1), (1, 1), (0, 1)), "LP pooling"),
        (ConvSpec((preset_kernel("Sharpen"), preset_kernel("Box blur", 2)), per_channel=False), NO_POOL, "same size"),
    ]
    for spec, pool, words in cases:
        with pytest.raises(ConfigError, match=words):
            run_stages(x, spec, NONE, pool)


def test_uncovered_border_is_reported_in_good_english():
    stages = run_stages(torch.rand(1, 6, 6), ConvSpec((preset_kernel("Sharpen"),), stride=(2, 2)), NONE, NO_POOL)
    assert len(stages.notes) == 2 and "the last padded row is never covered" in stages.notes[0]
    assert "(it is ignored)" in stages.notes[0] and "last padded column is" in stages.notes[1]
    stages = run_stages(torch.rand(1, 8, 4), ConvSpec((preset_kernel("Sharpen"),), stride=(3, 1)), NONE, NO_POOL)
    assert stages.notes == (
        "The stride does not divide evenly: the last 2 padded rows are never covered by a kernel window "
        "(they are ignored).",
    )


def test_fmt():
    assert fmt(138.0) == "138" and fmt(-1.0) == "−1" and fmt(0.1111111) == "0.111" and fmt(2.5) == "2.5"
    assert fmt(80.4, 0) == "80" and fmt(-49.8, 0) == "−50" and fmt(100.5, 1) == "100.5" and fmt(2.50001, 2) == "2.5"
    # A trained model's small weights, readably: three significant digits, no powers of ten while that is short.
    assert fmt(2.44e-4) == "0.000244" and fmt(-1.5e-5) == "−0.000015" and fmt(1e-7) == "1.00e−07"


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_pool_stride_defaults_to_the_pool_size_as_in_pytorch(k):
    module = nn.MaxPool2d(k)
    assert PoolSpec("Max", (k, k)).stride == PoolSpec.square("Max", k).stride == (k, k) == (module.stride,) * 2
    assert PoolSpec("Max", (k, k + 1)).stride == (k, k + 1)
    assert PoolSpec("Max", (k, k), (1, 1)).stride == (1, 1) and PoolSpec.square("Max", k, 1).stride == (1, 1)
    assert PoolSpec("Max", (k, k)) == PoolSpec("Max", (k, k), (k, k))  # one setting, one value (and one hash)
    x = torch.rand(1, 17, 19)
    stages = run_stages(x, ConvSpec((preset_kernel("Identity", 1),)), NONE, PoolSpec.square("Max", k))
    assert torch.equal(stages.pooled, module(x[None])[0])
    avg = PoolSpec.square("Average", k, padding=k // 2, ceil_mode=True)
    expected = nn.AvgPool2d(k, padding=k // 2, ceil_mode=True)(x[None])[0]
    assert torch.equal(run_stages(x, ConvSpec((preset_kernel("Identity", 1),)), NONE, avg).pooled, expected)


def test_huge_kernel_values_are_refused_with_a_sentence():
    from playground.explorer.kernels import WEIGHT_LIMIT

    assert parse_kernel([[WEIGHT_LIMIT, -WEIGHT_LIMIT]]) == ((1000.0, -1000.0),)
    for bad in ("1e38", 1e17, -1000.5):
        with pytest.raises(ValueError, match="weights must lie between −1,000 and 1,000"):
            parse_kernel([[0, bad]])


@pytest.mark.parametrize(
    ("weight", "pool", "stage"),
    [(1e38, "None", "convolution"), (1e17, "LP (L2)", "pooling"), (-1e38, "Max", "convolution")],
)
def test_a_stage_that_overflows_is_named(weight, pool, stage):
    """Past parse_kernel's bound (a ConvSpec built directly), an overflow is a ConfigError naming the stage."""
    image = torch.full((1, 6, 6), 255.0)
    with pytest.raises(ConfigError, match=f"The {stage} overflowed"):
        run_stages(image, ConvSpec((((weight,),),)), ActivationSpec("None"), PoolSpec(pool))
    small = run_stages(
        image, ConvSpec((((1000.0,),),)), ActivationSpec("None"), PoolSpec(pool)
    )  # the bound: all finite
    assert torch.isfinite(small.conv).all()


def test_the_bias_is_bounded_too():
    image = torch.full((1, 6, 6), 255.0)
    for bias in (1001.0, float("nan"), float("inf")):
        with pytest.raises(ConfigError, match="bias must lie between"):
            run_stages(image, ConvSpec((((1.0,),),), bias=bias), ActivationSpec("None"), PoolSpec("None"))
