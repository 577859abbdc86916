"""Servers sharing one runs folder (replicas behind a proxy): which one wrote a run, and whether it still lives.

Each server process has an id (``SERVER``) and, in every runs folder it uses, a lease file
``<runs dir>/.servers/<id>.json`` (its host and pid) whose modification time a thread renews every
``BEAT_SECONDS``. A run's record names the server that wrote it. Another server leaves an active run
alone while that server lives (never rewrites, prunes or shows it), and takes it as interrupted once
it has died: on the same machine as soon as its process is gone; on another machine (the runs folder
on a network filesystem) once its lease is older than ``STALE_SECONDS``. A record without a server
(written before replicas) belongs to a server that has stopped.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import socket
import threading
import time
from pathlib import Path

from playground.train.run_store import atomic_write
from playground.train.status import ACTIVE

BEAT_SECONDS = 5.0
STALE_SECONDS = 30.0  # six missed beats: a busy server is not taken for a dead one
RECHECK_SECONDS = 30.0  # between two readings of another live server's active run (``Others``)
FOLDER = ".servers"
HOST = socket.gethostname()
SERVER = f"{HOST}-{os.getpid()}-{secrets.token_hex(4)}"

_lock = threading.Lock()
_roots: set[Path] = set()  # the runs folders whose lease this process renews
_renewing: list[threading.Thread] = []


def lease_path(root: Path, server: str) -> Path:
    return root / FOLDER / f"{server}.json"


def join(root: Path) -> str:
    """Keep this process's lease in ``root`` from now on (again: no effect); returns this server's id.

    The leases of servers that have died are removed (a missing lease says the same; a live server
    whose lease was taken for stale writes it again at its next beat).
    """
    _write(root)
    for lease in (root / FOLDER).glob("*.json"):
        if not alive(root, lease.name.removesuffix(".json")):
            with contextlib.suppress(OSError):
                lease.unlink()
    with _lock:
        _roots.add(root)
        if not _renewing:
            _renewing.append(threading.Thread(target=_renew, daemon=True, name="runs-lease"))
            _renewing[0].start()
            atexit.register(_leave)
    return SERVER


def alive(root: Path, server: str | None) -> bool:
    """Whether the server ``server`` (a record's writer) still runs; this process always does."""
    if not server:
        return False
    if server == SERVER:
        return True
    path = lease_path(root, server)
    try:
        renewed = path.stat().st_mtime
        lease = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False  # no lease: it left (or never joined)
    if isinstance(lease, dict) and lease.get("host") == HOST:
        return _running(lease.get("pid"))
    return time.time() - renewed < STALE_SECONDS


class Others:
    """The runs other live servers have queued or training in one runs folder: left to them, read rarely.

    A training run's record is rewritten every few seconds and grows with its curve: a server that
    re-read every such record at each look would spend its cores parsing others' curves. One is read
    again after ``RECHECK_SECONDS`` (to see that it has ended), or at once when its server has died.
    """

    def __init__(self, root: Path):
        self.root = root
        self._theirs: dict[str, tuple[str, float]] = {}  # run id -> (its server, when its record was read)

    def later(self, run_id: str) -> bool:
        """Whether to leave ``run_id``'s record unread for now."""
        server, read = self._theirs.get(run_id, ("", 0.0))
        if server and alive(self.root, server) and time.monotonic() - read < RECHECK_SECONDS:
            return True
        self._theirs.pop(run_id, None)
        return False

    def theirs(self, record: dict) -> bool:
        """Whether ``record`` is another live server's queued or training run (then remembered as such)."""
        server = record.get("server")
        if record.get("status") not in ACTIVE or not alive(self.root, server):
            return False
        self._theirs[record.get("id")] = (server, time.monotonic())
        return True


def _running(pid: object) -> bool:
    """Whether process ``pid`` of this machine runs (a zombie has ended)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc: the signal said it exists


def _write(root: Path) -> None:
    with contextlib.suppress(OSError):  # an unwritable folder: the runs say so themselves
        atomic_write(lease_path(root, SERVER), json.dumps({"host": HOST, "pid": os.getpid()}).encode())


def _renew() -> None:
    """Touch each lease (no file is opened: a beat holds no descriptor); rewrite one that has gone."""
    while True:
        time.sleep(BEAT_SECONDS)
        with _lock:
            roots = list(_roots)
        for root in roots:
            try:
                os.utime(lease_path(root, SERVER))
            except FileNotFoundError:
                if root.is_dir():
                    _write(root)
                else:  # the whole folder went away (a test's temporary folder): stop renewing there
                    with _lock:
                        _roots.discard(root)
            except OSError:
                pass


def _leave() -> None:
    """At a normal exit: remove this server's leases, so the others know at once."""
    for root in list(_roots):
        with contextlib.suppress(OSError):
            lease_path(root, SERVER).unlink()
