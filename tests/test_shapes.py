"""Output-size arithmetic against PyTorch's real modules and the field's worked examples."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from playground.explorer import shapes
from playground.explorer.shapes import conv_axis, conv_output_size, pool_axis, pool_output_size, same_padding


@settings(max_examples=1500, deadline=None)
@given(
    size=st.integers(1, 40),
    kernel=st.integers(1, 9),
    stride=st.integers(1, 5),
    pad=st.tuples(st.integers(0, 6), st.integers(0, 6)),
    dilation=st.integers(1, 4),
)
def test_conv_size_matches_torch(size, kernel, stride, pad, dilation):
    x = torch.zeros(1, 1, 1, size)
    w = torch.zeros(1, 1, 1, kernel)
    try:
        expected = F.conv2d(F.pad(x, pad), w, stride=(1, stride), dilation=(1, dilation)).shape[-1]
    except RuntimeError:
        expected = None
    if expected is None:
        with pytest.raises(ValueError):
            conv_output_size(size, kernel, stride, pad, dilation)
    else:
        assert conv_output_size(size, kernel, stride, pad, dilation) == expected
        if pad[0] == pad[1]:
            assert conv_output_size(size, kernel, stride, pad[0], dilation) == expected


@settings(max_examples=1500, deadline=None)
@given(
    size=st.integers(1, 40),
    kernel=st.integers(1, 7),
    stride=st.integers(1, 5),
    padding=st.integers(0, 4),
    dilation=st.integers(1, 3),
    ceil_mode=st.booleans(),
)
def test_pool_size_matches_torch(size, kernel, stride, padding, dilation, ceil_mode):
    x = torch.zeros(1, 1, 1, size)
    try:
        expected = F.max_pool2d(x, (1, kernel), (1, stride), (0, padding), (1, dilation), ceil_mode).shape[-1]
    except RuntimeError:
        expected = None
    if expected is None or expected < 1:
        with pytest.raises(ValueError):
            pool_output_size(size, kernel, stride, padding, dilation, ceil_mode)
    else:
        assert pool_output_size(size, kernel, stride, padding, dilation, ceil_mode) == expected


@settings(max_examples=500, deadline=None)
@given(size=st.integers(1, 30), kernel=st.integers(1, 5), stride=st.integers(1, 4), ceil_mode=st.booleans())
def test_avg_and_lp_pool_follow_the_same_rule(size, kernel, stride, ceil_mode):
    x = torch.rand(1, 1, 1, size)
    try:
        expected = pool_output_size(size, kernel, stride, 0, 1, ceil_mode)
    except ValueError:
        return
    assert F.avg_pool2d(x, (1, kernel), (1, stride), ceil_mode=ceil_mode).shape[-1] == expected
    assert F.lp_pool2d(x, 2.0, (1, kernel), (1, stride), ceil_mode=ceil_mode).shape[-1] == expected


def test_worked_examples():
    assert conv_output_size(28, 5, padding=2) == 28  # F=5, P=2, S=1 keeps 28
    assert pool_output_size(28, 2) == 14 and pool_output_size(14, 2) == 7
    assert conv_output_size(5, 3, stride=2) == 2
    assert conv_output_size(32, 3, padding=same_padding(3)) == 32
    assert pool_output_size(32, 2, 2) == 16
    assert conv_output_size(7, 3, stride=2, padding=1) == 4
    assert conv_output_size(10, 3, dilation=2) == 6


def test_ceil_mode_drops_a_window_that_starts_in_the_padding():
    # 5 wide, k=2, s=2, p=1, ceil: raw ceil gives 4 but the 4th window would start in the right padding.
    assert pool_output_size(5, 2, 2, 1, ceil_mode=True) == 3
    assert pool_output_size(5, 2, 2, 0, ceil_mode=True) == 3
    assert pool_output_size(5, 2, 2, 0, ceil_mode=False) == 2


@pytest.mark.parametrize(
    ("args", "kwargs", "words"),
    [
        ((0, 3), {}, "input size"),
        ((5, 0), {}, "kernel size"),
        ((5, 3), {"stride": 0}, "stride"),
        ((5, 3), {"dilation": 0}, "dilation"),
        ((5, 3), {"padding": -1}, "padding"),
        ((5, 3), {"padding": (1, 2, 3)}, "pair"),
        ((5, 3.5), {}, "whole number"),
        ((2, 5), {}, "no window fits"),
        ((4, 3), {"dilation": 3}, "no window fits"),
    ],
)
def test_conv_errors_are_sentences(args, kwargs, words):
    with pytest.raises(ValueError, match=words):
        conv_output_size(*args, **kwargs)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((4, 3, 1, 2), "half the pooling window"),
        ((1, 3, 1, 0), "empty"),
        ((4, 2, 0), "stride"),
        ((4, 0), "pooling size"),
        ((True, 2), "whole number"),
    ],
)
def test_pool_errors_are_sentences(args, words):
    with pytest.raises(ValueError, match=words):
        pool_output_size(*args)


def test_axis_explains_itself():
    axis = conv_axis(28, 5, 1, 2)
    assert axis.output == 28 and axis.exact and axis.uncovered == 0
    assert "28 + 2 + 2 - 1\\cdot(5-1) - 1" in axis.latex() and axis.latex().endswith("= 28")
    odd = conv_axis(6, 3, 2)  # windows at 0, 2: column 5 is never covered
    assert odd.output == 2 and not odd.exact and odd.uncovered == 1
    pool = pool_axis(5, 2, 2, 1, ceil_mode=True)
    assert pool.output == 3 and pool.dropped_last and r"\lceil" in pool.latex()


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 30), st.integers(1, 5), st.integers(1, 4), st.integers(0, 2), st.integers(1, 3), st.booleans())
def test_first_window_is_the_first_span_that_covers_the_pixel(size, kernel, stride, padding, dilation, pool):
    try:
        axis = (shapes.pool_axis(size, kernel, stride, min(padding, kernel // 2)) if pool
                else shapes.conv_axis(size, kernel, stride, padding, dilation))  # fmt: skip
    except ValueError:
        return  # no window fits: nothing to find
    span = shapes.effective_kernel(axis.kernel, axis.dilation)
    for i in range(-axis.pad_before, size + axis.pad_after):
        starts = [j * axis.stride - axis.pad_before for j in range(axis.output)]
        covering = [j for j, start in enumerate(starts) if start <= i < start + span]
        assert axis.first_window(i) == (covering[0] if covering else None), (axis, i)


@settings(max_examples=3000, deadline=None)
@given(size=st.integers(1, 30), kernel=st.integers(1, 7), stride=st.integers(1, 5), padding=st.integers(0, 8),
       output_padding=st.integers(0, 5), dilation=st.integers(1, 4))  # fmt: skip
def test_transposed_conv_size_matches_torch(size, kernel, stride, padding, output_padding, dilation):
    """Issue 10: the transposed rule, against F.conv_transpose1d over thousands of settings, refusals included."""
    x, w = torch.ones(1, 1, size), torch.ones(1, 1, kernel)
    try:
        want = F.conv_transpose1d(x, w, stride=stride, padding=padding, output_padding=output_padding,
                                  dilation=dilation).shape[-1]  # fmt: skip
    except RuntimeError:
        want = None
    try:
        got = shapes.conv_transpose_axis(size, kernel, stride, padding, output_padding, dilation).output
    except shapes.SizeError as e:
        assert want is None, (want, e.failure.why)
        assert e.failure.stage == "transposed convolution" and e.failure.fix
        return
    assert got == want


def test_transposed_conv_written_out_undoes_a_stride_two_conv():
    axis = shapes.conv_transpose_axis(7, 3, stride=2, padding=1, output_padding=1, axis="width")
    assert axis.output == 14 == F.conv_transpose2d(torch.ones(1, 1, 7, 7), torch.ones(1, 1, 3, 3), stride=2, padding=1,
                                                   output_padding=1).shape[-1]  # fmt: skip
    assert axis.substituted("W") == r"W_{out} = (7 - 1)\cdot 2 - 2\cdot 1 + 1\cdot(3-1) + 1 + 1 = 14"
    with pytest.raises(shapes.SizeError) as e:
        shapes.conv_transpose_axis(7, 3, stride=2, output_padding=2, axis="height")
    assert e.value.failure.why.startswith("along the height, output padding 2 must be smaller than the stride (2)")
