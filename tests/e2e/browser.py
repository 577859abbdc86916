"""Browser-test helpers: a real ``streamlit run`` server and Debian's Chromium, for tests and benchmarks alike.

Importable without pytest's fixtures (``tests/e2e/conftest.py`` holds those and the hooks); the benchmarks and
the replica recipe import from here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PLAYGROUND_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
IN_CI = os.environ.get("CI") == "true"
LOGS: list[Path] = []  # the log of every server started, in order


def need_chromium() -> None:
    """Skip the calling test when Chromium is missing, or fail it under CI=true (CI installs it)."""
    import pytest  # here, so that benchmarks import this module without pytest

    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}: apt-get install chromium"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def free_port() -> int:
    """A loopback port free at the moment of asking."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict | None = None, timeout: float = 60, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start ``streamlit run serve.py`` on a loopback port (a free one unless given); return the process and its URL.

    The ``streamlit`` command itself, as the README runs it (not ``python -m streamlit``): training
    processes start differently under each, and this is the one users have.
    """
    port = port or free_port()
    cmd = [
        str(Path(sys.executable).with_name("streamlit")), "run", "serve.py", "--server.headless=true",
        f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
    ]  # fmt: skip
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"server-{port}.log", "wb")  # noqa: SIM115 (closed with the process)
    LOGS.append(Path(log.name))
    # Each server keeps its runs in a folder of its own unless told otherwise: no test sees another's runs.
    env = {"PLAYGROUND_RUNS_DIR": tempfile.mkdtemp(prefix="cnnpg-runs-"), **(env or {})}
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, **env}
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    stop_server(proc)
    raise RuntimeError(f"streamlit did not start; see {log.name}")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop a server from ``start_server`` and everything it started (its process group)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def shot(page, name: str) -> Path:
    """Save a screenshot as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    with contextlib.suppress(Exception):  # pictures still loading would show as grey boxes
        page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=10_000)
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_idle(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished the current run (no 'running' status widget)."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)
    page.wait_for_timeout(300)
