"""Transposed convolution's cell-by-cell account, against F.conv_transpose2d and its gradients."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from playground.explorer.conv import ActivationSpec, ConfigError
from playground.explorer.explain import fmt
from playground.explorer.shapes import SizeError, conv_transpose_axis
from playground.explorer.transposed import TransposedSpec, explain_transposed, run_transposed, terms


@settings(max_examples=300, deadline=None)
@given(h=st.integers(1, 6), w=st.integers(1, 6), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 3),
       op=st.integers(0, 2), d=st.integers(1, 3), seed=st.integers(0, 10_000))  # fmt: skip
def test_every_output_cell_is_the_sum_of_its_terms_and_only_those_inputs_reach_it(h, w, k, s, p, op, d, seed):
    try:
        rows, cols = conv_transpose_axis(h, k, s, p, op, d), conv_transpose_axis(w, k, s, p, op, d)
    except SizeError:
        return  # refused, as PyTorch refuses it (tests/test_shapes.py)
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(-5, 6, (h, w), generator=g).double().requires_grad_()
    kernel = torch.randint(-3, 4, (k, k), generator=g).double()
    out = F.conv_transpose2d(x[None, None], kernel[None, None], stride=s, padding=p, output_padding=op,
                             dilation=d)[0, 0]  # fmt: skip
    assert out.shape == (rows.output, cols.output)
    for r in range(rows.output):
        for c in range(cols.output):
            cell = terms(x.detach(), kernel, rows, cols, r, c)
            assert sum(t.value * t.weight for t in cell) == out[r, c].item()
            # The terms say which inputs reach the cell, and through which weights: exactly the gradient.
            (grad,) = torch.autograd.grad(out[r, c], x, retain_graph=True)
            expected = torch.zeros_like(grad)
            for t in cell:
                expected[t.input] += t.weight
            assert torch.equal(grad, expected)

def test_the_stride_two_example_written_out():
    rows = cols = conv_transpose_axis(2, 3, stride=2)
    x, kernel = torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.arange(1.0, 10.0).reshape(3, 3)
    centre = terms(x, kernel, rows, cols, 2, 2)  # where four kernel copies overlap
    pairs = [((0, 0), (2, 2)), ((0, 1), (2, 0)), ((1, 0), (0, 2)), ((1, 1), (0, 0))]
    assert [(t.input, t.tap) for t in centre] == pairs
    assert sum(t.value * t.weight for t in centre) == 1 * 9 + 2 * 7 + 3 * 3 + 4 * 1


# ---- the explorer's transposed layer: run_transposed and explain_transposed -------------------------------------

def _module(spec: TransposedSpec, in_channels: int) -> torch.nn.ConvTranspose2d:
    """The real nn.ConvTranspose2d the spec describes, its weights set by hand (not through weight_tensor)."""
    ks = [torch.tensor(f) for f in spec.filters]
    ks = [k.flip(-1, -2) if spec.flip else k for k in ks]
    groups = in_channels if spec.per_channel else 1
    out_channels = in_channels if spec.per_channel else len(ks)
    m = torch.nn.ConvTranspose2d(in_channels, out_channels, ks[0].shape, spec.stride, spec.padding,
                                 spec.output_padding, groups, True, spec.dilation)  # fmt: skip
    with torch.no_grad():
        for c in range(in_channels):
            for o in range(m.weight.shape[1]):
                m.weight[c, o] = ks[0] if spec.per_channel else ks[o]
        m.bias.fill_(spec.bias)
    return m


@settings(max_examples=150, deadline=None)
@given(c=st.sampled_from((1, 3)), h=st.integers(1, 6), w=st.integers(1, 6), kh=st.integers(1, 4),
       kw=st.integers(1, 4), n=st.integers(1, 3), per_channel=st.booleans(), flip=st.booleans(),
       s=st.tuples(st.integers(1, 3), st.integers(1, 3)), p=st.tuples(st.integers(0, 3), st.integers(0, 3)),
       op=st.tuples(st.integers(0, 2), st.integers(0, 2)), d=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       bias=st.integers(-5, 5).map(float), seed=st.integers(0, 10_000))  # fmt: skip
def test_run_transposed_is_conv_transpose2d_and_every_cell_is_its_terms(c, h, w, kh, kw, n, per_channel, flip, s, p,
                                                                        op, d, bias, seed):  # fmt: skip
    g = torch.Generator().manual_seed(seed)
    filters = tuple(tuple(tuple(float(v) for v in row) for row in torch.randint(-3, 4, (kh, kw), generator=g).tolist())
                    for _ in range(1 if per_channel else n))  # fmt: skip
    spec = TransposedSpec(filters, per_channel, s, p, op, d, flip, bias)
    x = torch.randint(-5, 6, (c, h, w), generator=g).float()
    module = _module(spec, c)
    try:
        want = module(x[None])[0].detach()
    except RuntimeError:
        want = None
    try:
        stages = run_transposed(x, spec, ActivationSpec("ReLU"))
    except ConfigError as e:  # PyTorch refuses it too, or (one axis empty, the other not) returns an empty map
        assert want is None or want.numel() == 0
        assert e.stage == "transposed convolution" and e.axis in ("height", "width")
        assert e.formula and e.rule and str(e)  # worked with the user's numbers, in words
        return
    assert want is not None and torch.equal(stages.output, want)
    assert torch.equal(stages.activated, torch.relu(want))
    assert (stages.axes[0].output, stages.axes[1].output) == tuple(want.shape[1:])
    for channel in range(want.shape[0]):
        for r in range(want.shape[1]):
            for col in range(want.shape[2]):
                cell = explain_transposed(stages, channel, r, col)
                total = sum(t.value * t.weight for ts in cell.terms for t in ts) + bias
                assert total == cell.value == want[channel, r, col].item()  # small whole numbers: exact
                assert cell.arithmetic()[-1].endswith(f"= {fmt(cell.value)}")
                assert len(cell.in_channels) == (1 if per_channel else c)


def test_a_cell_no_input_reaches_holds_only_the_bias_and_the_page_is_told():
    x = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    spec = TransposedSpec((((1.0, 2.0, 3.0), (4.0, 5.0, 6.0), (7.0, 8.0, 9.0)),), stride=(4, 4), bias=0.5)
    stages = run_transposed(x, spec, ActivationSpec())
    assert stages.output.shape == (1, 7, 7)  # (2 − 1)·4 + 3 = 7: a gap of one at index 3
    gap = explain_transposed(stages, 0, 3, 5)
    assert gap.terms == ((),) and gap.value == 0.5
    assert gap.arithmetic() == ["no input cell reaches it = 0", "0 + 0.5 = 0.5"]
    assert len(stages.notes) == 2 and stages.notes[0].startswith("1 row of the 7 output rows is reached by no input")
    corner = explain_transposed(stages, 0, 6, 6)  # x[1, 1] × w[2, 2]
    assert [(t.input, t.tap) for t in corner.terms[0]] == [((1, 1), (2, 2))]
    assert corner.arithmetic() == ["4×9 = 36", "36 + 0.5 = 36.5"]


@pytest.mark.parametrize(
    ("spec", "stage_words", "formula"),
    [
        (TransposedSpec((((1.0,),),), stride=(2, 2), output_padding=(0, 2)), "output padding 2 must be smaller",
         r"OP = 2 \ge \max(S, D) = \max(2, 1) = 2"),
        (TransposedSpec((((1.0,),),), padding=(3, 0)), "a padding of 3 crops 6 pixels", r"H_{out} = (2 - 1)\cdot 1"),
    ],
)  # fmt: skip
def test_an_impossible_transposed_setting_says_why_with_its_numbers(spec, stage_words, formula):
    x = torch.ones(1, 2, 2)
    with pytest.raises(ConfigError) as e:
        run_transposed(x, spec, ActivationSpec())
    assert e.value.stage == "transposed convolution" and stage_words in str(e.value)
    assert formula in e.value.formula
    with pytest.raises(RuntimeError):  # and PyTorch refuses it too
        torch.nn.functional.conv_transpose2d(x[None], torch.ones(1, 1, 1, 1), stride=spec.stride, padding=spec.padding,
                                             output_padding=spec.output_padding)  # fmt: skip
