"""Background training runs for a shared server: one per browser session, a few at once, the rest queued.

The page keeps one ``RunManager`` per server process and reads ``Run.snapshot()`` from a
fragment; the worker threads never touch the UI. Runs of two sessions never see each other.
"""

from __future__ import annotations

import copy
import os
import threading
import uuid
from dataclasses import dataclass, field

from playground.data import FashionMNIST
from playground.train import Done, Eval, Step, TrainConfig, TrainResult, train

ACTIVE = ("queued", "running", "stopping", "evaluating")


class RunError(RuntimeError):
    """A run that cannot be started (the session already has one going)."""


@dataclass(frozen=True)
class RunSnapshot:
    """A consistent copy of a run's state, safe to read from any thread."""

    id: str
    status: str  # queued, running, stopping, evaluating, finished, stopped, failed
    queue_position: int | None
    progress: float
    images_per_sec: float
    eta_seconds: float | None
    history: dict
    error: str | None
    accuracy: float | None
    config: TrainConfig = field(default_factory=TrainConfig)


class Run:
    """One training run; ``stop()`` works while queued or running, and keeps what was learned."""

    def __init__(self, manager: RunManager, session_id: str, spec: dict, config: TrainConfig, data: FashionMNIST):
        self.id = uuid.uuid4().hex[:8]
        self.session_id, self.spec, self.config, self.data = session_id, copy.deepcopy(spec), config, data
        self.result: TrainResult | None = None
        self._manager = manager
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._status, self._error = "queued", None
        self._progress, self._rate, self._eta = 0.0, 0.0, None
        self._history: dict[str, list] = {"step": [], "loss": [], "eval_step": [], "test_loss": [], "test_acc": []}
        self._steps_per_epoch = 1.0

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            if self._status == "running":
                self._status = "stopping"
        self._manager._drop_queued(self)

    @property
    def status(self) -> str:
        with self._lock:
            return self._status

    def snapshot(self) -> RunSnapshot:
        position = self._manager._position(self)  # the manager's lock first, never inside ours: no deadlock
        with self._lock:
            history = {k: list(v) for k, v in self._history.items()}
            history["steps_per_epoch"] = self._steps_per_epoch
            accuracy = self.result.evaluation.accuracy if self.result else None
            return RunSnapshot(self.id, self._status, position, self._progress, self._rate,
                               self._eta, history, self._error, accuracy, self.config)  # fmt: skip

    def _on_event(self, event: Step | Eval | Done) -> None:
        with self._lock:
            if isinstance(event, Done):
                self._status = "evaluating"  # the loop has stopped; only the final test-set pass remains
            elif isinstance(event, Step):
                self._history["step"].append(event.step)
                self._history["loss"].append(event.loss)
                self._progress, self._rate, self._eta = (
                    event.step / event.total_steps,
                    event.images_per_sec,
                    event.eta_seconds,
                )
                self._steps_per_epoch = event.step / event.epoch if event.epoch else 1.0
            else:
                self._history["eval_step"].append(event.step)
                self._history["test_loss"].append(event.test_loss)
                self._history["test_acc"].append(event.test_accuracy)

    def _work(self, threads: int) -> None:
        with self._lock:
            if self._stop.is_set():
                self._status = "stopped"
                return
            self._status = "running"
        try:
            config = TrainConfig(**{**self.config.__dict__, "threads": self.config.threads or threads})
            result = train(self.spec, self.data, config, on_event=self._on_event, should_stop=self._stop)
            with self._lock:
                self.result, self._status, self._eta = result, result.status, 0.0
        except Exception as e:  # the server must survive any failure of one run
            with self._lock:
                self._status, self._error = "failed", f"{type(e).__name__}: {e}"


class RunManager:
    """Runs for every session of one server: at most ``max_concurrent`` train at once, in FIFO order."""

    def __init__(self, max_concurrent: int | None = None):
        self.max_concurrent = max_concurrent or os.cpu_count() or 1
        self._lock = threading.Lock()
        self._runs: list[Run] = []
        self._queue: list[Run] = []
        self._running: set[Run] = set()

    def submit(self, session_id: str, spec: dict, config: TrainConfig, data: FashionMNIST) -> Run:
        """Queue a run for ``session_id``; it starts as soon as a slot is free.

        Raises:
            RunError: this session already has a run queued or going.
        """
        with self._lock:
            if any(r.session_id == session_id and r.status in ACTIVE for r in self._runs):
                raise RunError("This session already has a run going: stop it or wait for it to finish.")
            run = Run(self, session_id, spec, config, data)
            self._runs.append(run)
            self._queue.append(run)
        self._start_next()
        return run

    def runs_for(self, session_id: str) -> list[Run]:
        with self._lock:
            return [r for r in self._runs if r.session_id == session_id]

    def active_for(self, session_id: str) -> Run | None:
        return next((r for r in self.runs_for(session_id) if r.status in ACTIVE), None)

    def _position(self, run: Run) -> int | None:
        with self._lock:
            return self._queue.index(run) + 1 if run in self._queue else None

    def _drop_queued(self, run: Run) -> None:
        with self._lock:
            if run in self._queue:
                self._queue.remove(run)
                with run._lock:  # lock order everywhere: manager, then run
                    run._status = "stopped"

    def _start_next(self) -> None:
        with self._lock:
            while self._queue and len(self._running) < self.max_concurrent:
                run = self._queue.pop(0)
                self._running.add(run)
                # Share the cores: one for the web server, the rest split among the running runs.
                threads = max(1, ((os.cpu_count() or 1) - 1) // len(self._running)) if (os.cpu_count() or 1) > 2 else 1
                threading.Thread(target=self._run, args=(run, threads), daemon=True, name=f"train-{run.id}").start()

    def _run(self, run: Run, threads: int) -> None:
        try:
            run._work(threads)
        finally:
            with self._lock:
                self._running.discard(run)
            self._start_next()
