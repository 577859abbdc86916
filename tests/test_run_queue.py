"""The fair queue: one running run per owner before anyone gets a second, a cap per owner, positions and waits."""

import pytest
import torch

from playground.train.data import FashionMNIST
from playground.train.run_queue import fair_order, waits
from playground.train.runs import RunError, RunManager, Status
from tests.fakedata import fake_split
from tests.test_runs import LONG, SHORT, TINY, wait_for


def test_owners_with_fewer_runs_ahead_go_first_then_first_come():
    queue = ["a2", "b1", "a3", "c1", "b2"]  # owner = first letter, then the owner's run number (a1 trains)
    assert fair_order(queue, lambda r: int(r[1]) - 1) == ["b1", "c1", "a2", "b2", "a3"]
    assert fair_order(queue, lambda r: 0) == queue
    assert fair_order([], lambda r: 0) == []


def test_waits_fill_the_slot_that_frees_first():
    # Two slots: one run ends in 10 s, one slot is free; each waiting run trains 1,000 images at 100 images/s.
    assert waits([1000, 1000, 1000], free_in=[10.0], slots=2, rate=100.0) == [0.0, 10.0, 10.0]
    assert waits([500, 1000], free_in=[30.0, 20.0], slots=2, rate=100.0) == [20.0, 25.0]
    assert waits([1000], free_in=[10.0], slots=1, rate=None) == [None]
    assert waits([1000], free_in=[float("nan")], slots=1, rate=100.0) == [None]


@pytest.fixture(scope="module")
def data():
    (xa, ya), (xb, yb) = fake_split(640, 0), fake_split(200, 1)
    t = torch.from_numpy
    return FashionMNIST(t(xa), t(ya).long(), t(xb), t(yb).long(), "fake")


def test_the_manager_queues_fairly_caps_each_owner_and_estimates_the_wait(data):
    manager = RunManager(max_concurrent=1, max_per_owner=2)
    a1 = manager.submit("a", TINY, LONG, data)
    assert wait_for(lambda: a1.snapshot().images_per_sec > 0)
    a2 = manager.submit("a", TINY, SHORT, data)
    b1 = manager.submit("b", TINY, LONG, data)
    with pytest.raises(RunError, match="You already have 2 runs queued or training, the most allowed"):
        manager.submit("a", TINY, SHORT, data)
    assert (b1.snapshot().queue_position, a2.snapshot().queue_position) == (1, 2)  # b has nothing running: b first
    wait_b, wait_a = b1.snapshot().wait_seconds, a2.snapshot().wait_seconds
    assert 0 < wait_b < wait_a  # b starts when a1 ends; a2 once b1 has trained too
    a1.stop()
    assert wait_for(lambda: b1.status != Status.QUEUED)
    assert a2.status == Status.QUEUED and a2.snapshot().queue_position == 1
    b1.stop()
    assert wait_for(lambda: a2.status == Status.FINISHED)
