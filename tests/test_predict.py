"""The last layer's dot product and the softmax, as the Inspect page writes them out, against the model itself."""

import pytest
import torch

from playground.train.models import DEFAULT_SPEC, PRESETS, build_model
from playground.train.predict import decision


@pytest.mark.parametrize("name", list(PRESETS))
def test_the_written_out_decision_adds_up_to_the_models_own_scores(name):
    torch.manual_seed(0)
    model = build_model(PRESETS[name]).eval()
    x = torch.rand(1, 28, 28)
    made = decision(model, x, top=5)
    with torch.inference_mode():
        logits = model(x[None])[0]
    assert torch.allclose(made.logits, logits, atol=1e-5)
    assert torch.allclose(made.probabilities, torch.softmax(logits, 0), atol=1e-6)
    assert made.winner == int(logits.argmax())
    shown = sum(value * weight for _, value, weight in made.top)
    assert shown + made.rest + made.bias == pytest.approx(float(logits[made.winner]), abs=1e-4)
    products = [abs(value * weight) for _, value, weight in made.top]
    assert products == sorted(products, reverse=True) and len(made.top) == 5
    last = model[-1]
    assert made.features == last.in_features and made.bias == pytest.approx(last.bias.detach()[made.winner].item())


def test_a_network_not_ending_in_a_linear_layer_has_no_dot_product_to_show():
    spec = {"layers": [{"type": "conv", "out_channels": 10, "kernel": 28, "padding": 0}, {"type": "flatten"}]}
    assert decision(build_model(spec), torch.rand(1, 28, 28)) is None
    assert decision(build_model(DEFAULT_SPEC), torch.rand(1, 28, 28)) is not None
