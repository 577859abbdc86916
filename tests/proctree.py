"""Process trees read from /proc: which processes descend from a server, and whether they still live."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Proc:
    pid: int
    start: int  # clock ticks after boot: with the pid, names one process even if the pid is reused
    comm: str
    cmdline: str


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of ``pid``, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1]), int(fields[19])


def _read(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def descendants(root: int) -> list[Proc]:
    """Every process below ``root`` (children, grandchildren, …)."""
    parents: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (stat := _stat(int(name))) is not None:
            parents.setdefault(stat[1], []).append(int(name))
    found, todo = [], [root]
    while todo:
        for pid in parents.get(todo.pop(), []):
            stat = _stat(pid)
            if stat is not None:
                found.append(Proc(pid, stat[2], _read(f"/proc/{pid}/comm"), _read(f"/proc/{pid}/cmdline")))
                todo.append(pid)
    return found


def alive(proc: Proc) -> bool:
    """Whether ``proc`` still runs (a zombie has ended: it holds no memory, only its exit status)."""
    stat = _stat(proc.pid)
    return stat is not None and stat[2] == proc.start and stat[0] != "Z"


def wait_all_gone(procs: list[Proc], timeout: float) -> list[Proc]:
    """Wait up to ``timeout`` s for every process of ``procs`` to end; return those still alive."""
    end = time.monotonic() + timeout
    while (left := [p for p in procs if alive(p)]) and time.monotonic() < end:
        time.sleep(0.2)
    return left


def process(pid: int) -> Proc | None:
    """``pid`` as a ``Proc``, or None if it is gone."""
    stat = _stat(pid)
    return None if stat is None else Proc(pid, stat[2], _read(f"/proc/{pid}/comm"), _read(f"/proc/{pid}/cmdline"))
