"""Evaluation apart from the server: the numbers of an evaluation here, and a slow or greedy network is stopped."""

import resource
import time

import pytest
import torch

from playground.train import budget, sandbox
from playground.train.evaluate import evaluate
from playground.train.models import DEFAULT_SPEC, build_model
from tests.fakedata import fake_split

# The red team's network: valid, 3.7 KB, but padding 137 makes 300×300 and then 572×572 maps of every image.
PADDED = {
    "name": "padding 137",
    "layers": [
        {"type": "conv", "out_channels": 4, "kernel": 3, "padding": 137},
        {"type": "conv", "out_channels": 4, "kernel": 3, "padding": 137},
        {"type": "avgpool", "kernel": 64},
        {"type": "flatten"},
        {"type": "linear", "out_features": 10},
    ],
}


@pytest.fixture(scope="module")
def test_set():
    images, labels = fake_split(1000, 1)
    return torch.from_numpy(images), torch.from_numpy(labels).long()


def server_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_the_numbers_are_those_of_an_evaluation_here(test_set):
    torch.manual_seed(0)
    model = build_model(DEFAULT_SPEC).eval()
    here = evaluate(model, *test_set)
    apart = sandbox.evaluate_apart(DEFAULT_SPEC, model.state_dict(), *test_set)
    assert apart.accuracy == here.accuracy and apart.loss == pytest.approx(here.loss, rel=1e-6)
    assert torch.equal(apart.confusion, here.confusion) and torch.equal(apart.predictions, here.predictions)


def test_a_slow_network_is_refused_from_its_estimate_without_starting(test_set, monkeypatch):
    def no_process(*args, **kwargs):
        raise AssertionError("no process should start")

    monkeypatch.setattr(sandbox.CTX, "Process", no_process)
    refused = r"would take about [\d,]+ s .* over this server's limit of 1 s"
    with pytest.raises(sandbox.EvaluationRefused, match=refused):
        sandbox.evaluate_apart(PADDED, build_model(PADDED).state_dict(), *test_set, seconds=1)


def test_an_evaluation_over_its_time_is_stopped(test_set, monkeypatch):
    """The estimate can be wrong (here: told it costs nothing): the child is killed when its time is up."""
    monkeypatch.setattr(budget, "EVAL_SECONDS_PER_MAC", 0.0)
    monkeypatch.setattr(budget, "EVAL_SECONDS_PER_ACTIVATION", 0.0)
    images, labels = test_set[0].repeat(20, 1, 1), test_set[1].repeat(20)  # 20,000 images of ~50 M MACs: minutes
    before = server_peak_mb()
    with pytest.raises(sandbox.EvaluationRefused, match="took over 5 s, this server's limit: it was stopped"):
        sandbox.evaluate_apart(PADDED, build_model(PADDED).state_dict(), images, labels, seconds=5)
    assert server_peak_mb() - before < 100  # the 2.8 GB the server once took stayed in the child, and went with it


def test_an_evaluation_over_its_memory_is_stopped(test_set, monkeypatch):
    """All 1,000 images in one batch need ~6.7 GB of activations: the child's address space is capped at +300 MB."""
    monkeypatch.setattr(sandbox, "batch_for", lambda activations, memory_mb: 1000)
    before = server_peak_mb()
    with pytest.raises(sandbox.EvaluationRefused, match="needs more than this server's 300 MB"):
        sandbox.evaluate_apart(PADDED, build_model(PADDED).state_dict(), *test_set, memory_mb=300, seconds=60)
    assert server_peak_mb() - before < 100


def test_batches_are_sized_to_the_memory_budget():
    assert sandbox.batch_for(62_730, 1024) == 256  # the default network: the usual batch
    assert sandbox.batch_for(1_669_000, 1024) == 40  # padding 137: 13 MB per image
    assert sandbox.batch_for(4_000_000, 256) == 4 and sandbox.batch_for(10**9, 256) == 1


def test_an_impossible_network_is_refused_with_its_reason(test_set):
    with pytest.raises(sandbox.EvaluationRefused, match="cannot be built"):
        sandbox.evaluate_apart({"layers": [{"type": "conv", "out_channels": 10**9}]}, {}, *test_set)


def test_the_child_limits_its_own_cpu_time_so_it_ends_even_without_the_server(test_set, monkeypatch):
    """RLIMIT_CPU: the kernel ends the child (SIGXCPU) whatever happens to the server's timer."""
    monkeypatch.setattr(budget, "EVAL_SECONDS_PER_MAC", 0.0)
    monkeypatch.setattr(budget, "EVAL_SECONDS_PER_ACTIVATION", 0.0)
    real = sandbox._answer
    monkeypatch.setattr(sandbox, "_answer", lambda conn, process, deadline: real(conn, process, time.monotonic() + 600))
    images, labels = test_set[0].repeat(20, 1, 1), test_set[1].repeat(20)
    with pytest.raises(sandbox.EvaluationRefused, match="took over 5 s"):  # 5 s × threads + 10 s of CPU, then SIGXCPU
        sandbox.evaluate_apart(PADDED, build_model(PADDED).state_dict(), images, labels, seconds=5)
