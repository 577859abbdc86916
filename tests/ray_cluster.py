"""A throw-away Ray head on loopback for tests and benchmarks: started in a temporary folder, stopped by that folder.

``ray stop`` would stop every Ray cluster of the machine (it matches process names), other people's
too; ``stop`` here ends only the processes whose command line names this cluster's folder, and
their descendants (the workers, which rename themselves ``ray::…``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

RAY = Path(sys.executable).with_name("ray")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cpus: int = 2, timeout: float = 120) -> tuple[str, str]:
    """Start a head node; return its address (HOST:PORT) and its folder (for ``RAY_TMPDIR`` and ``stop``).

    The folder is short on purpose: Ray's Unix sockets live under it, and their paths are limited to ~107 bytes.

    Raises:
        RuntimeError: ``ray start`` failed or took longer than ``timeout`` s (what it printed is in the message).
    """
    folder, port = tempfile.mkdtemp(prefix="rt", dir="/tmp"), free_port()
    cmd = [str(RAY), "start", "--head", f"--port={port}", f"--num-cpus={cpus}", "--include-dashboard=false",
           "--disable-usage-stats", "--node-ip-address=127.0.0.1", "--object-store-memory=200000000"]  # fmt: skip
    try:
        out = subprocess.run(cmd, env={**os.environ, "RAY_TMPDIR": folder}, capture_output=True, text=True,
                             timeout=timeout)  # fmt: skip
    except subprocess.TimeoutExpired as e:
        stop(folder)
        raise RuntimeError(f"ray start took over {timeout:g} s: {e.stdout or ''}{e.stderr or ''}") from None
    if out.returncode != 0:
        stop(folder)
        raise RuntimeError(f"ray start failed ({out.returncode}): {out.stdout}{out.stderr}")
    return f"127.0.0.1:{port}", folder


def processes(folder: str) -> list[int]:
    """The pids of the cluster started in ``folder``: those naming it on their command line, and their descendants."""
    table: dict[int, tuple[int, bytes]] = {}
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(entry.name)
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            table[pid] = (ppid, (entry / "cmdline").read_bytes())
    ours = {pid for pid, (_, cmd) in table.items() if folder.encode() in cmd and pid != os.getpid()}
    while True:
        more = {pid for pid, (ppid, _) in table.items() if ppid in ours} - ours - {os.getpid()}
        if not more:
            return sorted(ours)
        ours |= more


def stop(folder: str, grace: float = 10) -> list[int]:
    """End the cluster started in ``folder`` (SIGTERM, then SIGKILL after ``grace`` s) and remove the folder.

    Returns:
        The pids still alive afterwards (none, normally).
    """
    pids = processes(folder)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while (pids := [p for p in pids if _alive(p)]) and time.monotonic() < deadline:
            time.sleep(0.2)
    shutil.rmtree(folder, ignore_errors=True)
    return [p for p in pids if _alive(p)]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z" or _reap(pid)


def _reap(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return False  # a zombie has ended; only its parent's bookkeeping is left


@contextlib.contextmanager
def cluster(cpus: int = 2) -> Iterator[str]:
    """A head node for the ``with`` block, with ``RAY_TMPDIR`` pointing at it; yields its address."""
    address, folder = start(cpus)
    before = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = folder
    try:
        yield address
    finally:
        with contextlib.suppress(ImportError):
            import ray

            ray.shutdown()
        if before is None:
            os.environ.pop("RAY_TMPDIR", None)
        else:
            os.environ["RAY_TMPDIR"] = before
        left = stop(folder)
        if left:
            print(f"Ray processes left after stopping the cluster: {left}", file=sys.stderr)
