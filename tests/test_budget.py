"""The studio's cost estimate: calibrated against measured training processes, and refusing over the budget."""

import pytest

from playground.settings import Settings
from playground.train.budget import evaluation_seconds, over_budget, training_estimate
from playground.train.models import PRESETS, summarize


def conv_net(channels: int) -> dict:
    return {"layers": [{"type": "conv", "out_channels": channels, "kernel": 3, "padding": 1}, {"type": "batchnorm"},
                       {"type": "relu"}, {"type": "maxpool"}, {"type": "flatten"},
                       {"type": "linear", "out_features": 10}]}  # fmt: skip


MLP = {"layers": [{"type": "flatten"}, {"type": "linear", "out_features": 4096}, {"type": "relu"},
                  {"type": "linear", "out_features": 10}]}  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "batch", "measured_mb"),
    [  # peak RSS of short training processes, python -m bench.calibrate_budget (see playground/train/budget.py)
        (PRESETS["Tiny (fast demo)"], 256, 607),
        (PRESETS["Classic (default)"], 256, 740),
        (PRESETS["Deeper (aims above 92%)"], 256, 935),
        (PRESETS["Deeper (aims above 92%)"], 1024, 1473),
        (conv_net(256), 256, 1763),
        (conv_net(512), 256, 3137),
        (MLP, 256, 696),
    ],
)
def test_the_estimate_is_near_the_measured_peak(spec, batch, measured_mb):
    assert training_estimate(summarize(spec), batch).peak_mb == pytest.approx(measured_mb, rel=0.25)


def test_every_preset_trains_under_the_default_budget_at_every_batch_size():
    budget = Settings().max_network_mb
    for spec in PRESETS.values():
        for batch in (32, 64, 128, 256, 512, 1024):  # the studio's choices
            est = training_estimate(summarize(spec), batch)
            assert over_budget(est, budget, batch) is None and est.seconds_per_epoch > 0


def test_a_1024_channel_conv_is_refused_under_the_default_budget_with_a_sentence():
    """The red team's 1024 channels peaked at ~4 GB."""
    est = training_estimate(summarize(conv_net(1024)), 256)
    assert est.peak_mb > 4000
    why = over_budget(est, Settings().max_network_mb, 256)
    assert why.startswith("Train is off: with batches of 256") and "PLAYGROUND_MAX_NETWORK_MB" in why
    assert over_budget(est, 100_000, 256) is None  # a lecturer with a big machine can allow it


def test_costs_grow_with_the_network_and_the_batch():
    small, big = summarize(conv_net(64)), summarize(conv_net(256))
    assert training_estimate(big).peak_mb > training_estimate(small).peak_mb
    assert training_estimate(big).seconds_per_epoch > training_estimate(small).seconds_per_epoch
    assert training_estimate(big, 1024).peak_mb > training_estimate(big, 256).peak_mb
    assert training_estimate(big, 256, 6_000).seconds_per_epoch == pytest.approx(
        training_estimate(big, 256).seconds_per_epoch / 10
    )
    assert evaluation_seconds(big) > evaluation_seconds(small) > 0
