"""Browser-test fixtures and hooks: a real ``streamlit run`` server and Debian's Chromium driven by Playwright.

The helpers behind them (starting a server, finding Chromium, screenshots) are in ``tests/e2e/browser.py``.
Locally a missing Chromium skips these tests; under CI=true it fails them (CI installs it).
"""

from __future__ import annotations

import contextlib

import pytest

from tests.e2e.browser import ARGS, CHROMIUM, LOGS, need_chromium, shot, start_server, stop_server


def pytest_collection_modifyitems(items):
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    need_chromium()
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True, "args": ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1600, "height": 1400}}


@pytest.fixture
def app_server():
    """A freshly started server per test, so deep links are tested on a fresh process."""
    need_chromium()
    proc, url = start_server()
    yield url
    stop_server(proc)


@pytest.fixture
def fake_server(tmp_path):
    """A fresh server reading a small generated FashionMNIST (3,000 training and 500 test images)."""
    from tests.fakedata import write_fake_fashion_mnist

    need_chromium()
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
