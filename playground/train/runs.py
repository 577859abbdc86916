"""Background training runs for a shared server: one active run per owner, a few at once, the rest queued, kept on disk.

The page keeps one ``RunManager`` per server process (``RunManager.from_settings()``) and reads
``Run.snapshot()`` from a fragment. Each run (``playground.train.run``, which lists the statuses) trains in
its own process, so the page's redraws never compete with it for Python's interpreter lock.

Public use: ``submit(owner, spec, config, data) -> Run``, ``runs_for(owner)``, ``active_for(owner)``,
``rename(owner, run, text)``, ``delete(owner, run)``, ``storage_problem()``; ``Run.snapshot()``, ``Run.stop()``,
``Run.pause()``, ``Run.resume()``, ``Run.step_once()``, ``Run.checkpoint()``, ``Run.cache_key``.
An owner is any stable id: a per-browser cookie, so a reload finds its runs (the parameter was a
session id). Owners never see each other's runs; each has at most ``max_per_owner`` runs queued or
training (default 1, as before). The queue is fair (``playground.train.run_queue``): everyone gets one run
before anyone gets a second; Stop removes a waiting run from it; a waiting run's snapshot gives its
position and an estimate of its wait (from the running runs' time left and images/s).

Kept on disk (``runs_dir``, laid out by ``playground.train.run_store``): a run's record is written when it
is queued, starts and ends, and every ``SAVE_SECONDS`` while it trains; its weights when it finishes
or stops, and by the training process after each evaluation. A new manager loads the records it
finds (runs that were active become interrupted) and prunes beyond ``keep_runs`` runs or
``keep_days`` days, oldest first. When the folder cannot be written, runs live in memory only: the
run says so (its snapshot's ``storage_error``) and ``storage_problem()`` gives the sentence for the page.

Replicas sharing the folder (``playground.train.servers``): records name their server; another live server's
active runs are left alone; ids are claimed on disk. ``runs_for`` takes in what the others wrote (every
``SYNC_SECONDS``, at once for a new owner): a browser whose replica died finds its runs on the next one.

Memory: a run that has ended holds no process, pipe or descriptor. The runs of an owner unseen (no
``runs_for`` call) for ``forget_minutes`` drop their weights and curves from memory (read back from
disk on demand), or are dropped altogether when they are not on disk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from playground.limits import run_size_error
from playground.settings import Settings, current
from playground.train.checkpoints import save_checkpoint
from playground.train.compare import clean_name
from playground.train.data import FashionMNIST
from playground.train.loop import TrainConfig, TrainResult, default_threads
from playground.train.models import with_dropout
from playground.train.processes import Child
from playground.train.run import Run
from playground.train.run_queue import fair_order, waits
from playground.train.run_store import RunStore, problem
from playground.train.servers import Others, join
from playground.train.status import ACTIVE, WITH_MODEL, RunError, RunSnapshot, Status, new_history  # noqa: F401 (re-exported)
from playground.train.training_process import main

if TYPE_CHECKING:
    from playground.train.ray_runs import RayChild

SYNC_SECONDS = 2.0  # between two looks at what other servers sharing the runs folder have written


class RunManager:
    """Runs for every owner of one server: at most ``max_concurrent`` train at once; the queue is fair (``fair_order``).

    Args:
        max_concurrent: runs training at once (default: the number of cores).
        runs_dir: the runs folder; None keeps runs in memory only.
        max_per_owner: runs an owner may have queued or training at once.
        keep_runs, keep_days: how many ended runs are kept, and for how long (oldest pruned first).
        max_epochs, max_images: the most epochs and training images one run may have (None: no limit).
        forget_minutes: an owner unseen for this long has its runs' weights and curves dropped from memory.
    """

    def __init__(self, max_concurrent: int | None = None, runs_dir: str | Path | None = None, *, max_per_owner: int = 1,
                 keep_runs: int = 200, keep_days: float = 14.0, forget_minutes: float = 60.0,
                 ray_address: str = "", max_epochs: int | None = None, max_images: int | None = None):  # fmt: skip
        self.max_epochs, self.max_images = max_epochs, max_images  # a run's size (None: no limit)
        self.max_concurrent, self.max_per_owner = max_concurrent or os.cpu_count() or 1, max_per_owner
        self._rate: float | None = None  # images/s of the last run that trained: for wait estimates
        self.keep_runs, self.keep_days, self.forget_minutes = keep_runs, keep_days, forget_minutes
        self._store = RunStore(runs_dir) if runs_dir is not None else None
        self.ray = None  # a RayBackend when runs train on a Ray cluster; ray itself is imported only then
        if ray_address:
            from playground.train.ray_runs import RayBackend

            self.ray = RayBackend(ray_address)
        self._lock = threading.Lock()
        self._runs: list[Run] = []
        self._queue: list[Run] = []
        self._running: set[Run] = set()
        self._seen: dict[str, float] = {}
        self._born = self._swept = time.monotonic()
        self._problem: str | None = None
        self._server: str | None = None  # this process's id among servers sharing the folder
        self._synced, self._unusable = time.monotonic(), set()  # records of an incompatible version: not read again
        self._syncing = threading.Lock()  # one look at a time; the others go on without waiting
        if self._store is not None:
            self._server, self._others = join(self._store.root), Others(self._store.root)
            self._load()

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> RunManager:
        """A manager set by the lecturer's settings (``playground.settings``; the README's Settings table).

        Raises:
            SettingsError: a variable is mistyped; the sentence names it.
        """
        s = settings or current()
        return cls(s.max_runs or None, s.runs_dir, max_per_owner=s.runs_per_browser, keep_runs=s.keep_runs,
                   keep_days=s.keep_days, forget_minutes=s.forget_minutes, ray_address=s.ray_address,
                   max_epochs=s.max_epochs, max_images=s.max_images)  # fmt: skip

    def submit(self, owner: str, spec: dict, config: TrainConfig, data: FashionMNIST) -> Run:
        """Queue a run for ``owner``; it starts as soon as a slot is free.

        Raises:
            RunError: this owner already has a run queued or going, or the run is over the size limits.
        """
        n = len(data.train_labels) if data is not None else 60_000
        if too_big := run_size_error(config.epochs, config.train_size, n, self.max_epochs or config.epochs,
                                     self.max_images or n):  # fmt: skip
            raise RunError(too_big)
        with self._lock:
            self._seen[owner] = time.monotonic()
            if sum(r.owner == owner and r.status in ACTIVE for r in self._runs) >= self.max_per_owner:
                raise RunError("You already have a run going: stop it or wait for it to finish." if self.max_per_owner
                               == 1 else f"You already have {self.max_per_owner} runs queued or training, the most "
                               f"allowed: stop one or wait.")  # fmt: skip
            run = Run(self, owner, spec, config, data)
            while self._store is not None and not self._store.claim(run.id):
                run.id = uuid.uuid4().hex[:12]  # another server's run took this id
            self._runs.append(run)
            self._queue.append(run)
        self._save(run)  # on disk while queued too: if this server dies, it comes back interrupted, not gone
        self._start_next()
        return run

    def runs_for(self, owner: str) -> list[Run]:
        """``owner``'s runs, oldest first; calling it tells the manager the owner is still around."""
        now = time.monotonic()
        if self._store is not None and (owner not in self._seen or now - self._synced >= SYNC_SECONDS):
            self._sync()
        with self._lock:
            self._seen[owner] = now
            mine = sorted((r for r in self._runs if r.owner == owner), key=lambda r: r.created)
        if now - self._swept >= min(30.0, self.forget_minutes * 60):
            self._forget_unseen(now)
        return mine

    def active_for(self, owner: str) -> Run | None:
        return next((r for r in self.runs_for(owner) if r.status in ACTIVE), None)

    def rename(self, owner: str, run: Run, text: str) -> None:
        """Give ``owner``'s ``run`` the name ``text`` (empty: none), kept in its record.

        Raises:
            RunError: the name is too long or has characters a name cannot have, or the run is not ``owner``'s.
        """
        self._yours(owner, run)
        try:
            name = clean_name(text)
        except ValueError as e:
            raise RunError(str(e)) from None
        with run._lock:
            run.name = name
        self._save(run)

    def delete(self, owner: str, run: Run) -> None:
        """Remove ``owner``'s ended ``run`` from its list and its folder from the runs folder.

        Raises:
            RunError: the run is queued, training or paused (stop it first), another live server is training it,
                it is not ``owner``'s, or its folder cannot be removed.
        """
        self._yours(owner, run)
        if run.status in ACTIVE:
            raise RunError("This run is still queued, training or paused: stop it first, then delete it.")
        if self._store is not None:
            record = self._store.load_record(run.id)
            if record is not None and record.get("server") != self._server and self._others.theirs(record):
                raise RunError("Another server sharing the runs folder is training this run: it cannot be deleted.")
            try:
                self._store.remove(run.id)
            except OSError as e:
                raise RunError(f"The run could not be deleted from {self._store.root} "
                               f"({e.strerror or e}); it is kept.") from None  # fmt: skip
        with self._lock:
            self._runs = [r for r in self._runs if r is not run]

    def storage_problem(self) -> str | None:
        """Why runs cannot be kept on disk right now (one sentence for the page), or None."""
        return self._problem

    def _yours(self, owner: str, run: Run) -> None:
        with self._lock:
            if run.owner != owner or run not in self._runs:
                raise RunError("This run is not in your list of runs any more.")

    # Used by Run.

    def _place(self, run: Run) -> tuple[int | None, float | None]:
        """A waiting run's position in the queue (1: next to start) and the seconds until it starts, if known."""
        with self._lock:
            if run not in self._queue:
                return None, None
            order = fair_order(self._queue, self._ahead)
            rates = [r._rate for r in self._running if r._rate > 0]
            rate = sum(rates) / len(rates) if rates else self._rate
            left = [math.inf if r.status == Status.PAUSED else r._eta if r._eta is not None  # paused: no telling
                    else _images(r) / (rate or 1.0) for r in self._running]  # fmt: skip
            i = order.index(run)
            return i + 1, waits([_images(r) for r in order], left, self.max_concurrent, rate)[i]

    def _drop_queued(self, run: Run) -> bool:
        with self._lock:
            if run not in self._queue:
                return False
            self._queue.remove(run)
            run._end(Status.STOPPED)  # lock order everywhere: manager, then run
            return True

    def _save(self, run: Run, status: Status | None = None) -> None:
        if self._store is not None:
            try:
                self._store.save_record({**run.record(status), "server": self._server})
                self._problem = None
            except OSError as e:
                self._problem = problem(self._store.root, e)
            run._stored(self._problem)

    def _save_model(self, run: Run, result: TrainResult) -> None:
        if self._store is not None:
            spec, config = with_dropout(run.spec, run.config.dropout), dataclasses.asdict(run.config)
            try:
                self._store.save_model(run.id, save_checkpoint(spec, result.model, config, result.history))
            except OSError as e:
                self._problem = problem(self._store.root, e)
                run._stored(self._problem)

    def _start_child(self, run: Run, config: TrainConfig, path: Path | None) -> Child | RayChild:
        """``run``'s training, started in a local process or, with a Ray address, in a Ray actor.

        Raises:
            ChildFailed: the Ray cluster cannot be reached (``RayUnavailable``); OSError: no process could start.
        """
        if self.ray is not None:
            return self.ray.start(run.spec, run.data, config, path, f"train-{run.id}")
        return Child(main, (run.spec, run.data, config, path and str(path)), f"train-{run.id}")

    def _model_path(self, run: Run) -> Path | None:
        return self._store.model_path(run.id) if self._store is not None else None

    def _has_model_file(self, run: Run) -> bool:
        return self._store is not None and run.on_disk and self._store.has_model(run.id)

    def _load_model(self, run: Run) -> bytes | None:
        return self._store.load_model(run.id) if self._store is not None else None

    def evaluated(self, run: Run) -> tuple[int, bytes] | None:
        """While ``run`` trains: the checkpoint written after its latest evaluation, and when (ns), or None before
        the first one or without a runs folder. Costs the run nothing: it writes them anyway, to survive a restart."""
        stamp = self._store.model_stamp(run.id) if self._store is not None else None
        data = self._store.load_model(run.id) if stamp is not None else None
        return (stamp, data) if data else None

    def _reload_history(self, run: Run) -> None:
        record = self._store.load_record(run.id) if self._store is not None else None
        with run._lock:
            if run._history is None:
                run._history = new_history((record or {}).get("history"))

    # Scheduling.

    def _ahead(self, run: Run) -> int:
        """The owner's runs that came before ``run`` and were still queued or training when it came (lock held)."""
        return sum(1 for r in self._runs if r.owner == run.owner and r.created < run.created
                   and (r.status in ACTIVE or (r._ended or 0.0) >= run.created))  # fmt: skip

    def _start_next(self) -> None:
        with self._lock:
            while self._queue and len(self._running) < self.max_concurrent:
                run = fair_order(self._queue, self._ahead)[0]
                self._queue.remove(run)
                self._running.add(run)
                self._share_cores()
                threading.Thread(target=self._run, args=(run,), daemon=True, name=f"relay-{run.id}").start()

    def _share_cores(self) -> None:
        """Split the cores among the running runs: a lone run gets them all, and gives some back when
        another starts (more threads than cores made training collapse several times over here)."""
        for run in self._running:
            if not run.config.threads:
                run._set_threads(default_threads(busy=len(self._running)))

    def _run(self, run: Run) -> None:
        try:
            run._work()
        finally:
            with self._lock:
                self._running.discard(run)
                self._share_cores()
                self._rate = run._rate if run._rate > 0 else self._rate
            if self._store is not None and run.status not in WITH_MODEL:
                self._store.remove_model(run.id)  # a failed or diverged run's partial weights are of no use
            self._prune()
            self._start_next()

    # Disk and memory.

    def _load(self) -> None:
        for record in self._store.records():
            self._adopt(record)
        self._prune()

    def _sync(self) -> None:
        """Take in the runs other servers have written since we last looked, and drop those they have pruned."""
        if not self._syncing.acquire(blocking=False):
            return
        try:
            self._synced = time.monotonic()
            listed = self._store.ids()
            if listed is None:  # the folder cannot be read just now: keep what we have
                return
            present = set(listed)
            with self._lock:
                known = {r.id for r in self._runs}
                self._runs = [r for r in self._runs if r.id in present or r.status in ACTIVE or not r.on_disk]
            unread = [i for i in sorted(present - known - self._unusable) if not self._others.later(i)]
            new = filter(None, map(self._store.load_record, unread))
            if sum(self._adopt(r) for r in sorted(new, key=lambda r: r.get("created", 0.0))):
                self._prune()
        finally:
            self._syncing.release()

    def _adopt(self, record: dict) -> bool:
        """Take in a run read from disk unless a live server is training it; one whose server died is interrupted."""
        if self._others.theirs(record):
            return False  # another live server's: its writer rewrites and prunes it
        try:
            run = Run.from_record(self, record)
        except (KeyError, TypeError, ValueError):
            self._unusable.add(record.get("id"))
            return False  # a record from an incompatible version: left on disk, not shown
        with self._lock:
            if any(r.id == run.id for r in self._runs):
                return False
            self._runs.append(run)
        if record["status"] != run.status:  # it was active when its server stopped: say so on disk too
            run._ended = run._ended or time.time()
            self._save(run)
        run._forget()  # its owner has not come back yet
        return True

    def _prune(self) -> None:
        """Drop ended runs beyond ``keep_runs`` or older than ``keep_days``, oldest first, from memory and disk."""
        oldest = time.time() - self.keep_days * 86400
        with self._lock:
            ended = sorted((r for r in self._runs if r.status not in ACTIVE), key=lambda r: r.created)
            excess = len(ended) - self.keep_runs
            gone = [r for i, r in enumerate(ended) if i < excess or r.created < oldest]
            self._runs = [r for r in self._runs if r not in gone]
        for run in gone:
            if self._store is not None:
                with contextlib.suppress(OSError):  # tried again at the next prune
                    self._store.remove(run.id)

    def _forget_unseen(self, now: float) -> None:
        with self._lock:
            self._swept = now
            limit = now - self.forget_minutes * 60
            unseen = [r for r in self._runs if self._seen.get(r.owner, self._born) < limit and r.status not in ACTIVE]
            self._runs = [r for r in self._runs if r not in unseen or r.on_disk]
            self._seen = {o: t for o, t in self._seen.items() if t >= limit}
        for run in unseen:
            run._forget()


def _images(run: Run) -> int:
    """How many images ``run`` trains in all: its training set (or subset) times its epochs."""
    n = len(run.data.train_labels) if run.data is not None else 60_000
    return min(run.config.train_size or n, n) * run.config.epochs
