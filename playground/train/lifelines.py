"""Linux process hygiene for the server's helper processes: die with the parent, and a readable name.

Plain ``ctypes`` calls to ``prctl``; elsewhere than Linux/glibc they do nothing (the watchdogs of
``playground.train.processes`` still end the processes, a little later).
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import threading

PR_SET_PDEATHSIG, PR_SET_NAME = 1, 15


def _prctl(option: int, arg) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, arg, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when the thread that forked it ends; True if armed.

    Only safe when that thread lives as long as the parent process (the forkserver's single thread does).
    """
    return _prctl(PR_SET_PDEATHSIG, int(sig))


def set_process_name(name: str) -> None:
    """The name ``ps``, ``top`` and /proc/PID/comm show (at most 15 bytes), so a lecturer can tell our processes."""
    _prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]))


def exit_when_readable(fd: int, code: int = 0) -> threading.Thread:
    """Start a daemon thread that ends this process as soon as ``fd`` becomes readable (or is closed at the other end).

    A process gives it the read end of a pipe whose write end only its parent holds: the parent's death,
    however sudden, closes that end and so ends this process within milliseconds.
    """

    def watch() -> None:
        poller = select.poll()  # not select.select: it cannot watch a descriptor numbered above 1023
        poller.register(fd, select.POLLIN | select.POLLHUP)
        poller.poll()
        os._exit(code)

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread
