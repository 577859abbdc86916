"""Background training runs for a shared server: one per browser session, a few at once, the rest queued.

The page keeps one ``RunManager`` per server process and reads ``Run.snapshot()`` from a
fragment. Each run trains in its own process, so the page's redraws never compete with it for
Python's interpreter lock (in a thread, an open page slowed training by a quarter to a half).
Processes are forked from a small "forkserver" that has already imported torch (see
``playground.processes``): a run starts in a fraction of a second and shares torch's memory with
the others. A thread per run relays the process's events into the ``Run``. Runs of two sessions
never see each other.
"""

from __future__ import annotations

import copy
import gc
import io
import os
import threading
import time
import uuid
from dataclasses import dataclass, field

import torch

from playground.data import FashionMNIST
from playground.evaluate import Evaluation
from playground.models import build_model, with_dropout
from playground.processes import CTX, PROCESS_PREFIX, ChildFailed, relay
from playground.train import Done, Eval, Step, TrainConfig, TrainResult, default_threads, train

ACTIVE = ("queued", "running", "stopping", "evaluating")
FLUSH_SECONDS = 0.25  # the child sends its step events in bundles at most this often


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
        self._stop = CTX.Event()  # seen by the training process
        self._threads = CTX.Value("i", 1, lock=False)  # set by the manager, applied by the process between steps
        self._status, self._error = "queued", None
        self._progress, self._rate, self._eta = 0.0, 0.0, None
        self._history: dict[str, list] = {"step": [], "loss": [], "eval_step": [], "test_loss": [], "test_acc": []}
        self._steps_per_epoch = 1.0
        self._process = None  # the training process, once started

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

    def _work(self) -> None:
        """Train in a child process and relay its events until it ends (called on the manager's thread)."""
        with self._lock:
            if self._stop.is_set():
                self._status = "stopped"
                return
            self._status = "running"
        if self.config.threads:
            self._threads.value = self.config.threads
        config = TrainConfig(**{**self.config.__dict__, "threads": self._threads.value})
        events = CTX.Queue()
        process = CTX.Process(target=_child, args=(self.spec, self.data, config, self._stop, self._threads, events),
                               daemon=True, name=f"{PROCESS_PREFIX}train-{self.id}")  # fmt: skip
        self._process = process
        try:
            process.start()  # may raise (e.g. no processes left): then the run fails like any other error
            outcome = relay(process, events, self._on_event, task="training")
            if isinstance(outcome, BaseException):
                raise outcome
            result = _result(self.spec, config, outcome)
            with self._lock:
                self.result, self._status, self._eta = result, result.status, 0.0
        except Exception as e:  # the server must survive any failure of one run
            with self._lock:
                self._status = "failed"
                self._error = str(e) if isinstance(e, ChildFailed) else f"{type(e).__name__}: {e}"
        finally:
            if process.pid is not None:  # started: make sure it is gone
                process.kill()
                process.join(timeout=5)
            events.close()


def _child(spec: dict, data: FashionMNIST, config: TrainConfig, stop, threads, events) -> None:
    """The training process: run ``train`` and send its events, then the result (as torch.save bytes)."""
    gc.freeze()  # the objects inherited from the forkserver: a collection would touch (and so copy) all their pages
    bundle, last = [], time.monotonic()

    def send(event: Step | Eval | Done) -> None:
        nonlocal last
        bundle.append(event)
        if not isinstance(event, Step) or time.monotonic() - last >= FLUSH_SECONDS:
            events.put(("events", bundle.copy()))
            bundle.clear()
            last = time.monotonic()

    def between_steps() -> bool:
        """Follow the manager's share of the cores (it changes as other runs start and end); stop if asked."""
        if threads.value != torch.get_num_threads():
            torch.set_num_threads(threads.value)
        return stop.is_set()

    try:
        result = train(spec, data, config, on_event=send, should_stop=between_steps)
        ev = result.evaluation
        buf = io.BytesIO()
        torch.save({"state_dict": {k: v.contiguous() for k, v in result.model.state_dict().items()},
                    "history": result.history, "seconds": result.seconds, "images_per_sec": result.images_per_sec,
                    "status": result.status, "loss": ev.loss, "accuracy": ev.accuracy, "per_class": ev.per_class,
                    "confusion": ev.confusion, "predictions": ev.predictions}, buf)  # fmt: skip
        events.put(("result", buf.getvalue()))
    except Exception as e:
        events.put(("error", f"{type(e).__name__}: {e}"))
    events.close()
    events.join_thread()  # everything is sent before the process exits


def _result(spec: dict, config: TrainConfig, data: bytes) -> TrainResult:
    """Rebuild the trained model and its evaluation from the bytes the child sent."""
    r = torch.load(io.BytesIO(data), weights_only=True)
    model = build_model(with_dropout(spec, config.dropout))
    model.load_state_dict(r["state_dict"])
    ev = Evaluation(r["loss"], r["accuracy"], r["per_class"], r["confusion"], r["predictions"])
    return TrainResult(model.eval(), r["history"], ev, r["seconds"], r["images_per_sec"], r["status"], config)


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
                self._share_cores()
                threading.Thread(target=self._run, args=(run,), daemon=True, name=f"relay-{run.id}").start()

    def _share_cores(self) -> None:
        """Split the cores among the running runs: a lone run gets them all, and gives some back when
        another starts (more threads than cores made training collapse several times over here)."""
        for run in self._running:
            if not run.config.threads:
                run._threads.value = default_threads(busy=len(self._running))

    def _run(self, run: Run) -> None:
        try:
            run._work()
        finally:
            with self._lock:
                self._running.discard(run)
                self._share_cores()
            self._start_next()
