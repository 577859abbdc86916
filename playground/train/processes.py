"""Child processes forked from a "forkserver" that has already imported torch, each talking to the server over a pipe.

A training run (``playground.train.runs``) and the one-off reading of the dataset each get such a
process: it starts in a fraction of a second, shares torch's memory with the server and its
siblings, and never holds the server's interpreter lock.

No process outlives the server. The forkserver polls its parent (``playground.train.forkserver_preload``);
each child asks the kernel for SIGKILL when the forkserver dies and ends itself when the server's end
of its start-up pipe closes (``playground.train.lifelines``); a message the server does not take within
``SEND_TIMEOUT`` seconds is given up. The other way round, the server waits on a child's pipe and
exit status together, so it hears at once when the child or the forkserver dies; it then ends the
child and forgets a dead forkserver, so the next child starts a fresh one. A child that has ended
leaves nothing open in the server (``Child.end``).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import io
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import fields
from multiprocessing import forkserver, spawn
from multiprocessing.connection import wait

import torch
import torch.multiprocessing as mp

from playground.train.data import DataLocation, DataNotFound, FashionMNIST, read_fashion_mnist
from playground.train.lifelines import die_with_parent, exit_when_readable, set_process_name

PROCESS_PREFIX = "cnn-playground-"  # our processes: named so, they leave the parent's __main__ alone
CTX = mp.get_context("forkserver")
# Imported once in the forkserver and shared by every child: the watchdog first, so it is armed before the slow
# imports; torch; and torch._dynamo, which a child's first torch.optim optimizer would otherwise import itself
# (hundreds of modules: seconds of every run's start).
PRELOAD = ["playground.train.forkserver_preload", "playground.train.loop", "torch._dynamo"]
SEND_TIMEOUT = 120  # seconds a child waits for the server to take one message: far above the largest result's
_preparation_data = spawn.get_preparation_data
_closing, _exiting = threading.Lock(), False


@atexit.register  # runs before multiprocessing's own exit handler (registered earlier), which joins every child
def _no_more_closing() -> None:
    """From here on, ``Child.end`` leaves Process objects open: joining one closed under it raises at exit."""
    global _exiting
    with _closing:
        _exiting = True



def _without_main(name: str) -> dict:
    """multiprocessing's start-up data, minus the parent's ``__main__`` for our processes.

    A new process normally re-imports the parent's main script. Under Streamlit that is the page script
    (Streamlit installs each page as ``__main__``), so every training process would run the page.
    Ours need only ``playground``, so they are told to leave ``__main__`` alone.
    """
    data = _preparation_data(name)
    if name.startswith(PROCESS_PREFIX):
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
    return data


@functools.cache
def _prepare() -> None:
    """Once, before the first child: the forkserver's preload, and our processes' start-up without ``__main__``.

    An explicit step (``Child`` takes it) rather than a side effect of importing this module.
    """
    CTX.set_forkserver_preload(PRELOAD)
    spawn.get_preparation_data = _without_main


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)  # how a server is stopped: all its processes get one


class ChildFailed(RuntimeError):
    """A child process died without a last message; the text says how.

    ``stopped`` is True when it (or the forkserver) was asked to stop, as every process of a server is when the
    server is stopped (Ctrl+C, ``kill``, a service manager): the run was interrupted rather than broken.
    """

    def __init__(self, text: str, stopped: bool = False):
        super().__init__(text)
        self.stopped = stopped


class Child:
    """A process forked from the forkserver running ``target(conn, *args)``, and the server's end of its pipe.

    Messages are tuples: the child sends ``("events", [...])`` any number of times, then one last
    message (e.g. ``("result", bytes)``); the server may send it small control messages.

    Raises:
        OSError: the process could not be started (e.g. no processes or descriptors left).
    """

    def __init__(self, target: Callable, args: tuple, name: str):
        _prepare()
        ours, theirs = CTX.Pipe(duplex=True)
        self.conn, self._lock, self._pidfd = ours, threading.Lock(), None
        self.process = CTX.Process(target=_bootstrap, args=(target, name, theirs, *args), daemon=True,
                                   name=PROCESS_PREFIX + name)  # fmt: skip
        try:
            self.process.start()
            self._forkserver = forkserver._forkserver._forkserver_pid  # the one that forked it
            with contextlib.suppress(ProcessLookupError):  # already gone: the relay will say why
                self._pidfd = os.pidfd_open(self.process.pid)  # signals this very process, never a reused pid
        except BaseException:
            self.end()
            raise
        finally:
            theirs.close()  # the child has its own copy

    def send(self, message) -> bool:
        """Send a control message from any thread; False if the child is gone."""
        with self._lock:
            try:
                self.conn.send(message)
                return True
            except (OSError, ValueError):
                return False

    def relay(self, on_event: Callable | None, what: str):
        """Pass the child's events to ``on_event`` until its last message, which is returned.

        Args:
            what: the child, for the message if it dies (e.g. "training process").

        Raises:
            ChildFailed: the child (or the forkserver) died without a last message.
        """
        while True:
            if not self.conn.poll():  # a dead child closes its pipe; a dead forkserver, the exit-status pipe
                wait([self.conn, self.process.sentinel])
            try:
                if not self.conn.poll():
                    raise EOFError
                message = self.conn.recv()
            except (EOFError, OSError):
                raise ChildFailed(*self._epitaph(what)) from None
            if message[0] != "events":
                return message
            for event in message[1]:
                on_event(event)

    def _epitaph(self, what: str) -> tuple[str, bool]:
        """How the child ended, in words, and whether it was asked to stop (see ``ChildFailed``)."""
        self.process.join(timeout=2)
        code = self.process.exitcode
        if code == 255 and (sig := forkserver_died(self._forkserver)):  # 255: multiprocessing's "no exit status"
            if sig in STOP_SIGNALS:
                return f"The helper process that starts training processes was stopped ({sig.name}).", True
            return (f"The forkserver (the helper process that starts training processes) ended unexpectedly, "
                    f"and the {what} with it. The next run starts a new one."), False  # fmt: skip
        if code is not None and code < 0:
            sig = signal.Signals(-code)
            oom = ", perhaps because the computer ran out of memory" if sig == signal.SIGKILL else ""
            return f"The {what} was {'stopped' if sig in STOP_SIGNALS else 'killed'} ({sig.name}){oom}.", (
                sig in STOP_SIGNALS
            )
        return f"The {what} ended unexpectedly (exit code {code}).", False

    def end(self, grace: float = 0.0) -> None:
        """Give the child ``grace`` seconds to exit, kill it, and close every descriptor it held in the server."""
        if self.process.pid is not None:
            self.process.join(timeout=grace)
            if self._pidfd is not None:
                with contextlib.suppress(ProcessLookupError):  # already gone
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            else:
                self.process.kill()  # by pid: multiprocessing does so only while it has no exit status for it
            self.process.join(timeout=5)
            with _closing, contextlib.suppress(ValueError):  # ValueError: still dying; its descriptors go with it
                if not _exiting:
                    self.process.close()  # the two start-up pipe descriptors and the Process object's entry
        self.conn.close()
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


def forkserver_died(pid: int | None, grace: float = 1.0) -> signal.Signals | bool:
    """Whether the forkserver ``pid`` is dead (waiting up to ``grace`` s for the kernel to say so): the signal that
    ended it when one did, else True; False while it lives.

    A dead forkserver is reaped and forgotten here, with multiprocessing's own clean-up: left alone it
    is a zombie, and ``ensure_running`` would start a new one only on the next run.
    """
    fs = forkserver._forkserver
    deadline = time.monotonic() + grace
    while True:
        with fs._lock:
            if pid is None or fs._forkserver_pid != pid:
                return True  # already forgotten (by another run's relay) or replaced
            info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            if info is not None:
                fs._stop_unlocked()  # closes its pipe, reaps it, removes its socket, forgets its pid
                killed = info.si_code in (os.CLD_KILLED, os.CLD_DUMPED)
                return signal.Signals(info.si_status) if killed else True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def send_or_give_up(conn, message, timeout: int = SEND_TIMEOUT) -> None:
    """Send from a child's main thread, or raise TimeoutError when the server takes nothing for ``timeout`` s."""

    def give_up(signum, frame):
        raise TimeoutError(f"the server did not take a message within {timeout} s")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(timeout)
    try:
        conn.send(message)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _bootstrap(target: Callable, name: str, conn, *args) -> None:
    """A child's first steps: die with the forkserver and with the server, then ``target(conn, *args)``."""
    die_with_parent()  # the forkserver forks from its only thread, which lives as long as it does
    preload = sys.modules.get("playground.train.forkserver_preload")
    if preload is not None and os.getppid() != preload.FORKSERVER_PID:
        os._exit(1)  # the forkserver died before we asked to die with it
    exit_when_readable(multiprocessing.parent_process().sentinel)  # only the server holds its other end
    set_process_name(f"cnn-{name}")
    target(conn, *args)


def read_apart(location: DataLocation, download: bool = False) -> FashionMNIST:
    """``read_fashion_mnist`` in a short-lived process forked from the forkserver; the tensors come back as bytes.

    torchvision is needed only to read the files once, but importing it costs a process ~160 MB for good
    (this build's libraries): read in the server, it would stay there, beside every run, for the server's life.

    Raises:
        DataNotFound: as ``read_fashion_mnist``, or when the reading process failed.
    """
    child = Child(_read_child, (location, download), "read-data")
    try:
        kind, payload = child.relay(None, "process reading the data")
    except ChildFailed as e:
        raise DataNotFound(str(e)) from None
    finally:
        child.end(grace=10)
    if kind == "error":
        raise DataNotFound(payload)
    return FashionMNIST(**torch.load(io.BytesIO(payload), weights_only=True))


def _read_child(conn, location: DataLocation, download: bool) -> None:
    try:
        data = read_fashion_mnist(location, download)
        buf = io.BytesIO()
        torch.save({f.name: getattr(data, f.name) for f in fields(data)}, buf)
        message = ("result", buf.getvalue())
    except DataNotFound as e:
        message = ("error", str(e))
    except Exception as e:
        message = ("error", f"FashionMNIST could not be read: {type(e).__name__}: {e}")
    send_or_give_up(conn, message)
