"""Every ``PLAYGROUND_*`` environment variable the app reads, parsed and range-checked in one place.

A lecturer's typo (``PLAYGROUND_MAX_RUNS=-1``, ``=abc``, ``=2.5``) is refused at start with one sentence
naming the variable (``SettingsError``): the pages show it instead of running, and
``python -m playground.train`` / ``python -m playground.train.data`` print it and exit with status 2.
Pages and engine read ``current()``, never ``os.environ``.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class SettingsError(ValueError):
    """A ``PLAYGROUND_*`` variable with a value the app cannot use; the message names it and says what it takes."""


@dataclass(frozen=True)
class Settings:
    """The server's settings; the README's "Settings" table describes each variable."""

    data_dir: Path | None = None  # PLAYGROUND_DATA_DIR: a folder holding FashionMNIST/raw/
    cache_dir: Path = Path.home() / ".cache" / "cnn-playground"  # PLAYGROUND_CACHE_DIR
    max_runs: int | None = None  # PLAYGROUND_MAX_RUNS: training runs at once; None (or 0): one per core
    runs_per_browser: int = 1  # PLAYGROUND_RUNS_PER_BROWSER: runs one browser may have queued or training
    live_seconds: float = 3.0  # PLAYGROUND_LIVE_SECONDS: between redraws of a run's live view
    max_network_mb: int = 2000  # PLAYGROUND_MAX_NETWORK_MB: a training process's estimated peak memory
    eval_mb: int = 1024  # PLAYGROUND_EVAL_MB: memory an evaluation process may add to what it starts with
    eval_seconds: float = 60.0  # PLAYGROUND_EVAL_SECONDS: time an evaluation of the test images may take
    runs_dir: Path = Path.home() / ".cache" / "cnn-playground" / "runs"  # PLAYGROUND_RUNS_DIR: finished runs
    keep_runs: int = 200  # PLAYGROUND_KEEP_RUNS: finished runs kept on disk, oldest pruned first
    keep_days: float = 14.0  # PLAYGROUND_KEEP_DAYS: age after which a kept run is pruned
    forget_minutes: float = 60.0  # PLAYGROUND_FORGET_MINUTES: a closed session's runs are freed from memory after
    ray_address: str = ""  # PLAYGROUND_RAY_ADDRESS: "" trains in local processes; "auto" or HOST:PORT on Ray
    max_epochs: int = 30  # PLAYGROUND_MAX_EPOCHS: epochs one run may train
    max_images: int = 60_000  # PLAYGROUND_MAX_IMAGES: training images one run may use (all of FashionMNIST's)
    classroom: bool = False  # PLAYGROUND_CLASSROOM: the studio opens with the classroom preset (trains in seconds)
    training_nice: int = 10  # PLAYGROUND_TRAINING_NICE: training processes' niceness, so pages go first on the cores


_HOST_PORT = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?:(\d{1,5})")


def _whole(env: Mapping[str, str], name: str, default: int | None, lo: int, hi: int, what: str) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        value = None
    if value is None or not lo <= value <= hi:
        raise SettingsError(f"{name} must be a whole number from {lo:,} to {hi:,} ({what}), got {raw!r}.")
    return value


def _number(env: Mapping[str, str], name: str, default: float, lo: float, hi: float, what: str) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not lo <= value <= hi:  # NaN fails too
        raise SettingsError(f"{name} must be a number from {lo:g} to {hi:g} ({what}), got {raw!r}.")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip()
    words = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}
    if raw.lower() not in words and raw:
        raise SettingsError(f"{name} must be 1 or 0 (also true/false, yes/no, on/off), got {raw!r}.")
    return words.get(raw.lower(), False)


def _folder(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "")
    if not raw.strip():
        return None
    if "\x00" in raw:
        raise SettingsError(f"{name} must be a folder's path, got {raw!r}.")
    return Path(raw).expanduser()


def ray_address(name: str, raw: str) -> str:
    """Empty (local processes), ``auto`` (the cluster ``ray start`` made on this machine) or ``HOST:PORT``.

    Raises:
        SettingsError: anything else, in a sentence naming ``name`` (the variable, or ``--ray``).
    """
    raw = raw.strip()
    match = _HOST_PORT.fullmatch(raw)
    if raw in ("", "auto") or (match and 1 <= int(match[1]) <= 65535):
        return raw
    raise SettingsError(f"{name} must be empty (train in local processes), auto, or a Ray cluster's HOST:PORT "
                        f"(e.g. 10.0.0.5:6379), got {raw!r}.")  # fmt: skip


def from_environ(env: Mapping[str, str]) -> Settings:
    """Parse and check every variable of ``env``; unset or empty ones take their defaults.

    Raises:
        SettingsError: the first variable whose value is out of range or not a number, named in the message.
    """
    xdg = env.get("XDG_CACHE_HOME", "").strip()
    cache = _folder(env, "PLAYGROUND_CACHE_DIR") or (Path(xdg) if xdg else Path.home() / ".cache") / "cnn-playground"
    return Settings(
        data_dir=_folder(env, "PLAYGROUND_DATA_DIR"),
        cache_dir=cache,
        max_runs=_whole(env, "PLAYGROUND_MAX_RUNS", 0, 0, 64, "training runs at once; 0: one per core") or None,
        runs_per_browser=_whole(env, "PLAYGROUND_RUNS_PER_BROWSER", 1, 1, 100, "runs one browser may have going"),
        live_seconds=_number(env, "PLAYGROUND_LIVE_SECONDS", 3.0, 0.5, 60, "seconds between redraws"),
        # The smallest network's training process alone takes ~400 MB (playground.train.budget.BASE_MB).
        max_network_mb=_whole(
            env, "PLAYGROUND_MAX_NETWORK_MB", 2000, 500, 1_000_000, "megabytes a training process may reach"
        ),
        eval_mb=_whole(env, "PLAYGROUND_EVAL_MB", 1024, 256, 1_000_000, "megabytes an evaluation may add"),
        eval_seconds=_number(env, "PLAYGROUND_EVAL_SECONDS", 60.0, 5, 3600, "seconds an evaluation may take"),
        runs_dir=_folder(env, "PLAYGROUND_RUNS_DIR") or cache / "runs",
        keep_runs=_whole(env, "PLAYGROUND_KEEP_RUNS", 200, 1, 100_000, "finished runs kept on disk"),
        keep_days=_number(env, "PLAYGROUND_KEEP_DAYS", 14.0, 0.01, 3650, "days a finished run is kept"),
        forget_minutes=_number(
            env, "PLAYGROUND_FORGET_MINUTES", 60.0, 1, 10080, "minutes before a closed session's runs are freed"
        ),
        ray_address=ray_address("PLAYGROUND_RAY_ADDRESS", env.get("PLAYGROUND_RAY_ADDRESS", "")),
        max_epochs=_whole(env, "PLAYGROUND_MAX_EPOCHS", 30, 1, 30, "epochs one run may train"),
        max_images=_whole(env, "PLAYGROUND_MAX_IMAGES", 60_000, 100, 60_000, "training images one run may use"),
        classroom=_flag(env, "PLAYGROUND_CLASSROOM"),
        training_nice=_whole(env, "PLAYGROUND_TRAINING_NICE", 10, 0, 19, "a training process's niceness"),
    )


def current() -> Settings:
    """The settings of this process's environment, parsed once (again only if the environment changes).

    Raises:
        SettingsError: as ``from_environ``.
    """
    ours = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("PLAYGROUND_") or k == "XDG_CACHE_HOME"))
    return _parsed(ours)


@functools.lru_cache(maxsize=4)
def _parsed(items: tuple[tuple[str, str], ...]) -> Settings:
    return from_environ(dict(items))
