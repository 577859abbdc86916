"""Background runs: one per session, a server-wide limit with a queue, Stop within two seconds, failures contained."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from playground.train.data import FashionMNIST
from playground.train.loop import TrainConfig
from playground.train.models import PRESETS
from playground.train.runs import RunError, RunManager
from tests.fakedata import fake_split

TINY = PRESETS["Tiny (fast demo)"]
LONG = TrainConfig(epochs=100, batch_size=32, threads=1)
SHORT = TrainConfig(epochs=1, batch_size=64, threads=1)


@pytest.fixture(scope="module")
def data():
    (xa, ya), (xb, yb) = fake_split(640, 0), fake_split(200, 1)
    t = torch.from_numpy
    return FashionMNIST(t(xa), t(ya).long(), t(xb), t(yb).long(), "fake")


def wait_for(predicate, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sessions_are_separate_and_one_run_per_session(data):
    manager = RunManager(max_concurrent=2)
    a = manager.submit("alice", TINY, LONG, data)
    b = manager.submit("bob", TINY, SHORT, data)
    with pytest.raises(RunError, match="already have a run"):
        manager.submit("alice", TINY, SHORT, data)
    assert manager.runs_for("alice") == [a] and manager.runs_for("bob") == [b]
    assert wait_for(lambda: b.snapshot().status == "finished")
    assert b.snapshot().accuracy is not None and b.result is not None
    a.stop()
    assert wait_for(lambda: a.snapshot().status in ("evaluating", "stopped"), 2.0)
    assert wait_for(lambda: a.snapshot().status == "stopped")
    assert manager.active_for("alice") is None


def test_queue_positions_and_stop_while_queued_or_running(data):
    manager = RunManager(max_concurrent=1)
    first = manager.submit("s1", TINY, LONG, data)
    second = manager.submit("s2", TINY, SHORT, data)
    third = manager.submit("s3", TINY, SHORT, data)
    assert wait_for(lambda: first.snapshot().status == "running")
    assert second.snapshot().queue_position == 1 and third.snapshot().queue_position == 2
    second.stop()
    assert second.snapshot().status == "stopped" and third.snapshot().queue_position == 1
    assert wait_for(lambda: len(first.snapshot().history["loss"]) > 3)
    t = time.monotonic()
    first.stop()
    assert wait_for(lambda: first.snapshot().status in ("evaluating", "stopped"), 2.0)  # the loop has ended
    assert time.monotonic() - t < 2.0
    assert wait_for(lambda: first.snapshot().status == "stopped")
    assert first.result is not None and first.result.status == "stopped"  # kept what it learned
    assert wait_for(lambda: third.snapshot().status == "finished")


def test_a_failing_run_is_reported_and_the_manager_keeps_working(data):
    manager = RunManager(max_concurrent=1)
    broken = manager.submit("s", {"layers": [{"type": "conv", "out_channels": 4, "kernel": 99}]}, SHORT, data)
    assert wait_for(lambda: broken.snapshot().status == "failed")
    assert "no window fits" in broken.snapshot().error
    ok = manager.submit("s", TINY, SHORT, data)
    assert wait_for(lambda: ok.snapshot().status == "finished")
    assert [r.snapshot().status for r in manager.runs_for("s")] == ["failed", "finished"]


def test_a_training_process_that_dies_is_reported_and_the_next_run_works(data):
    manager = RunManager(max_concurrent=1)
    doomed = manager.submit("s", TINY, LONG, data)
    assert wait_for(lambda: len(doomed.snapshot().history["loss"]) > 0)
    os.kill(doomed._child.process.pid, signal.SIGKILL)  # as if the machine ran out of memory
    assert wait_for(lambda: doomed.snapshot().status == "failed", 5.0)
    assert "The training process was killed (SIGKILL)" in doomed.snapshot().error
    ok = manager.submit("s", TINY, SHORT, data)
    assert wait_for(lambda: ok.snapshot().status == "finished")


def test_the_result_is_the_model_the_process_trained(data):
    """Weights come back from the training process intact: same seed, same weights as training here."""
    from playground.train.loop import train

    run = RunManager(max_concurrent=1).submit("s", TINY, SHORT, data)
    assert wait_for(lambda: run.snapshot().status == "finished")
    here = train(TINY, data, SHORT)
    theirs, ours = run.result.model.state_dict(), here.model.state_dict()
    assert theirs.keys() == ours.keys()
    assert all(torch.equal(theirs[k], ours[k]) for k in ours)
    assert run.result.evaluation.accuracy == here.evaluation.accuracy
    assert run.snapshot().history["loss"] == here.history["loss"]


def test_a_training_process_does_not_run_the_main_script(data, tmp_path, monkeypatch):
    """Streamlit installs the page script as __main__; a training process must not run it again."""
    import sys
    import types

    marker = tmp_path / "ran"
    script = tmp_path / "page.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    run = RunManager(max_concurrent=1).submit("s", TINY, SHORT, data)
    assert wait_for(lambda: run.snapshot().status == "finished")
    assert not marker.exists()


def test_runs_share_the_cores_and_a_lone_run_takes_them_back(data):
    from playground.train.loop import default_threads

    manager = RunManager(max_concurrent=2)
    first = manager.submit("a", TINY, TrainConfig(epochs=100, batch_size=32), data)
    assert wait_for(lambda: first.snapshot().status == "running")
    assert first.threads == default_threads(1)
    second = manager.submit("b", TINY, LONG, data)  # LONG asks for 1 thread itself: it keeps it
    assert wait_for(lambda: second.snapshot().status == "running")  # it trains until stopped: never missed
    assert first.threads == default_threads(2) and second.threads == 1
    second.stop()
    assert wait_for(lambda: second.snapshot().status == "stopped")
    assert wait_for(lambda: first.threads == default_threads(1))
    first.stop()
    assert wait_for(lambda: first.snapshot().status == "stopped")


def test_the_data_is_read_in_another_process_and_arrives_whole(tmp_path):
    from playground.train.data import DataLocation, DataNotFound, read_fashion_mnist
    from playground.train.processes import read_apart
    from tests.fakedata import write_fake_fashion_mnist

    location = DataLocation(write_fake_fashion_mnist(tmp_path, n_train=300, n_test=100), "fake")
    here, apart = read_fashion_mnist(location), read_apart(location)
    for name in ("train_images", "train_labels", "test_images", "test_labels"):
        a, b = getattr(here, name), getattr(apart, name)
        assert a.dtype == b.dtype and torch.equal(a, b)
    assert apart.source == "fake"
    (tmp_path / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte").write_bytes(b"not an idx file")
    with pytest.raises(DataNotFound, match="could not be read"):
        read_apart(location)


def test_the_server_never_imports_torchvision(tmp_path):
    """The Training studio's loader, in a fresh interpreter: torchvision (~160 MB) stays in the reading process."""
    from tests.fakedata import write_fake_fashion_mnist

    root = write_fake_fashion_mnist(tmp_path, n_train=300, n_test=100)
    code = (
        "import sys; from playground.train.data import load_fashion_mnist\n"
        "from playground.train.processes import read_apart\n"
        "d = load_fashion_mnist(read=read_apart); assert len(d.train_labels) == 300\n"
        "print('torchvision' in sys.modules)"
    )
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(root)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_stop_right_after_submit_stops_the_run_whatever_its_state(data):
    """Stop can come while the run leaves the queue, or while its process is being forked, before any step."""
    manager = RunManager(max_concurrent=1)
    for _ in range(3):
        run = manager.submit("s", TINY, LONG, data)
        run.stop()
        assert wait_for(lambda run=run: run.status == "stopped", 30)
        assert manager.active_for("s") is None
