"""Pause, One step and Resume: a paused run stands still without using the CPU, one step is exactly one batch."""

import os
import threading
import time

from playground.train.loop import Step, TrainConfig
from playground.train.models import PRESETS
from playground.train.ray_runs import _Trainer
from playground.train.runs import RunManager, Status
from playground.train.training_process import Paused
from tests.test_runs import data, wait_for  # noqa: F401 (data: the module-scoped fixture)

TINY = PRESETS["Tiny (fast demo)"]
LONG = TrainConfig(epochs=100, batch_size=32, threads=1)


def cpu_ticks(pid: int) -> int:
    """utime + stime of process ``pid``, in clock ticks (/proc/<pid>/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def steps(run) -> int:
    return len(run.snapshot().history["step"])


def paused(manager_run):
    run = manager_run
    assert wait_for(lambda: steps(run) > 3)
    assert run.pause()
    assert run.status == Status.PAUSED
    assert wait_for(lambda: run.snapshot().halted is not None, 10)  # the process has stopped between two steps
    return run


def test_a_paused_run_stands_still_without_cpu_steps_once_and_resumes(data, tmp_path):  # noqa: F811
    manager = RunManager(max_concurrent=1, runs_dir=tmp_path)
    run = paused(manager.submit("p", TINY, LONG, data))
    assert manager._store.load_record(run.id)["status"] == "paused"  # on disk too
    at, pid = steps(run), run._child.process.pid
    before = cpu_ticks(pid)
    time.sleep(1.0)
    used = cpu_ticks(pid) - before
    assert steps(run) == at and run.snapshot().halted[0] == at  # nothing trained while paused
    assert used <= 2, f"{used} ticks of CPU in a second while paused"  # ~0 (a tick is 10 ms); training takes ~100
    # One step: exactly one batch, and its loss.
    stepped = run.step_once(timeout=10)
    assert stepped is not None and stepped[0] == at + 1
    assert steps(run) == at + 1 and run.snapshot().history["loss"][-1] == stepped[1]
    assert run.snapshot().stepped == stepped and run.status == Status.PAUSED
    time.sleep(0.5)
    assert steps(run) == at + 1  # still paused after it
    assert run.step_once(timeout=10)[0] == at + 2
    assert run.resume() and run.status == Status.RUNNING
    assert run.snapshot().halted is None
    assert wait_for(lambda: steps(run) > at + 5)  # it goes on
    run.stop()
    assert wait_for(lambda: run.status == Status.STOPPED)


def test_stop_while_paused_ends_the_run_and_keeps_what_it_learned(data):  # noqa: F811
    manager = RunManager(max_concurrent=1)
    run = paused(manager.submit("p", TINY, LONG, data))
    assert not run.pause()  # already paused: a second Pause does nothing
    run.stop()
    assert wait_for(lambda: run.status == Status.STOPPED, 20)
    assert run.result is not None and run.result.status == "stopped"


def test_a_paused_run_holds_its_slot_and_counts_for_its_owner(data):  # noqa: F811
    manager = RunManager(max_concurrent=1)
    run = paused(manager.submit("p", TINY, LONG, data))
    waiting = manager.submit("q", TINY, LONG, data)
    time.sleep(0.5)
    assert waiting.status == Status.QUEUED and waiting.snapshot().queue_position == 1
    assert waiting.snapshot().wait_seconds is None  # a paused run may never end: no estimate
    assert manager.active_for("p") is run
    run.stop()
    assert wait_for(lambda: waiting.status == Status.RUNNING)
    waiting.stop()
    assert wait_for(lambda: waiting.status == Status.STOPPED)


def test_a_server_restart_while_paused_brings_the_run_back_interrupted(data, tmp_path):  # noqa: F811
    manager = RunManager(max_concurrent=1, runs_dir=tmp_path)
    run = paused(manager.submit("p", TINY, LONG, data))
    record = manager._store.load_record(run.id)
    assert record["status"] == "paused"
    record["server"] = None  # as a server that has died left it
    manager._store.save_record(record)
    again = RunManager(max_concurrent=1, runs_dir=tmp_path)
    (back,) = again.runs_for("p")
    assert back.id == run.id and back.status == Status.INTERRUPTED
    run.stop()
    assert wait_for(lambda: run.status == Status.STOPPED)


def test_pause_step_resume_reach_a_ray_actor_the_same_way(data):  # noqa: F811
    """The Ray actor's class, without a cluster: messages through ``send``, events through ``poll``."""
    trainer = _Trainer(1)
    done = []
    threading.Thread(target=lambda: done.append(trainer.train(TINY, data, LONG)), daemon=True).start()
    events: list = []

    def poll():
        events.extend(trainer.poll()[0])
        return events

    assert wait_for(lambda: sum(isinstance(e, Step) for e in poll()) > 3)
    trainer.send(("pause",))
    assert wait_for(lambda: any(isinstance(e, Paused) for e in poll()), 10)
    halt = next(e for e in events if isinstance(e, Paused))
    time.sleep(0.5)
    assert [e.step for e in poll() if isinstance(e, Step)][-1] == halt.step  # standing still
    ticks = os.times()
    time.sleep(0.5)
    used = os.times().user - ticks.user
    assert used < 0.1, used  # the training thread waits on a condition, not in a loop
    trainer.send(("step",))
    assert wait_for(lambda: sum(isinstance(e, Paused) for e in poll()) == 2, 10)
    assert [e.step for e in events if isinstance(e, Step)][-1] == halt.step + 1
    trainer.send(("resume",))
    assert wait_for(lambda: [e.step for e in poll() if isinstance(e, Step)][-1] > halt.step + 3)
    trainer.send(("stop",))
    assert wait_for(lambda: done, 20) and done[0][0] == "result"
