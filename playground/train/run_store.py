"""Runs kept on disk: one folder per run holding its record and its weights, every file written atomically.

Layout::

    <runs dir>/<run id>/run.json   owner, spec, config, status, history, timings, error (JSON)
    <runs dir>/<run id>/model.pt   a checkpoint (``playground.train.checkpoints``): the final weights of a finished
                                   or stopped run; while it trains, those of its latest evaluation
    <runs dir>/.servers/<id>.json  a lease per server sharing the folder (``playground.train.servers``)
    <runs dir>/.deleted-<id>-<hex>/ a run being deleted: renamed out of sight first, then removed

Each write goes to a temporary file in the same folder, is flushed to the disk (fsync), then renamed
over the old file (``os.replace``, atomic on POSIX): a crash or a full disk leaves the old file or the
new one, never half of one. Errors are ``OSError``s; ``problem`` turns one into a sentence for the page.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

RECORD, MODEL = "run.json", "model.pt"
VERSION = 1  # of the record's layout
TMP_AGE = 60.0  # seconds: an older temporary file was left by a killed writer; a younger one may be another
#                 server's write in progress (replicas share the folder)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once (temporary file, fsync, rename); the folder is made if needed.

    Raises:
        OSError: the folder cannot be written (permissions, a full disk, …); ``path`` is then unchanged.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def problem(root: Path, error: OSError) -> str:
    """The sentence a page shows when runs cannot be written to ``root``."""
    reason = error.strerror or str(error)
    return (f"Runs cannot be saved in {root} ({reason}): they are kept in memory only, and lost when the server "
            f"stops. Training works as usual.")  # fmt: skip


class RunStore:
    """The runs folder: records and weights by run id."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser()

    def folder(self, run_id: str) -> Path:
        return self.root / run_id

    def model_path(self, run_id: str) -> Path:
        return self.folder(run_id) / MODEL

    def claim(self, run_id: str) -> bool:
        """Make the run's folder; False if it exists already (another server's run has that id)."""
        try:
            self.folder(run_id).mkdir(parents=True)
        except FileExistsError:
            return False
        except OSError:
            pass  # an unwritable folder: the run's first write says so
        return True

    def ids(self) -> list[str] | None:
        """The run folders present (written or claimed), or None if the folder cannot be read just now."""
        try:
            return [p.name for p in self.root.iterdir() if not p.name.startswith(".") and p.is_dir()]
        except FileNotFoundError:
            return []
        except OSError:
            return None

    def save_record(self, record: dict) -> None:
        """Write ``record`` (it has an ``id``) as the run's run.json. Raises OSError."""
        data = json.dumps({"version": VERSION, **record}, separators=(",", ":")).encode()
        atomic_write(self.folder(record["id"]) / RECORD, data)

    def save_model(self, run_id: str, data: bytes) -> None:
        """Write checkpoint bytes as the run's model.pt. Raises OSError."""
        atomic_write(self.model_path(run_id), data)

    def has_model(self, run_id: str) -> bool:
        return self.model_path(run_id).is_file()

    def load_model(self, run_id: str) -> bytes | None:
        try:
            return self.model_path(run_id).read_bytes()
        except OSError:
            return None

    def model_stamp(self, run_id: str) -> int | None:
        """When the run's model.pt was last written (ns), or None without one: a new one replaces it whole."""
        try:
            return self.model_path(run_id).stat().st_mtime_ns
        except OSError:
            return None

    def load_record(self, run_id: str) -> dict | None:
        try:
            record = json.loads((self.folder(run_id) / RECORD).read_bytes())
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and record.get("id") == run_id else None

    def records(self) -> list[dict]:
        """Every readable record, oldest first; unreadable folders are skipped and stale temporary files removed."""
        found, old = [], time.time() - TMP_AGE
        for gone in self.root.glob(".deleted-*"):  # a deletion cut short (the server was killed while removing)
            with contextlib.suppress(OSError):
                if gone.stat().st_mtime < old:
                    shutil.rmtree(gone, ignore_errors=True)
        for run_id in self.ids() or ():
            for tmp in self.folder(run_id).glob(".*.tmp"):  # left by a process killed while writing
                with contextlib.suppress(OSError):
                    if tmp.stat().st_mtime < old:
                        tmp.unlink()
            record = self.load_record(run_id)
            if record is not None:
                found.append(record)
        return sorted(found, key=lambda r: r.get("created", 0.0))

    def remove_model(self, run_id: str) -> None:
        with contextlib.suppress(OSError):
            self.model_path(run_id).unlink()

    def remove(self, run_id: str) -> None:
        """Delete the run's folder all at once for every reader: renamed to a hidden name (atomic), then removed.

        Raises:
            OSError: the folder could not be renamed (then it is all still there); a missing folder is no error.
        """
        hidden = self.root / f".deleted-{run_id}-{secrets.token_hex(4)}"
        try:
            os.rename(self.folder(run_id), hidden)
        except FileNotFoundError:
            return
        shutil.rmtree(hidden, ignore_errors=True)
