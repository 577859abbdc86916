"""Replicas sharing one runs folder: two managers on one folder, as two servers behind a proxy would be.

Managers of one test process count as one live server (``playground.train.servers.SERVER``); a dead server is
written by hand: a record naming it, and its lease file gone, stale, or naming a process that has ended.
"""

import json
import os
import subprocess
import time
import types

import pytest
import torch

from playground.train import servers
from playground.train.data import FashionMNIST
from playground.train.run_store import RunStore
from playground.train.runs import ACTIVE, RunManager, Status
from tests.fakedata import fake_split
from tests.test_runs import LONG, SHORT, TINY, wait_for


@pytest.fixture(scope="module")
def data():
    (xa, ya), (xb, yb) = fake_split(640, 0), fake_split(200, 1)
    t = torch.from_numpy
    return FashionMNIST(t(xa), t(ya).long(), t(xb), t(yb).long(), "fake")


def test_a_second_server_leaves_a_live_run_alone_and_finds_it_once_it_has_ended(data, tmp_path, monkeypatch):
    monkeypatch.setattr(servers, "RECHECK_SECONDS", 1.0)
    a = RunManager(max_concurrent=1, runs_dir=tmp_path)
    run = a.submit("alice", TINY, LONG, data)
    assert wait_for(lambda: run.snapshot().status == Status.RUNNING and run.on_disk)
    b = RunManager(runs_dir=tmp_path, keep_runs=1)  # a replica starting while a's run trains
    assert RunStore(tmp_path).load_record(run.id)["status"] in ACTIVE  # not rewritten as interrupted
    assert b.runs_for("alice") == []  # the proxy keeps alice on a; b neither shows nor prunes a's live run
    run.stop()
    assert wait_for(lambda: run.status == Status.STOPPED)
    assert wait_for(lambda: [r.status for r in b.runs_for("alice")] == [Status.STOPPED], 10)  # had alice moved to b
    (seen,) = b.runs_for("alice")
    assert seen.id == run.id and seen.snapshot().history["loss"] and seen.checkpoint() is not None


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def lease(root, server: str, host: str, pid: int, age: float) -> None:
    path = servers.lease_path(root, server)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"host": host, "pid": pid}))
    os.utime(path, (time.time() - age, time.time() - age))


# How another server can be: its lease (host, pid, seconds since renewed), or none; and whether it lives.
SERVERS = {
    "left (no lease)": (None, False),
    "killed on this machine": ((servers.HOST, "dead", 1.0), False),
    "silent on another machine": (("elsewhere", 1, servers.STALE_SECONDS + 5), False),
    "running on this machine": ((servers.HOST, os.getpid(), 1.0), True),
    "beating on another machine": (("elsewhere", 1, 1.0), True),
}


@pytest.mark.parametrize("how", SERVERS)
def test_a_run_of_a_dead_server_comes_back_interrupted_and_a_live_ones_is_left_alone(tmp_path, how):
    store, (given, lives) = RunStore(tmp_path), SERVERS[how]
    if given is not None:
        host, pid, age = given
        lease(tmp_path, "other", host, dead_pid() if pid == "dead" else pid, age)
    store.save_record({"id": "theirs", "owner": "o", "created": time.time(), "status": "running", "spec": TINY,
                       "config": {"epochs": 1}, "history": {"loss": [2.0]}, "server": "other"})  # fmt: skip
    found = RunManager(runs_dir=tmp_path, keep_runs=1).runs_for("o")
    if lives:
        assert found == [] and store.load_record("theirs")["status"] == "running"
    else:
        assert [r.status for r in found] == [Status.INTERRUPTED] and found[0].snapshot().history["loss"] == [2.0]
        assert store.load_record("theirs")["status"] == "interrupted"


def test_a_starting_server_removes_the_leases_of_dead_ones(tmp_path):
    lease(tmp_path, "killed", servers.HOST, dead_pid(), 1.0)
    lease(tmp_path, "silent", "elsewhere", 1, servers.STALE_SECONDS + 5)
    lease(tmp_path, "beating", "elsewhere", 1, 1.0)
    RunManager(runs_dir=tmp_path)
    left = {p.name for p in (tmp_path / servers.FOLDER).iterdir()}
    assert left == {"beating.json", f"{servers.SERVER}.json"}


def test_a_server_that_dies_while_another_runs_shows_there_at_once(tmp_path):
    store = RunStore(tmp_path)
    lease(tmp_path, "other", "elsewhere", 1, 1.0)
    store.save_record({"id": "theirs", "owner": "o", "created": time.time(), "status": "running", "spec": TINY,
                       "config": {"epochs": 1}, "history": {}, "server": "other"})  # fmt: skip
    b = RunManager(runs_dir=tmp_path)
    assert b.runs_for("o") == []
    servers.lease_path(tmp_path, "other").unlink()  # it has left
    assert wait_for(lambda: [r.status for r in b.runs_for("o")] == [Status.INTERRUPTED], 5)


def test_a_live_servers_training_run_is_read_rarely_and_at_once_when_it_dies(tmp_path, monkeypatch):
    store, reads = RunStore(tmp_path), []
    lease(tmp_path, "other", "elsewhere", 1, 1.0)
    store.save_record({"id": "theirs", "owner": "o", "created": time.time(), "status": "running", "spec": TINY,
                       "config": {"epochs": 1}, "history": {"loss": [2.0] * 5000}, "server": "other"})  # fmt: skip
    read = RunStore.load_record
    monkeypatch.setattr(RunStore, "load_record", lambda self, run_id: reads.append(run_id) or read(self, run_id))
    monkeypatch.setattr("playground.train.runs.SYNC_SECONDS", 0.0)  # a look at every call
    b = RunManager(runs_dir=tmp_path)
    for _ in range(20):
        assert b.runs_for("o") == []
    assert reads == ["theirs"]  # its long curve parsed once, not at every look
    lease(tmp_path, "other", "elsewhere", 1, servers.STALE_SECONDS + 5)  # it stopped beating
    assert [r.status for r in b.runs_for("o")] == [Status.INTERRUPTED]


def test_run_ids_are_claimed_on_disk_and_a_queued_run_is_written(data, tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    store.save_record({"id": "aaaaaaaaaaaa", "owner": "x", "created": time.time(), "status": "finished", "spec": TINY,
                       "config": {"epochs": 1}, "history": {}})  # fmt: skip
    same = types.SimpleNamespace(uuid4=lambda: types.SimpleNamespace(hex="a" * 32))
    monkeypatch.setattr("playground.train.run.uuid", same)  # every new run would take the other server's id
    manager = RunManager(max_concurrent=1, runs_dir=tmp_path)
    first = manager.submit("s1", TINY, LONG, data)
    second = manager.submit("s2", TINY, SHORT, data)
    try:
        assert len({first.id, second.id, "aaaaaaaaaaaa"}) == 3
        assert store.load_record("aaaaaaaaaaaa")["owner"] == "x"  # untouched
        assert store.load_record(second.id)["status"] == "queued"  # if this server dies now, it comes back
    finally:
        first.stop(), second.stop()
        assert wait_for(lambda: first.status == second.status == Status.STOPPED)


def test_runs_pruned_by_another_server_leave_this_one_too(data, tmp_path):
    manager = RunManager(max_concurrent=1, runs_dir=tmp_path)
    run = manager.submit("o", TINY, SHORT, data)
    assert wait_for(lambda: run.status == Status.FINISHED)
    assert manager.runs_for("o") == [run]
    RunStore(tmp_path).remove(run.id)  # another replica pruned it (beyond its keep_runs)
    assert wait_for(lambda: manager.runs_for("o") == [], 5)
