"""Browser-test fixtures: a real ``streamlit run`` server and Debian's Chromium driven by Playwright.

Locally a missing Chromium skips these tests; under CI=true it fails them (CI installs it).
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

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PLAYGROUND_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
IN_CI = os.environ.get("CI") == "true"
LOGS: list[Path] = []  # the log of every server started, in order


def pytest_collection_modifyitems(items):
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}: apt-get install chromium"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    _need_chromium()
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True, "args": ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1600, "height": 1400}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict | None = None, timeout: float = 60, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start ``streamlit run app.py`` on a loopback port (a free one unless given); return the process and its URL.

    The ``streamlit`` command itself, as the README runs it (not ``python -m streamlit``): training
    processes start differently under each, and this is the one users have.
    """
    port = port or _free_port()
    cmd = [
        str(Path(sys.executable).with_name("streamlit")), "run", "app.py", "--server.headless=true",
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
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def app_server():
    """A freshly started server per test, so deep links are tested on a fresh process."""
    _need_chromium()
    proc, url = start_server()
    yield url
    stop_server(proc)


@pytest.fixture
def fake_server(tmp_path):
    """A fresh server reading a small generated FashionMNIST (3,000 training and 500 test images)."""
    from tests.fakedata import write_fake_fashion_mnist

    _need_chromium()
    root = write_fake_fashion_mnist(tmp_path / "data", n_train=3000, n_test=500)
    proc, url = start_server(env={"PLAYGROUND_DATA_DIR": str(root)})
    yield url
    stop_server(proc)


BENIGN = ("ERR_NAME_NOT_RESOLVED", "ERR_INTERNET_DISCONNECTED", "favicon", "Failed to load resource")


@pytest.fixture
def console_errors(page):
    """Uncaught page errors and console errors, minus offline noise."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: m.type == "error" and not any(b in m.text for b in BENIGN) and errors.append(m.text))
    return errors


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


_FIRST_LOG = pytest.StashKey[int]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_FIRST_LOG] = len(LOGS)  # before the fixtures start this test's servers


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing browser test leaves a screenshot of every page it had open (test-artifacts/failed-*.png)."""
    report = yield
    if report.when == "call" and report.failed:
        for log in LOGS[item.stash.get(_FIRST_LOG, len(LOGS)):]:  # the servers this test started: their last words
            with contextlib.suppress(OSError):
                report.sections.append((f"server log {log.name} (end)", log.read_text(errors="replace")[-3000:]))
        pages = []
        for name in ("page", "browser"):
            obj = item.funcargs.get(name)
            if name == "page" and obj is not None:
                pages.append(obj)
            elif name == "browser" and obj is not None:
                pages += [p for c in obj.contexts for p in c.pages]
        for i, p in enumerate(pages):
            with contextlib.suppress(Exception):  # a closed page: nothing to show
                shot(p, f"failed-{item.name}-{i}")
                # What the page said, in the log too: a CI machine's artifacts may not be kept.
                text = p.locator("[data-testid='stMain']").inner_text(timeout=2_000)
                report.sections.append((f"page {i} at {p.url}", text[:3000]))
    return report
