"""No process outlives the server; a dead child or forkserver is noticed at once; nothing leaks from ended runs."""

import contextlib
import gc
import os
import signal
import socket
import subprocess
import sys
import textwrap
from multiprocessing import forkserver
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
import torch

from playground.train.data import FashionMNIST
from playground.train.loop import TrainConfig
from playground.train.processes import Child, send_or_give_up
from playground.train.runs import RunManager, Status
from tests.fakedata import fake_split
from tests.proctree import alive, descendants, wait_all_gone
from tests.test_runs import LONG, SHORT, TINY, wait_for

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data():
    (xa, ya), (xb, yb) = fake_split(640, 0), fake_split(200, 1)
    t = torch.from_numpy
    return FashionMNIST(t(xa), t(ya).long(), t(xb), t(yb).long(), "fake")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_no_process_outlives_a_killed_server_and_the_run_comes_back_interrupted(tmp_path, sig):
    server = subprocess.Popen([sys.executable, "-m", "tests.run_server", str(tmp_path)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        line = server.stdout.readline()
        assert line.startswith("READY"), line
        tree = descendants(server.pid)
        names = {p.comm for p in tree}
        assert "cnn-forkserver" in names and any(n.startswith("cnn-train") for n in names), tree
        server.send_signal(sig)
        server.wait(10)
        assert wait_all_gone(tree, timeout=20) == []  # forkserver, training process, resource tracker
    finally:
        server.kill()
        server.wait()
    # A server started afterwards finds the run, interrupted, with its curve and the weights of its last evaluation.
    run = RunManager(runs_dir=tmp_path).runs_for("owner")[0]
    now = run.snapshot()
    assert now.status == Status.INTERRUPTED and now.has_model
    assert now.history["step"] and now.history["eval_step"]
    ckpt = run.checkpoint()
    assert ckpt is run.checkpoint() and ckpt.model()(torch.zeros(1, 1, 28, 28)).shape == (1, 10)


def test_a_killed_forkserver_fails_the_run_at_once_and_the_next_run_starts_a_new_one(data):
    manager = RunManager(max_concurrent=1)
    doomed = manager.submit("s", TINY, LONG, data)
    assert wait_for(lambda: doomed.snapshot().status == Status.RUNNING)
    child = next(p for p in descendants(os.getpid()) if p.pid == doomed._child.process.pid)
    old = forkserver._forkserver._forkserver_pid
    os.kill(old, signal.SIGKILL)
    assert wait_for(lambda: doomed.snapshot().status == Status.FAILED, 5.0)
    assert doomed.snapshot().error.startswith("The forkserver (the helper process that starts training processes) "
                                              "ended unexpectedly, and the training process with it.")  # fmt: skip
    assert wait_all_gone([child], 5.0) == []  # no orphan left training
    assert not Path(f"/proc/{old}").exists()  # reaped, not a zombie
    ok = manager.submit("s", TINY, SHORT, data)
    assert wait_for(lambda: ok.snapshot().status == Status.FINISHED)
    assert forkserver._forkserver._forkserver_pid not in (None, old)


def test_a_child_dies_with_its_forkserver_even_if_nobody_ends_it():
    """Each level watches its parent: PR_SET_PDEATHSIG ends a child when the forkserver dies, without the server."""
    child = Child(Connection.recv, (), "sleeper")  # waits for a message, forever; no relay thread watches it
    try:
        comm = Path(f"/proc/{child.process.pid}/comm")
        assert wait_for(lambda: comm.read_text().strip() == "cnn-sleeper", 10)  # named after arming its watches
        proc = next(p for p in descendants(os.getpid()) if p.pid == child.process.pid)
        os.kill(forkserver._forkserver._forkserver_pid, signal.SIGKILL)
        assert wait_all_gone([proc], 5.0) == []
    finally:
        child.end()


def test_a_message_nobody_takes_is_given_up_after_the_timeout():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        conn = Connection(os.dup(theirs.fileno()))
        send_or_give_up(conn, ("events", [1, 2, 3]), timeout=1)  # small: it fits in the socket's buffer
        with pytest.raises(TimeoutError, match="did not take a message within 1 s"):
            send_or_give_up(conn, ("result", b"x" * 50_000_000), timeout=1)  # nobody reads the other end
        conn.close()


def test_a_training_process_whose_server_is_gone_stops_at_once(data, monkeypatch):
    """The training code itself, here: with the server's end of the pipe closed, it stops at its first look at the
    pipe (before a step) or its first message (step 5's evaluation), not after the 2,000 steps it was asked for."""
    from playground.train import training_process

    steps, train = [], training_process.train

    def counting(spec, data, config, on_event, **kw):
        return train(spec, data, config, on_event=lambda e: (steps.append(e), on_event(e)), **kw)

    monkeypatch.setattr(training_process, "train", counting)
    ours, theirs = socket.socketpair()
    conn = Connection(os.dup(theirs.fileno()))
    ours.close(), theirs.close()
    training_process.main(conn, TINY, data, TrainConfig(epochs=100, batch_size=32, threads=1), None)
    conn.close()
    assert len(steps) <= 6


def open_descriptors() -> dict[str, str]:
    found = {}
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            found[fd] = os.readlink(f"/proc/self/fd/{fd}")
    return found


def test_an_ended_run_keeps_no_descriptor_process_or_data(data, tmp_path):
    manager = RunManager(max_concurrent=2, runs_dir=tmp_path)
    warm = manager.submit("w", TINY, SHORT, data)  # the forkserver and resource tracker start once, for good
    assert wait_for(lambda: warm.status == Status.FINISHED)
    gc.collect()  # objects other tests left for the collector hold descriptors too: close them before counting
    before = open_descriptors()
    runs = [manager.submit(f"o{i}", TINY, SHORT, data) for i in range(4)]
    assert wait_for(lambda: all(r.status == Status.FINISHED and r._child is None for r in runs), 120)  # relays done
    # Descriptors these runs opened and left open (a number reused for another file counts as new). Ones that
    # closed meanwhile are not a leak: other tests' objects and threads may finish while these runs train.
    leaked = lambda: set(open_descriptors().items()) - set(before.items())  # noqa: E731
    assert wait_for(lambda: not leaked(), 5.0), leaked()
    assert all(r._child is None and r.data is None for r in runs)
    assert not [p for p in descendants(os.getpid()) if p.comm.startswith("cnn-train") and alive(p)]


def test_150_runs_work_with_256_descriptors(tmp_path):
    """Issue 12: each ended run kept two pipes open, so run 120 failed with 'Too many open files' at ulimit -n 256."""
    code = textwrap.dedent(f"""
        import resource, sys, time, torch
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        from playground.train.data import FashionMNIST
        from playground.train.models import PRESETS
        from playground.train.runs import RunManager
        from playground.train.loop import TrainConfig
        from tests.fakedata import fake_split
        (xa, ya), (xb, yb) = fake_split(100, 0), fake_split(50, 1)
        t = torch.from_numpy
        data = FashionMNIST(t(xa), t(ya).long(), t(xb), t(yb).long(), "fake")
        manager = RunManager(max_concurrent=2, runs_dir={str(tmp_path)!r})
        config = TrainConfig(epochs=1, batch_size=64, threads=1)
        for i in range(150):
            run = manager.submit(f"owner{{i % 5}}", PRESETS["Tiny (fast demo)"], config, data)
            while run.status not in ("finished", "failed"):
                time.sleep(0.01)
            assert run.status == "finished", (i, run.snapshot().error)
        print("ok", len(manager._runs))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["ok", "150"]


def test_a_training_process_runs_at_a_lower_priority_than_the_pages(data, tmp_path):
    """PLAYGROUND_TRAINING_NICE (default 10): while runs train, students' page loads get the cores first."""
    manager = RunManager(max_concurrent=1, runs_dir=tmp_path)
    run = manager.submit("n", TINY, LONG, data)
    try:
        assert wait_for(lambda: run.status == Status.RUNNING)
        trainers = [p for p in descendants(os.getpid()) if p.comm.startswith("cnn-train") and alive(p)]
        assert trainers
        for p in trainers:
            with open(f"/proc/{p.pid}/stat") as f:
                nice = int(f.read().rsplit(")", 1)[1].split()[16])  # field 19 of stat: the niceness
            assert nice == min(19, os.nice(0) + 10)
    finally:
        run.stop()
        assert wait_for(lambda: run.status not in (Status.RUNNING, Status.QUEUED), 60)
