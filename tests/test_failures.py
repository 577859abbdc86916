"""Errors as lessons: every impossible setting names its stage, axis and numbers, and PyTorch refuses it too."""

import re

import pytest
import torch
import torch.nn.functional as F
from hypothesis import event, given, settings
from hypothesis import strategies as st

from playground.explorer.conv import PAD_MODES, POOLS, ActivationSpec, ConfigError, ConvSpec, PoolSpec, run_stages
from playground.explorer.failures import plural
from playground.explorer.kernels import preset_kernel
from playground.explorer.shapes import SizeError, check_padding, conv_output_size, pool_output_size

NONE = ActivationSpec()
ORDER = ("padding", "convolution", "pooling")


def failure(image, spec, pool=None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        run_stages(image, spec, NONE, pool or PoolSpec())
    return info.value


def ones(h: int, w: int):
    return ((1.0,) * w,) * h


def test_plural():
    assert plural(1, "pixel") == "1 pixel" and plural(2, "pixel") == "2 pixels" and plural(0, "pixel") == "0 pixels"
    assert plural(3, "padded row") == "3 padded rows" and plural(2, "axis", "axes") == "2 axes"


def test_kernel_wider_than_the_padded_input_works_the_formula_out():
    e = failure(torch.rand(1, 9, 3), ConvSpec((ones(5, 5),)))  # fits the 9 rows, not the 3 columns
    assert (e.stage, e.axis) == ("convolution", "width")
    assert e.formula == (
        r"W_{out} = \left\lfloor\frac{3 + 0 + 0 - 1\cdot(5-1) - 1}{1}\right\rfloor + 1"
        r" = \left\lfloor\frac{-2}{1}\right\rfloor + 1 = -1"
    )
    assert e.rule.startswith(r"W_{out} = \left\lfloor\frac{W + P_{before} + P_{after}")
    assert str(e) == (
        "Along the width, the kernel spans 5 pixels but the padded input is only 3 pixels long, so no window fits. "
        "Use a smaller kernel or dilation, or more padding."
    )


def test_three_by_three_upload_with_a_five_by_five_kernel_fails_on_the_height_first():
    e = failure(torch.rand(3, 3, 3), ConvSpec((ones(5, 5),)))
    assert (e.stage, e.axis) == ("convolution", "height") and e.formula.startswith("H_{out}")


def test_dilation_and_padding_are_spelled_out():
    e = failure(torch.rand(1, 4, 20), ConvSpec((ones(3, 3),), padding=(1, 0, 0, 0), dilation=(3, 1)))
    assert e.axis == "height" and "the kernel spans 7 pixels (dilation 3 × (3 − 1) + 1)" in e.why
    assert "only 5 pixels long (4 + 1 + 0)" in e.why and r"4 + 1 + 0 - 3\cdot(3-1) - 1" in e.formula
    assert e.formula.endswith(r"\left\lfloor\frac{-2}{1}\right\rfloor + 1 = -1")


def test_five_by_five_grid_at_stride_16_then_pooling_blames_the_pooling_with_one_pixel():
    # The convolution fits (one window: a 1×1 output); the 2×2 pooling then has 1 pixel to pool.
    e = failure(torch.rand(1, 5, 5), ConvSpec((ones(3, 3),), stride=(16, 16)), PoolSpec("Max"))
    assert (e.stage, e.axis) == ("pooling", "height")
    assert e.formula == (
        r"H_{out} = \left\lfloor\frac{1 + 2 \cdot 0 - 1\cdot(2-1) - 1}{2}\right\rfloor + 1"
        r" = \left\lfloor\frac{-1}{2}\right\rfloor + 1 = 0"
    )
    assert "2P" in e.rule  # the pooling rule, not the convolution's
    assert "the pooling window spans 2 pixels but the map it pools is only 1 pixel long" in str(e)
    assert "1 pixels" not in str(e)


def test_ceil_mode_fails_with_ceiling_brackets():
    # ceil_mode lets a window hang over the end: a 5-wide window on the 4-wide convolution output still fits ...
    fits = run_stages(
        torch.rand(1, 6, 6), ConvSpec((ones(3, 3),)), NONE, PoolSpec("Average", (2, 5), (2, 2), ceil_mode=True)
    )
    assert fits.pooled.shape[-1] == F.avg_pool2d(torch.rand(1, 1, 4, 4), (2, 5), 2, ceil_mode=True).shape[-1] == 1
    # ... a 7-wide one does not: ⌈(4 − 7) / 2⌉ + 1 = 0.
    e = failure(torch.rand(1, 6, 6), ConvSpec((ones(3, 3),)), PoolSpec("Average", (2, 7), (2, 2), ceil_mode=True))
    assert (e.stage, e.axis) == ("pooling", "width")
    assert e.formula.endswith(r"\left\lceil\frac{-3}{2}\right\rceil + 1 = 0") and r"\lceil" in e.rule


def test_pool_padding_more_than_half_the_window():
    e = failure(torch.rand(1, 8, 8), ConvSpec((ones(1, 1),)), PoolSpec("Max", (2, 3), (2, 2), (1, 2)))
    assert (e.stage, e.axis) == ("pooling", "width")
    assert e.formula == r"P = 2 > \left\lfloor\frac{F}{2}\right\rfloor = \left\lfloor\frac{3}{2}\right\rfloor = 1"
    assert "pooling padding 2 is more than half the pooling window (3 // 2 = 1)" in str(e)


def test_lp_pooling_with_padding():
    e = failure(torch.rand(1, 8, 8), ConvSpec((ones(1, 1),)), PoolSpec("LP (L2)", (2, 2), (2, 2), (0, 1)))
    assert (e.stage, e.axis, e.formula) == ("pooling", "width", r"P_{W} = 1 \neq 0")
    both = failure(torch.rand(1, 8, 8), ConvSpec((ones(1, 1),)), PoolSpec("LP (L2)", (2, 2), (2, 2), (1, 1)))
    assert both.axis is None and "1 along the height and 1 along the width" in str(both)


def test_reflect_and_circular_padding_too_large():
    e = failure(torch.rand(1, 4, 9), ConvSpec((ones(3, 3),), padding=(1, 4, 0, 0), padding_mode="reflect"))
    assert (e.stage, e.axis, e.formula) == ("padding", "height", r"P_{bottom} = 4 > H - 1 = 4 - 1 = 3")
    assert str(e).startswith("Reflect padding mirrors the image without repeating its edge pixel, so it adds at most ")
    assert "3 pixels on each side of the 4-pixel height, but the bottom asks for 4" in str(e)
    e = failure(torch.rand(1, 9, 4), ConvSpec((ones(3, 3),), padding=(0, 0, 5, 5), padding_mode="circular"))
    assert (e.stage, e.axis, e.formula) == ("padding", "width", r"P_{left} = 5 > W = 4")
    one = failure(torch.rand(1, 1, 9), ConvSpec((ones(1, 1),), padding=(1, 1, 0, 0), padding_mode="reflect"))
    assert "at most 0 pixels on each side of the 1-pixel height" in str(one)


def test_padding_is_checked_before_the_convolution():
    # Both fail (reflect 4 on 4 rows; a 9-row kernel on 12 padded rows fits, but not a 13-row one): padding first.
    e = failure(torch.rand(1, 4, 4), ConvSpec((ones(13, 1),), padding=(4, 4, 0, 0), padding_mode="reflect"))
    assert e.stage == "padding"


def test_filters_of_different_sizes():
    spec = ConvSpec((preset_kernel("Sharpen"), preset_kernel("Box blur", 2)), per_channel=False)
    e = failure(torch.rand(1, 8, 8), spec)
    assert (e.stage, e.axis, e.formula) == ("convolution", None, r"F_{1} = 3 \times 3 \neq F_{2} = 2 \times 2")
    assert "filter 1 is 3×3 and filter 2 is 2×2" in str(e)
    e = failure(torch.rand(1, 8, 8), ConvSpec((ones(3, 3), ones(3, 3), ones(3, 2)), per_channel=False))
    assert (e.axis, e.formula) == ("width", r"F_{1} = 3 \times 3 \neq F_{3} = 3 \times 2")


def test_bad_names_and_images_are_config_errors_with_a_stage():
    assert failure(torch.rand(1, 8, 8), ConvSpec((ones(1, 1),)), PoolSpec("Median")).stage == "pooling"
    assert failure(torch.rand(8, 8), ConvSpec((ones(1, 1),))).stage == "input"
    e = failure(torch.rand(1, 8, 8), ConvSpec((ones(1, 1),), stride=(1, 0)))
    assert (e.stage, e.axis, e.formula) == ("convolution", "width", "") and str(e).startswith("Along the width, ")


def test_size_functions_raise_size_errors_that_are_value_errors():
    with pytest.raises(SizeError) as info:
        conv_output_size(2, 5, axis="height")
    assert isinstance(info.value, ValueError) and info.value.failure.formula.startswith("H_{out}")
    with pytest.raises(SizeError):
        pool_output_size(1, 3, 1)
    check_padding(4, 3, 3, "reflect")  # 3 < 4: fine
    check_padding(4, 99, 99, "replicate")  # no limit


# --- Against PyTorch: what it refuses, at which stage, along which axis -------------------------------------


def torch_refusal(x, kernels, spec: ConvSpec, pool: PoolSpec) -> str | None:
    """The first stage at which PyTorch itself refuses: (1, C, H, W) ``x``, (kH, kW) ``kernels``."""
    top, bottom, left, right = spec.padding
    mode = "constant" if spec.padding_mode == "zeros" else spec.padding_mode
    try:
        y = F.pad(x, (left, right, top, bottom), mode=mode)
    except (RuntimeError, ValueError):
        return "padding"
    try:
        weight = torch.stack(kernels)[:, None].expand(-1, x.shape[1], -1, -1)
        y = F.conv2d(y, weight, stride=spec.stride, dilation=spec.dilation)
    except RuntimeError:
        return "convolution"
    k, s, p, c = pool.kernel, pool.stride, pool.padding, pool.ceil_mode
    try:
        if pool.kind == "Max":
            F.max_pool2d(y, k, s, p, ceil_mode=c)
        elif pool.kind == "Average":
            F.avg_pool2d(y, k, s, p, ceil_mode=c)
        elif pool.kind == "LP (L2)":
            F.lp_pool2d(y, 2.0, k, s, ceil_mode=c, **({"padding": p} if any(p) else {}))
    except (RuntimeError, TypeError):  # TypeError: lp_pool2d takes no padding
        return "pooling"
    return None


def one_axis(i: int, x, kernels, spec: ConvSpec, pool: PoolSpec):
    """The same settings along axis ``i`` (0 height, 1 width) only: the other axis is 1 pixel, kernel 1, no padding."""

    def pick(pair, other=1):
        return (pair[0], other) if i == 0 else (other, pair[1])

    x = x[:, :, :, :1] if i == 0 else x[:, :, :1, :]
    kernels = [k[:, :1] if i == 0 else k[:1, :] for k in kernels]
    pads = (*spec.padding[:2], 0, 0) if i == 0 else (0, 0, *spec.padding[2:])
    spec = ConvSpec(spec.filters, False, pick(spec.stride), pads, spec.padding_mode, pick(spec.dilation))
    pool = PoolSpec(pool.kind, pick(pool.kernel), pick(pool.stride), pick(pool.padding, 0), pool.ceil_mode)
    return x, kernels, spec, pool


@settings(max_examples=600, deadline=None)
@given(
    hw=st.tuples(st.integers(1, 7), st.integers(1, 7)),
    sizes=st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6)), min_size=1, max_size=2),
    stride=st.tuples(st.integers(1, 8), st.integers(1, 8)),
    dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(*[st.integers(0, 8)] * 4),
    mode=st.sampled_from(PAD_MODES),
    kind=st.sampled_from(POOLS),
    pool_k=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    pool_s=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    pool_p=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    ceil=st.booleans(),
)
def test_stage_and_axis_are_where_pytorch_refuses(
    hw, sizes, stride, dilation, padding, mode, kind, pool_k, pool_s, pool_p, ceil
):
    if len(sizes) == 2 and sizes[0] != sizes[1] and hw[0] % 2:
        sizes = [sizes[0], sizes[0]]  # half the time one filter size, so later stages get tested too
    x = torch.rand(1, 1, *hw, dtype=torch.float64)
    kernels = [torch.ones(h, w, dtype=torch.float64) for h, w in sizes]
    spec = ConvSpec(tuple(ones(h, w) for h, w in sizes), False, stride, padding, mode, dilation)
    pool = PoolSpec(kind, pool_k, pool_s, pool_p, ceil)
    try:
        stages = run_stages(x[0].float(), spec, NONE, pool)
    except ConfigError as e:
        event(f"{e.stage}, {e.axis}")
        assert e.stage in ORDER and str(e)[0].isupper() and str(e).endswith(".")
        assert not re.search(r"\b1 pixels\b|\b1 padded rows\b", str(e))
        assert torch_refusal(x, kernels, spec, pool) == e.stage  # PyTorch refuses, at the same stage
        if e.axis is not None:
            i = ("height", "width").index(e.axis)
            assert torch_refusal(*one_axis(i, x, kernels, spec, pool)) == e.stage  # this axis alone fails there
            other = torch_refusal(*one_axis(1 - i, x, kernels, spec, pool))
            # Rules about the whole layer (one filter size, no LP padding) come before its stage's size rules.
            layer_rule = (e.stage == "convolution" and len(set(sizes)) > 1) or (
                e.stage == "pooling" and pool.kind == "LP (L2)" and any(pool.padding)
            )
            if e.axis == "width" and not layer_rule:  # the height is checked first: it passes this stage
                assert other is None or ORDER.index(other) > ORDER.index(e.stage)
        else:  # not along one axis: both axes fail there (or it is no axis's matter)
            for i in (0, 1):
                assert torch_refusal(*one_axis(i, x, kernels, spec, pool)) in (e.stage, None)
        _check_numbers(e, x, spec, pool)
        return
    event("computed")
    assert torch_refusal(x, kernels, spec, pool) is None  # we said it works: PyTorch computes it
    assert (
        stages.conv.shape[-2:]
        == F.conv2d(
            F.pad(x, (padding[2], padding[3], padding[0], padding[1])),
            kernels[0][None, None],
            None,
            stride,
            0,
            dilation,
        ).shape[-2:]
    )


def _check_numbers(e: ConfigError, x, spec: ConvSpec, pool: PoolSpec) -> None:
    """The formula carries the failing axis's numbers and works out to what the rule gives."""
    if e.axis is None or not e.formula:
        return
    i = ("height", "width").index(e.axis)
    size = x.shape[2 + i]
    before, after = spec.padding[2 * i : 2 * i + 2]
    if e.stage == "padding":
        limit = size - 1 if spec.padding_mode == "reflect" else size
        assert f"= {max(before, after)} >" in e.formula and e.formula.endswith(f"= {limit}")
    elif e.stage == "convolution" and "out" in e.formula:
        k, s, d = spec.kernel_size[i], spec.stride[i], spec.dilation[i]
        assert rf"{{{size} + {before} + {after} - {d}\cdot({k}-1) - 1}}{{{s}}}" in e.formula
        out = (size + before + after - d * (k - 1) - 1) // s + 1
        assert out <= 0 and e.formula.endswith(f"= {out}")
    elif "out" in e.formula:  # pooling, output empty: the pooled size is the convolution's output
        k, s, d = spec.kernel_size[i], spec.stride[i], spec.dilation[i]
        conv_out = (size + before + after - d * (k - 1) - 1) // s + 1
        pk, ps, pp = pool.kernel[i], pool.stride[i], pool.padding[i]
        n = conv_out + 2 * pp - pk
        out = (-(-n // ps) if pool.ceil_mode else n // ps) + 1
        assert rf"{conv_out} + 2 \cdot {pp} - 1\cdot({pk}-1) - 1" in e.formula
        assert out <= 0 and e.formula.endswith(f"= {out}")
