"""One training run: its controls, the thread relaying its process, its record.

The manager (``playground.train.runs``) queues runs and starts each on a relay thread (``Run._work``): the run
trains in a child process (``playground.train.processes``, whose code is ``playground.train.training_process``) and
the thread passes that process's events into the run. Its statuses, and the snapshot the pages read, are
``playground.train.status``'s.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time
import uuid
from typing import TYPE_CHECKING

from playground.train.checkpoints import Checkpoint, CheckpointError, load_checkpoint
from playground.train.data import FashionMNIST
from playground.train.loop import Done, Eval, Step, TrainConfig, TrainResult
from playground.train.models import with_dropout
from playground.train.processes import Child, ChildFailed
from playground.train.status import ACTIVE, WITH_MODEL, RunSnapshot, Status, new_history
from playground.train.training_process import Paused, decode_result

if TYPE_CHECKING:
    from playground.train.ray_runs import RayChild
    from playground.train.runs import RunManager

SAVE_SECONDS = 5.0  # how often a training run's record (its curve) is written


class Run:
    """One training run; ``stop()`` works while queued or training, and keeps what was learned."""

    def __init__(self, manager: RunManager, owner: str, spec: dict, config: TrainConfig,
                 data: FashionMNIST | None = None, run_id: str | None = None):  # fmt: skip
        self.id, self.created = run_id or uuid.uuid4().hex[:12], time.time()
        self.owner, self.spec, self.config, self.data = owner, copy.deepcopy(spec), config, data
        self.result: TrainResult | None = None
        self._manager, self._lock = manager, threading.Lock()
        self._status, self._error, self._storage_error = Status.QUEUED, None, None
        self._progress, self._rate, self._eta, self._accuracy = 0.0, 0.0, None, None
        self._history: dict | None = new_history()
        self._started = self._ended = None
        self._child: Child | RayChild | None = None
        self.node: str | None = None  # the Ray node that trained it (None: a local process)
        self._stop_requested, self._threads = False, config.threads or 1
        self._checkpoint: Checkpoint | None = None
        self._saved_at, self.on_disk = 0.0, False
        self.name: str | None = None
        self._seconds: float | None = None
        self._halted = self._stepped = self._step_after = None
        self._step_done = threading.Event()

    @property
    def status(self) -> Status:
        with self._lock:
            return self._status

    @property
    def threads(self) -> int:
        """The cores this run may use (the manager shares them among the running runs)."""
        return self._threads

    @property
    def cache_key(self) -> str:
        """Stable for the run's whole life, across reruns and server restarts: a key for caches of its results."""
        return f"run-{self.id}"

    @property
    def has_model(self) -> bool:
        with self._lock:
            if self._status not in WITH_MODEL:
                return False
            if self.result is not None or self._checkpoint is not None:
                return True
        return self._manager._has_model_file(self)

    def stop(self) -> None:
        """A queued run leaves the queue (stopped); a training one stops within a step and keeps what it learned."""
        if self._manager._drop_queued(self):
            return
        with self._lock:
            self._stop_requested = True
            if self._status in (Status.QUEUED, Status.STARTING, Status.RUNNING, Status.PAUSED):  # queued: leaving it
                self._status = Status.STOPPING
            child = self._child
        if child is not None:  # else _work sends it once the child exists (both look under the lock)
            child.send(("stop",))

    def pause(self) -> bool:
        """A training run waits between two steps (using no CPU) for Resume, One step or Stop; False if not running."""
        return self._control(Status.RUNNING, Status.PAUSED, ("pause",))

    def resume(self) -> bool:
        """A paused run goes on training; False if it is not paused."""
        return self._control(Status.PAUSED, Status.RUNNING, ("resume",))

    def step_once(self, timeout: float = 0.0) -> tuple[int, float] | None:
        """A paused run trains exactly one batch; waits up to ``timeout`` s for its step number and loss (then also
        in ``snapshot().stepped``). None: not paused yet (the process has not stopped), or the step is still going."""
        with self._lock:
            if self._status != Status.PAUSED or self._halted is None or self._child is None:
                return None
            if self._step_after is None:
                self._step_after, self._stepped = self._halted[0], None
                self._step_done.clear()
            child = self._child
        child.send(("step",))
        self._step_done.wait(timeout)
        with self._lock:
            return self._stepped

    def _control(self, was: Status, becomes: Status, message: tuple) -> bool:
        with self._lock:
            if self._status != was or self._child is None:
                return False
            self._status, child = becomes, self._child
            self._halted = self._step_after = None
        child.send(message)
        self._manager._save(self)
        return True

    def snapshot(self) -> RunSnapshot:
        position, wait = self._manager._place(self)  # the manager's lock first, never inside ours: no deadlock
        if self._history is None:
            self._manager._reload_history(self)
        has_model = self.has_model
        with self._lock:
            history = {k: list(v) if isinstance(v, list) else v for k, v in (self._history or {}).items()}
            return RunSnapshot(self.id, self._status, position, self._progress, self._rate, self._eta, history,
                               self._error, self._accuracy, self.config, has_model, self._storage_error,
                               wait, self.name, self._seconds, self._halted, self._stepped)  # fmt: skip

    def checkpoint(self) -> Checkpoint | None:
        """The trained network (the same object on every call), from memory or from disk; None if there is none."""
        with self._lock:
            if self._checkpoint is not None or self._status not in WITH_MODEL:
                return self._checkpoint
            result = self.result
        if result is not None:
            spec = with_dropout(self.spec, self.config.dropout)
            ckpt = Checkpoint(spec, result.model.state_dict(), dataclasses.asdict(self.config), result.history)
        else:
            data = self._manager._load_model(self)
            try:
                ckpt = load_checkpoint(data) if data else None
            except CheckpointError:
                ckpt = None
        with self._lock:
            self._checkpoint = self._checkpoint or ckpt
            return self._checkpoint

    def record(self, status: Status | None = None) -> dict:
        """What is kept on disk about the run (JSON-ready; lists copied, so it can be written outside the lock).

        ``status``: the one to write, if not the current one (the run is about to take it).
        """
        with self._lock:
            history = {k: list(v) if isinstance(v, list) else v for k, v in (self._history or {}).items()}
            return {"id": self.id, "owner": self.owner, "created": self.created, "started": self._started,
                    "ended": self._ended, "status": str(status or self._status), "spec": self.spec,
                    "config": dataclasses.asdict(self.config), "history": history, "progress": self._progress,
                    "images_per_sec": self._rate, "accuracy": self._accuracy, "error": self._error,
                    "seconds": self._seconds, "node": self.node, "name": self.name}  # fmt: skip

    @classmethod
    def from_record(cls, manager: RunManager, r: dict) -> Run:
        """A run read back from disk; one that was active when the server stopped is now interrupted."""
        run = cls(manager, r["owner"], r["spec"], TrainConfig(**r["config"]), run_id=r["id"])
        status = Status(r["status"])
        run.created, run._started, run._ended = r["created"], r.get("started"), r.get("ended")
        run._status = Status.INTERRUPTED if status in ACTIVE else status
        run._history, run._progress = new_history(r.get("history")), r.get("progress", 0.0)
        run._rate = r.get("images_per_sec", 0.0)
        run._accuracy, run._error, run.on_disk = r.get("accuracy"), r.get("error"), True
        run.node, run.name, run._seconds = r.get("node"), r.get("name"), r.get("seconds")
        return run

    def _on_event(self, event: Step | Eval | Done | Paused) -> None:
        with self._lock:
            h = self._history
            if isinstance(event, Paused):  # the process has stopped between two steps
                self._halted = (event.step, event.loss) if self._status == Status.PAUSED else None
                if self._step_after is not None and event.step > self._step_after:  # One step's batch is done
                    self._stepped, self._step_after = self._halted, None
                    self._step_done.set()
                return
            if isinstance(event, Done):
                self._status = Status.EVALUATING  # the loop has stopped; only the final test-set pass remains
            elif isinstance(event, Step):
                if self._status == Status.STARTING:
                    self._status = Status.RUNNING
                h["step"].append(event.step), h["loss"].append(event.loss)
                self._progress, self._rate = event.step / event.total_steps, event.images_per_sec
                self._eta = event.eta_seconds
                h["steps_per_epoch"] = event.step / event.epoch if event.epoch else 1.0
            else:
                h["eval_step"].append(event.step), h["test_loss"].append(event.test_loss)
                h["test_acc"].append(event.test_accuracy)
            since = time.monotonic() - self._saved_at  # an evaluation is worth writing soon: model.pt has its weights
            due = since >= SAVE_SECONDS or (isinstance(event, Eval) and since >= 1.0)
        if due:
            self._manager._save(self)

    def _end(self, status: Status, error: str | None = None, result: TrainResult | None = None) -> None:
        """Record the outcome, write it to disk, then show it: a page saying "finished" is never ahead of the disk."""
        with self._lock:
            self._error, self._ended, self._eta = error, time.time(), 0.0
            if result is not None:
                self.result, self._accuracy = result, result.evaluation.accuracy
                self._rate, self._seconds = result.images_per_sec, result.seconds
            self._halted = self._step_after = None
        self._manager._save(self, status)
        with self._lock:
            self._status = status

    def _work(self) -> None:
        """Train in a child process (or a Ray actor) and relay its events until it ends (on the run's relay thread)."""
        with self._lock:
            stop = self._stop_requested  # stopped between leaving the queue and here
            if not stop:
                self._status, self._started = Status.STARTING, time.time()
        if stop:
            self._end(Status.STOPPED)
            return
        self._manager._save(self)
        config = dataclasses.replace(self.config, threads=self._threads)
        path = self._manager._model_path(self)
        try:
            child = self._manager._start_child(self, config, path)
        except ChildFailed as e:  # e.g. the Ray cluster cannot be reached: its sentence
            self._end(Status.FAILED, str(e))
            return
        except Exception as e:  # e.g. no processes or descriptors left: this run fails, the server goes on
            self._end(Status.FAILED, f"The training process could not start: {type(e).__name__}: {e}")
            return
        with self._lock:
            self._child, stop = child, self._stop_requested
        if stop:
            child.send(("stop",))
        try:
            kind, payload = child.relay(self._on_event, "training process")
            self.node = getattr(child, "node", None)
            if kind == "result":
                result = decode_result(payload, self.spec, config)
                self._manager._save_model(self, result)
                self._end(Status(result.status), result=result)
            else:
                self._end(Status.DIVERGED if kind == "diverged" else Status.FAILED, payload)
        except ChildFailed as e:  # stopped with the server: interrupted, and back as such when it starts again
            self.node = getattr(child, "node", None)
            self._end(Status.INTERRUPTED if e.stopped else Status.FAILED, str(e))
        except Exception as e:  # the server must survive any failure of one run
            self._end(Status.FAILED, f"{type(e).__name__}: {e}")
        finally:
            child.end()  # the process (it has said its last word), its pipes and descriptors: nothing stays
            with self._lock:
                self._child = self.data = None

    def _set_threads(self, n: int) -> None:
        with self._lock:
            changed, self._threads, child = n != self._threads, n, self._child
        if changed and child is not None:
            child.send(("threads", n))

    def _forget(self) -> None:
        """Drop the weights, and the curve if it is on disk (both are read back on demand)."""
        with self._lock:
            self.result, self._checkpoint = None, None
            if self.on_disk:
                self._history = None

    def _stored(self, error: str | None) -> None:
        with self._lock:
            self._storage_error, self._saved_at = error, time.monotonic()
            self.on_disk = self.on_disk or error is None

