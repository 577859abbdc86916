"""Reverse view against a brute-force probe: perturb one pixel and see which outputs PyTorch changes."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from playground.explorer.conv import PAD_MODES, ActivationSpec, ConfigError, ConvSpec, PoolSpec, run_stages
from playground.explorer.reverse import padded_sources, reach_from_input, reach_from_padded, windows_holding
from playground.explorer.shapes import conv_axis

NONE = ActivationSpec()


def ones(h: int, w: int):
    return ((1.0,) * w,) * h


def cells(changed: torch.Tensor) -> list[tuple[int, int]]:
    """Row-major (row, col) of the True cells of an (H, W) map."""
    return [tuple(rc) for rc in changed.nonzero().tolist()]


def test_five_by_five_worked_by_hand():
    x = torch.rand(1, 5, 5)
    stages = run_stages(x, ConvSpec((ones(3, 3),)), NONE, PoolSpec())
    assert reach_from_input(stages, 2, 2).conv == [(r, c) for r in range(3) for c in range(3)]  # the centre: all 9
    assert reach_from_input(stages, 0, 0).conv == [(0, 0)]  # a corner: only the first window
    assert reach_from_input(stages, 0, 3).conv == [(0, 1), (0, 2)]
    strided = run_stages(x, ConvSpec((ones(3, 3),), stride=(2, 2)), NONE, PoolSpec())  # windows start at 0 and 2
    assert reach_from_input(strided, 1, 1).conv == [(0, 0)]
    assert reach_from_input(strided, 2, 2).conv == [(0, 0), (0, 1), (1, 0), (1, 1)]
    dilated = run_stages(x, ConvSpec((ones(2, 2),), dilation=(2, 2)), NONE, PoolSpec())  # taps 0 and 2: 3×3 output
    assert reach_from_input(dilated, 2, 1).conv == [(0, 1), (2, 1)]


def test_reflect_padding_copies_a_border_pixel():
    # A row of 4 with reflect padding 1: padded = [x1, x0, x1, x2, x3, x2], so x1 sits at 0 and 2.
    assert padded_sources(4, 1, 1, "reflect") == [1, 0, 1, 2, 3, 2]
    assert padded_sources(4, 1, 2, "zeros") == [-1, 0, 1, 2, 3, -1, -1]
    assert padded_sources(3, 2, 2, "circular") == [1, 2, 0, 1, 2, 0, 1]
    assert padded_sources(3, 2, 1, "replicate") == [0, 0, 0, 1, 2, 2]
    stages = run_stages(
        torch.rand(1, 1, 4), ConvSpec((ones(1, 2),), padding=(0, 0, 1, 1), padding_mode="reflect"), NONE, PoolSpec()
    )
    reach = reach_from_input(stages, 0, 1)
    assert reach.padded == [(0, 0), (0, 2)] and reach.conv == [(0, 0), (0, 1), (0, 2)]
    assert reach_from_padded(stages, 0, 2).conv == [(0, 1), (0, 2)]  # the one padded position only


def test_pooling_and_the_uncovered_border():
    stages = run_stages(torch.rand(1, 6, 6), ConvSpec((ones(1, 1),)), NONE, PoolSpec("Max"))
    assert reach_from_input(stages, 3, 4).pooled == [(1, 2)]
    odd = run_stages(torch.rand(1, 6, 6), ConvSpec((ones(3, 3),), stride=(2, 2)), NONE, PoolSpec())
    reach = reach_from_input(odd, 5, 0)  # row 5 is never covered at stride 2
    assert reach.conv == [] and reach.conv_rows == reach.conv_cols == ()


def test_out_of_range_pixels_raise():
    stages = run_stages(torch.rand(1, 4, 4), ConvSpec((ones(3, 3),), padding=(1, 1, 1, 1)), NONE, PoolSpec())
    reach_from_padded(stages, 5, 5)
    with pytest.raises(IndexError):
        reach_from_input(stages, 4, 0)
    with pytest.raises(IndexError):
        reach_from_padded(stages, 0, 6)


@settings(max_examples=300, deadline=None)
@given(size=st.integers(1, 30), kernel=st.integers(1, 5), stride=st.integers(1, 4), dilation=st.integers(1, 3),
       index=st.integers(0, 40))  # fmt: skip
def test_windows_holding_is_the_brute_force_list(size, kernel, stride, dilation, index):
    try:
        axis = conv_axis(size, kernel, stride, 0, dilation)
    except ValueError:
        return
    brute = [o for o in range(axis.output) if any(o * stride + t * dilation == index for t in range(kernel))]
    assert windows_holding(index, axis) == brute


def probe(x, weight, spec: ConvSpec, pool: PoolSpec, row: int, col: int, padded: bool):
    """Add 1 to pixel (row, col) of float64 ``x`` (1, C, H, W), before or after padding, and see what changes.

    Returns the changed cells of each convolution channel and of each pooled channel. The weights are
    positive and the pooling is an average, so a pixel that takes part never cancels out.
    """
    top, bottom, left, right = spec.padding
    mode = "constant" if spec.padding_mode == "zeros" else spec.padding_mode

    def forward(image, bump_padded):
        y = F.pad(image, (left, right, top, bottom), mode=mode)
        if bump_padded:
            y = y.clone()
            y[:, :, row, col] += 1
        conv = F.conv2d(y, weight, stride=spec.stride, dilation=spec.dilation)
        pooled = None
        if pool.kind != "None":
            pooled = F.avg_pool2d(conv, pool.kernel, pool.stride, pool.padding, ceil_mode=pool.ceil_mode)
        return conv[0], pooled

    conv, pooled = forward(x, False)
    bumped = x.clone()
    if not padded:
        bumped[:, :, row, col] += 1
    conv2, pooled2 = forward(bumped, padded)
    conv_changed = [cells((conv2[c] - conv[c]).abs() > 1e-9) for c in range(conv.shape[0])]
    pooled_changed = [] if pooled is None else [cells((pooled2[0, c] - pooled[0, c]).abs() > 1e-9) for c in range(2)]
    return conv_changed, pooled_changed


@settings(max_examples=500, deadline=None)
@given(
    hw=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    k=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(*[st.integers(0, 3)] * 4),
    mode=st.sampled_from(PAD_MODES),
    pooling=st.booleans(),
    pool_k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    pool_s=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    pool_p=st.tuples(st.integers(0, 1), st.integers(0, 1)),
    ceil=st.booleans(),
    in_padded=st.booleans(),
    data=st.data(),
)
def test_reach_is_what_a_perturbation_changes(
    hw, k, stride, dilation, padding, mode, pooling, pool_k, pool_s, pool_p, ceil, in_padded, data
):
    filters = (ones(*k), ones(*k))  # two output channels over two input channels: groups = 1
    spec = ConvSpec(filters, False, stride, padding, mode, dilation)
    pool = PoolSpec("Average" if pooling else "None", pool_k, pool_s, pool_p, ceil)
    x = torch.rand(1, 2, *hw, dtype=torch.float64)
    try:
        stages = run_stages(x[0].float(), spec, NONE, pool)
    except ConfigError:
        assume(False)
    space = stages.padded.shape[1:] if in_padded else hw
    row, col = data.draw(st.integers(0, space[0] - 1)), data.draw(st.integers(0, space[1] - 1))
    reach = (reach_from_padded if in_padded else reach_from_input)(stages, row, col)
    weight = 0.5 + torch.rand(2, 2, *k, dtype=torch.float64)  # no zero weight: every tap counts
    conv_changed, pooled_changed = probe(x, weight, spec, pool, row, col, in_padded)
    for changed in conv_changed:  # every output channel: the same cells
        assert reach.conv == changed
    for changed in pooled_changed:
        assert reach.pooled == changed
    if not pooling:
        assert reach.pooled == []
    max_pooled = (
        run_stages(x[0].float(), spec, NONE, PoolSpec("Max", pool_k, pool_s, pool_p, ceil)) if pooling else None
    )
    if max_pooled is not None:  # the reach is structural: the pooling kind does not matter
        assert reach_from_input(max_pooled, 0, 0) == reach_from_input(stages, 0, 0)
