"""Training on a Ray cluster: the same seam as a local training process (``relay``, ``send``, ``end``), in a Ray actor.

With ``PLAYGROUND_RAY_ADDRESS`` set, the run manager starts each run through ``RayBackend.start``: a Ray
actor reserving the run's threads as CPUs (``num_cpus``, at most the largest node's) runs
``playground.train.training_process.train_and_report``. The actor queues the run's events and keeps the
weights of its latest evaluation; the server polls both every ``POLL_SECONDS`` and writes the weights
to the run's model path, so a run interrupted on the server keeps what it had learned, wherever the
actor ran. Stop, Pause, Resume, One step and the run's share of threads are forwarded as they are to a local
process; a paused actor waits on a condition (no CPU) and keeps its reserved CPUs.

The dataset goes into Ray's object store once per backend (``ray.put``), and every run's actor reads
it from there. A dead actor or node, or a cluster that stops answering, fails the run with a
sentence (``ChildFailed``); an unreachable cluster is one sentence too (``RayUnavailable``), said before
``ray.init`` is tried (which retries for minutes). ``ray`` is imported only here, and only when used.

The workers import ``playground`` from the server's own ``sys.path`` (Ray passes the driver's path to
its workers): every node needs the project at the same path, as the README says.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from playground.train.data import FashionMNIST
from playground.train.loop import TrainConfig
from playground.train.processes import ChildFailed
from playground.train.run_store import atomic_write
from playground.train.training_process import train_and_report

POLL_SECONDS = 0.25  # how often the server fetches a run's queued events
ANSWER_SECONDS = 60.0  # a cluster silent for this long has lost the run
CONNECT_SECONDS = 3.0  # to tell an unreachable address at once
_connecting = threading.Lock()  # ray.init is process-wide: one connection at a time


class RayUnavailable(ChildFailed):
    """The Ray cluster cannot be reached; the message is one sentence saying so and what to check."""


class _Trainer:
    """The Ray actor: trains on a thread of its own while ``poll`` and ``send`` are served on others."""

    def __init__(self, cpus: int):
        self._lock, self._cpus = threading.Lock(), cpus
        self._arrived = threading.Condition(self._lock)  # a paused run waits on it: no CPU, woken by ``send``
        self._events: list = []
        self._inbox: list[tuple] = []
        self._weights: bytes | None = None

    def where(self) -> tuple[str, int]:
        """The node id and process id of this worker."""
        import os

        import ray

        return ray.get_runtime_context().get_node_id(), os.getpid()

    def train(self, spec: dict, data: FashionMNIST, config: TrainConfig) -> tuple:
        return train_and_report(spec, data, config, self._queue, self._take_inbox, self._keep)

    def poll(self) -> tuple[list, bytes | None]:
        """The events queued since the last poll, and the latest weights if new (each given once)."""
        with self._lock:
            events, weights, self._events, self._weights = self._events, self._weights, [], None
        return events, weights

    def send(self, message: tuple) -> None:
        if message[0] == "threads":  # never more threads than the CPUs reserved
            message = ("threads", max(1, min(message[1], self._cpus)))
        with self._lock:
            self._inbox.append(message)
            self._arrived.notify_all()

    def _queue(self, message: tuple) -> None:
        with self._lock:
            self._events.extend(message[1])

    def _take_inbox(self, wait: float = 0.0) -> list[tuple]:
        with self._lock:
            if wait and not self._inbox:
                self._arrived.wait(wait)
            messages, self._inbox = self._inbox, []
        return messages

    def _keep(self, checkpoint: bytes) -> None:
        with self._lock:
            self._weights = checkpoint


@functools.cache
def _trainer_class():
    import ray

    return ray.remote(_Trainer)


class RayBackend:
    """One server's (or one command's) link to a Ray cluster at ``address`` ("auto" or HOST:PORT)."""

    def __init__(self, address: str):
        self.address = address
        self._lock = threading.Lock()
        self._data: list[tuple[FashionMNIST, object]] = []  # (dataset, its ObjectRef): the latest few
        self.puts = 0  # datasets put into the object store: once per dataset, whatever the number of runs

    def start(self, spec: dict, data: FashionMNIST, config: TrainConfig, model_path: Path | None,
              name: str) -> RayChild:  # fmt: skip
        """Start ``spec``'s training in a new actor; ``name`` labels it in Ray's own tools.

        Raises:
            RayUnavailable: the cluster cannot be reached.
        """
        connect(self.address)
        cpus = max(1, min(config.threads or 1, _largest_node_cpus()))
        return RayChild(dataclasses.replace(config, threads=cpus), spec, self.data_ref(data), model_path, name)

    def data_ref(self, data: FashionMNIST):
        """``data`` in the object store, put there on its first use only."""
        import ray

        with self._lock:
            ref = next((r for d, r in self._data if d is data), None)
            if ref is None:
                ref = ray.put(data)
                self._data, self.puts = [*self._data[-1:], (data, ref)], self.puts + 1
        return ref


class RayChild:
    """A run's actor, seen as ``playground.train.processes.Child`` is: ``relay``, ``send``, ``end``; ``node`` and
    ``pid`` say where it trains once it has started."""

    def __init__(self, config: TrainConfig, spec: dict, data_ref, model_path: Path | None, name: str):
        self.config, self.node, self.pid, self._model_path = config, None, None, model_path
        options = {"num_cpus": config.threads, "max_concurrency": 4, "max_restarts": 0, "name": name,
                   "namespace": "cnn-playground"}  # fmt: skip
        self._actor = _trainer_class().options(**options).remote(config.threads)
        self._result = self._actor.train.remote(spec, data_ref, config)

    def send(self, message: tuple) -> bool:
        """Forward a control message (Stop, threads); False if the actor is gone."""
        try:
            self._actor.send.remote(message)
            return True
        except Exception:  # a dead or killed actor: nothing to tell
            return False

    def relay(self, on_event: Callable | None, what: str = "Ray worker") -> tuple:
        """Pass the actor's events to ``on_event`` until its last message, which is returned.

        Raises:
            ChildFailed: the actor or its node died, or the cluster stopped answering.
        """
        import ray
        from ray.exceptions import GetTimeoutError, RayActorError, RayError

        try:
            self.node, self.pid = ray.get(self._actor.where.remote())  # waits while the cluster has no CPU free
            while True:
                done, _ = ray.wait([self._result], timeout=POLL_SECONDS)
                events, weights = ray.get(self._actor.poll.remote(), timeout=ANSWER_SECONDS)
                if weights is not None and self._model_path is not None:
                    with contextlib.suppress(OSError):  # the run manager reports the folder's problem
                        atomic_write(self._model_path, weights)
                for event in events if on_event is not None else ():
                    on_event(event)
                if done:
                    return tuple(ray.get(self._result, timeout=ANSWER_SECONDS))
        except RayActorError:
            raise ChildFailed(self._epitaph()) from None
        except GetTimeoutError:
            raise ChildFailed(f"The Ray cluster at {connected_address()} did not answer for {ANSWER_SECONDS:g} s; "
                              f"the run is lost.") from None  # fmt: skip
        except RayError as e:
            raise ChildFailed(f"Ray could not run the training: {type(e).__name__}: {_first_line(e)}") from None

    def _epitaph(self) -> str:
        import ray

        try:
            node = next((n for n in ray.nodes() if n["NodeID"] == self.node), None)
        except Exception:
            node = None
        gone = ", which has left the cluster" if self.node and not (node and node["Alive"]) else ""
        where = f"node {self.node[:12]}{gone}" if self.node else "before it started"
        return f"The Ray worker training this run died ({where}). The next run starts a new one."

    def end(self, grace: float = 0.0) -> None:
        """Kill the actor (its CPUs are free at once); nothing of it stays in the cluster."""
        import ray

        with contextlib.suppress(Exception):
            ray.kill(self._actor, no_restart=True)
        self._actor = self._result = None


def connect(address: str) -> None:
    """Connect this process to the cluster at ``address`` (once; later calls return at once).

    Raises:
        RayUnavailable: nothing answers there, or this process is connected to another cluster.
    """
    import ray

    target = _reachable(address)
    with _connecting:
        if ray.is_initialized():
            if connected_address() != target:
                raise RayUnavailable(f"This server already trains on the Ray cluster at {connected_address()}; "
                                     f"it cannot also use {address}.")  # fmt: skip
            return
        try:
            ray.init(address=target, namespace="cnn-playground", log_to_driver=False, logging_level=logging.ERROR)
        except Exception as e:
            raise RayUnavailable(f"Could not connect to the Ray cluster at {address}: {_first_line(e)}") from None


def connected_address() -> str | None:
    import ray

    return ray.get_runtime_context().gcs_address if ray.is_initialized() else None


def _reachable(address: str) -> str:
    """``address`` as HOST:PORT (``auto``: the cluster started on this machine), checked to answer at all."""
    from ray._private.services import canonicalize_bootstrap_address_or_die

    try:
        target = canonicalize_bootstrap_address_or_die(address)
    except Exception:
        raise RayUnavailable("No Ray cluster was found on this machine (PLAYGROUND_RAY_ADDRESS=auto): start one "
                             "with `ray start --head`, or give its HOST:PORT.") from None  # fmt: skip
    host, _, port = target.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as e:
        raise RayUnavailable(f"The Ray cluster at {address} cannot be reached ({e.strerror or e}): is it started "
                             f"(`ray start --head`), and is the address right?") from None  # fmt: skip
    return target


def _largest_node_cpus() -> int:
    """The most CPUs one alive node has: a bigger reservation would wait forever."""
    import ray

    return max((int(n["Resources"].get("CPU", 0)) for n in ray.nodes() if n["Alive"]), default=1)


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]
