"""Transposed convolution's cell-by-cell account, against F.conv_transpose2d and its gradients."""

import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from playground.explorer.shapes import SizeError, conv_transpose_axis
from playground.explorer.transposed import terms


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
