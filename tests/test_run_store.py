"""Runs kept on disk: atomic writes, a restart finds every run, pruning, a folder that cannot be written, forgetting."""

import errno
import json
import os
import time

import pytest
import torch

from playground.settings import SettingsError, from_environ
from playground.train.checkpoints import load_checkpoint
from playground.train.data import FashionMNIST
from playground.train.run_store import MODEL, RECORD, RunStore, atomic_write
from playground.train.runs import RunManager, Status
from tests.fakedata import fake_split
from tests.test_runs import LONG, SHORT, TINY, wait_for


@pytest.fixture(scope="module")
def data():
    (xa, ya), (xb, yb) = fake_split(640, 0), fake_split(200, 1)
    t = torch.from_numpy
    return FashionMNIST(t(xa), t(ya).long(), t(xb), t(yb).long(), "fake")


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "run.json"
    atomic_write(path, b"old")

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("playground.train.run_store.os.fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(path, b"new")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["run.json"]


def test_finished_and_stopped_runs_are_on_disk_and_a_restart_finds_them(data, tmp_path):
    manager = RunManager(max_concurrent=2, runs_dir=tmp_path)
    done = manager.submit(owner="alice", spec=TINY, config=SHORT, data=data)
    going = manager.submit("bob", TINY, LONG, data)
    assert wait_for(lambda: done.status == Status.FINISHED)
    assert wait_for(lambda: len(going.snapshot().history["eval_step"]) > 1)
    going.stop()
    assert wait_for(lambda: going.status == Status.STOPPED)
    record = json.loads((tmp_path / done.id / RECORD).read_text())
    assert record["owner"] == "alice" and record["status"] == "finished" and record["spec"] == TINY
    assert record["config"]["epochs"] == 1 and record["history"]["loss"] == done.snapshot().history["loss"]
    assert record["accuracy"] == done.result.evaluation.accuracy and record["error"] is None
    assert record["created"] <= record["started"] <= record["ended"] and record["seconds"] > 0
    for run in (done, going):  # the checkpoint format of playground.train.checkpoints
        ckpt = load_checkpoint((tmp_path / run.id / MODEL).read_bytes())
        assert same_weights(ckpt.state_dict, run.result.model.state_dict())

    again = RunManager(runs_dir=tmp_path)  # a server restart
    (alice,), (bob,) = again.runs_for("alice"), again.runs_for("bob")
    assert (alice.id, alice.status, bob.status) == (done.id, Status.FINISHED, Status.STOPPED)
    assert alice.snapshot().history == done.snapshot().history and alice.snapshot().accuracy == record["accuracy"]
    assert alice.cache_key == done.cache_key and alice.has_model
    assert same_weights(alice.checkpoint().state_dict, done.result.model.state_dict())
    assert alice.checkpoint() is alice.checkpoint()  # one object: pages may cache on it


def test_a_run_without_weights_keeps_its_record_only(data, tmp_path):
    manager = RunManager(max_concurrent=1, runs_dir=tmp_path)
    busy = manager.submit("a", TINY, LONG, data)
    queued = manager.submit("b", TINY, SHORT, data)
    queued.stop()
    broken = manager.submit("c", {"layers": [{"type": "conv", "out_channels": 4, "kernel": 99}]}, SHORT, data)
    busy.stop()
    assert wait_for(lambda: broken.status == Status.FAILED)
    again = RunManager(runs_dir=tmp_path)
    assert [r.status for r in again.runs_for("b")] == [Status.STOPPED]
    (failed,) = again.runs_for("c")
    assert failed.status == Status.FAILED and "no window fits" in failed.snapshot().error
    assert not failed.has_model and failed.checkpoint() is None and not (tmp_path / broken.id / MODEL).exists()


def fake_record(store: RunStore, run_id: str, created: float, status: str = "finished") -> None:
    store.save_record({"id": run_id, "owner": "o", "created": created, "status": status, "spec": TINY,
                       "config": {"epochs": 1}, "history": {"step": [1], "loss": [2.0]}})  # fmt: skip


def test_old_and_surplus_runs_are_pruned_oldest_first_and_active_ones_come_back_interrupted(tmp_path):
    store, now = RunStore(tmp_path), time.time()
    for i in range(6):
        fake_record(store, f"r{i}", now - 3600 * i)  # r0 is the newest; r5 five hours old
    fake_record(store, "old", now - 3 * 86400)
    fake_record(store, "going", now - 7200, status="running")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / RECORD).write_text("{not json")
    (tmp_path / "r0" / ".run.json.x.tmp").write_text("half")  # a write cut short by a crash, an hour ago
    os.utime(tmp_path / "r0" / ".run.json.x.tmp", (now - 3600, now - 3600))
    (tmp_path / "r1" / ".run.json.y.tmp").write_text("half")  # another server writing right now: left alone
    by_age = RunManager(runs_dir=tmp_path, keep_runs=10, keep_days=2).runs_for("o")
    assert [r.id for r in by_age] == ["r5", "r4", "r3", "r2", "going", "r1", "r0"]  # not "old"
    kept = RunManager(runs_dir=tmp_path, keep_runs=4, keep_days=2).runs_for("o")  # then by count
    assert [r.id for r in kept] == ["r2", "going", "r1", "r0"]  # "going" was interrupted: it has ended, it counts
    assert {p.name for p in tmp_path.iterdir()} == {"r0", "r1", "r2", "going", "junk", ".servers"}
    assert kept[1].status == Status.INTERRUPTED and kept[1].snapshot().history["loss"] == [2.0]
    assert store.load_record("going")["status"] == "interrupted"  # and says so on disk
    assert not list((tmp_path / "r0").glob("*.tmp")) and list((tmp_path / "r1").glob("*.tmp"))


@pytest.mark.parametrize("trouble", ["full disk", "a file in the way"])
def test_training_works_in_memory_when_the_folder_cannot_be_written(data, tmp_path, monkeypatch, trouble):
    if trouble == "full disk":
        runs_dir = tmp_path / "runs"

        def full_disk(fd):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr("playground.train.run_store.os.fsync", full_disk)
        reason = "No space left on device"
    else:  # as root, a read-only folder is writable: a file where the folder should be fails for everyone
        (tmp_path / "runs").write_text("")
        runs_dir, reason = tmp_path / "runs" / "inside", "Not a directory"
    manager = RunManager(max_concurrent=1, runs_dir=runs_dir)
    run = manager.submit("o", TINY, SHORT, data)
    assert wait_for(lambda: run.status == Status.FINISHED)
    message = run.snapshot().storage_error
    assert message.startswith(f"Runs cannot be saved in {runs_dir} ({reason}): they are kept in memory only")
    assert manager.storage_problem() == message
    assert run.snapshot().accuracy is not None and run.has_model
    assert same_weights(run.checkpoint().state_dict, run.result.model.state_dict())


def test_settings_come_from_the_environment_and_mistakes_are_named(tmp_path):
    env = {"PLAYGROUND_RUNS_DIR": str(tmp_path), "PLAYGROUND_KEEP_RUNS": "7", "PLAYGROUND_KEEP_DAYS": "0.5",
           "PLAYGROUND_FORGET_MINUTES": "15", "PLAYGROUND_MAX_RUNS": "3"}  # fmt: skip
    m = RunManager.from_settings(from_environ(env))
    assert (m.max_concurrent, m.keep_runs, m.keep_days, m.forget_minutes) == (3, 7, 0.5, 15.0)
    assert m._store.root == tmp_path
    for name, value in [("PLAYGROUND_KEEP_RUNS", "abc"), ("PLAYGROUND_KEEP_RUNS", "0"), ("PLAYGROUND_MAX_RUNS", "-1"),
                        ("PLAYGROUND_FORGET_MINUTES", "nan"), ("PLAYGROUND_KEEP_DAYS", "-2")]:  # fmt: skip
        with pytest.raises(SettingsError, match=f"^{name} must be"):
            RunManager.from_settings(from_environ({**env, name: value}))


@pytest.mark.parametrize("on_disk", [True, False])
def test_runs_of_owners_not_seen_are_forgotten_and_read_back_from_disk(data, tmp_path, on_disk):
    manager = RunManager(max_concurrent=1, runs_dir=tmp_path if on_disk else None, forget_minutes=0.005)  # 0.3 s
    run = manager.submit("gone", TINY, SHORT, data)
    assert wait_for(lambda: run.status == Status.FINISHED)
    weights, history = run.result.model.state_dict(), run.snapshot().history
    time.sleep(0.5)
    manager.runs_for("here")  # another owner's page: the manager looks for owners it has not seen
    if not on_disk:  # nothing to read it back from: dropped altogether
        assert manager._runs == []
        return
    assert run.result is None and run._history is None and run._checkpoint is None
    (back,) = manager.runs_for("gone")
    assert back is run and back.snapshot().history == history
    assert same_weights(back.checkpoint().state_dict, weights)
