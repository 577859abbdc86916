"""Training on Ray: a local head started on loopback for the session; runs go through the real run manager.

Without ``ray`` these tests skip on a laptop and fail under CI=true (CI installs the requirements).
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from playground.train.checkpoints import load_checkpoint
from playground.train.data import FashionMNIST
from playground.train.loop import Done, Eval, Step, TrainConfig
from playground.train.models import PRESETS
from playground.train.ray_runs import _Trainer
from playground.train.run import Run
from playground.train.runs import RunManager, Status
from tests.fakedata import fake_split, write_fake_fashion_mnist
from tests.ray_cluster import cluster, free_port
from tests.test_runs import wait_for

ROOT = Path(__file__).resolve().parents[1]
TINY = PRESETS["Tiny (fast demo)"]
LONG = TrainConfig(epochs=100, batch_size=8, threads=1, evals_per_epoch=1)  # 80,000 steps: never ends in a test
SHORT = TrainConfig(epochs=2, batch_size=64, threads=1, evals_per_epoch=2, train_size=640)
START = 120.0  # seconds a first actor may take to start on a busy 2-core machine (a worker imports torch)


@pytest.fixture(scope="session")
def ray_address():
    if importlib.util.find_spec("ray") is None:
        message = "ray is not installed: pip install -r requirements.txt"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with cluster(cpus=2) as address:
        yield address


@pytest.fixture(scope="module")
def data():
    (xa, ya), (xb, yb) = fake_split(6400, 0), fake_split(200, 1)
    t = torch.from_numpy
    return FashionMNIST(t(xa), t(ya).long(), t(xb), t(yb).long(), "fake")


@pytest.fixture(scope="module")
def manager(ray_address, tmp_path_factory):
    """One manager for the module, as a server has: the dataset goes into the object store once for all its runs."""
    return RunManager(2, tmp_path_factory.mktemp("ray-runs"), ray_address=ray_address)


def alive_nodes() -> set[str]:
    import ray

    return {n["NodeID"] for n in ray.nodes() if n["Alive"]}


def test_a_run_streams_progress_keeps_its_weights_as_it_goes_and_stops_on_request(manager, data):
    run = manager.submit("stopper", TINY, LONG, data)
    # Steps arrive while the run is far from done (100 epochs): streamed, not handed over at the end.
    assert wait_for(lambda: run.snapshot().progress > 0 and run.status == Status.RUNNING, START)
    path = manager._model_path(run)
    assert wait_for(path.exists, START)  # the weights of an evaluation reached the server while training…
    assert run.status == Status.RUNNING  # …not at the end
    load_checkpoint(path.read_bytes())
    run.stop()
    assert wait_for(lambda: run.status == Status.STOPPED, 60)
    snap = run.snapshot()
    assert snap.error is None and 0 < snap.progress < 1 and run.node in alive_nodes()
    ckpt = load_checkpoint(manager._load_model(run))  # what the Inspect page opens
    assert ckpt.spec["layers"] == TINY["layers"] and run.checkpoint() is not None
    with torch.inference_mode():
        x = data.test_images[:8].unsqueeze(1).float() / 255
        assert torch.equal(ckpt.model()(x).argmax(1), run.result.model(x).argmax(1))


def test_a_killed_worker_fails_the_run_with_a_sentence(manager, data):
    run = manager.submit("victim", TINY, LONG, data)
    assert wait_for(lambda: run._child is not None and run._child.pid is not None, START)
    assert wait_for(lambda: run.snapshot().progress > 0, START)
    os.kill(run._child.pid, signal.SIGKILL)
    assert wait_for(lambda: run.status == Status.FAILED, 60)
    error = run.snapshot().error
    assert error == f"The Ray worker training this run died (node {run.node[:12]}). The next run starts a new one."
    assert not manager._store.has_model(run.id)  # a failed run's partial weights are dropped, as for a local process


def test_a_finished_run_records_its_node_and_streams_steps_before_done(manager, data, monkeypatch):
    seen = []
    on_event = Run._on_event
    monkeypatch.setattr(Run, "_on_event", lambda self, event: (seen.append(type(event)), on_event(self, event)))
    run = manager.submit("finisher", TINY, SHORT, data)
    assert wait_for(lambda: run.status not in (Status.QUEUED, Status.STARTING, Status.RUNNING,
                                               Status.EVALUATING), START)  # fmt: skip
    snap = run.snapshot()
    assert snap.status == Status.FINISHED and snap.error is None and snap.accuracy is not None
    assert seen.count(Done) == 1 and Step in seen[: seen.index(Done)] and Eval in seen
    assert run.node in alive_nodes()
    record = manager._store.load_record(run.id)
    assert record["node"] == run.node
    assert manager.ray.puts == 1  # every run of the module read the same object in the store


def test_the_command_line_trains_on_ray_and_says_where(ray_address, tmp_path):
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(write_fake_fashion_mnist(tmp_path, n_train=300, n_test=100))}
    args = [sys.executable, "-m", "playground.train", "--preset", "Tiny (fast demo)", "--epochs", "1",
            "--threads", "1", "--out", str(tmp_path / "out"), "--ray", ray_address]  # fmt: skip
    out = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["backend"] == "ray" and metrics["node"] in alive_nodes()
    assert load_checkpoint((tmp_path / "out" / "model.pt").read_bytes()).spec["layers"] == TINY["layers"]


def test_an_unreachable_cluster_is_one_sentence_and_the_server_goes_on(data, tmp_path, ray_address):
    bad = f"127.0.0.1:{free_port()}"  # nothing listens there
    manager = RunManager(1, tmp_path, ray_address=bad)
    run = manager.submit("lost", TINY, SHORT, data)
    assert wait_for(lambda: run.status == Status.FAILED, 30)
    sentence = (f"The Ray cluster at {bad} cannot be reached (Connection refused): is it started "
                f"(`ray start --head`), and is the address right?")  # fmt: skip
    assert run.snapshot().error == sentence
    assert manager.submit("lost", TINY, SHORT, data) is not None  # the owner may try again: nothing is stuck
    out = subprocess.run([sys.executable, "-m", "playground.train", "--out", str(tmp_path / "o"), "--ray", bad],
                         capture_output=True, text=True, cwd=ROOT, timeout=300,
                         env={**os.environ, "PLAYGROUND_DATA_DIR": str(write_fake_fashion_mnist(tmp_path, 100, 50))})
    assert out.returncode == 1 and out.stderr.strip() == f"error: {sentence}"


def test_the_actor_never_takes_more_threads_than_it_reserved():
    trainer = _Trainer(cpus=2)  # the class as it is, without Ray: the manager may offer a lone run every core
    trainer.send(("threads", 8)), trainer.send(("threads", 1)), trainer.send(("stop",))
    assert trainer._take_inbox() == [("threads", 2), ("threads", 1), ("stop",)] and trainer._take_inbox() == []


def test_without_the_variable_ray_is_never_imported():
    code = ("import sys; from playground.train.runs import RunManager; m = RunManager.from_settings(); "
            "assert m.ray is None and 'ray' not in sys.modules, sorted(k for k in sys.modules if 'ray' in k)")
    env = {k: v for k, v in os.environ.items() if k != "PLAYGROUND_RAY_ADDRESS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr


def test_pause_one_step_and_resume_reach_the_actor_on_the_cluster(manager, data):
    steps = lambda: len(run.snapshot().history["step"])  # noqa: E731
    run = manager.submit("pauser", TINY, LONG, data)
    assert wait_for(lambda: run.status == Status.RUNNING and steps() > 3, START)
    assert run.pause() and run.status == Status.PAUSED
    assert wait_for(lambda: run.snapshot().halted is not None, 30)  # the actor stands between two steps
    at = steps()
    assert wait_for(lambda: False, 1.5) is False and steps() == at  # nothing trains while paused
    stepped = run.step_once(timeout=30)
    assert stepped is not None and stepped[0] == at + 1 and steps() == at + 1  # exactly one batch
    assert run.resume() and run.status == Status.RUNNING
    assert wait_for(lambda: steps() > at + 5, 60)  # and on it goes
    run.stop()
    assert wait_for(lambda: run.status == Status.STOPPED, 60)
