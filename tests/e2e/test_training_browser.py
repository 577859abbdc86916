"""The Training studio in a real Chromium: start a run, watch the curve grow, Stop, results survive page changes."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import _need_chromium, shot, start_server, stop_server, wait_idle
from tests.fakedata import write_fake_fashion_mnist


@pytest.fixture
def fake_server(tmp_path):
    _need_chromium()
    root = write_fake_fashion_mnist(tmp_path / "data", n_train=3000, n_test=500)
    proc, url = start_server(env={"PLAYGROUND_DATA_DIR": str(root)})
    yield url
    stop_server(proc)


def curve_points(page) -> int:
    """Number of loss points drawn in the live chart."""
    return page.evaluate(
        "() => { const p = [...document.querySelectorAll('.st-key-ts_curves .js-plotly-plot')].pop();"
        " return p && p.data ? p.data.reduce((n, t) => n + (t.x ? t.x.length : 0), 0) : 0; }"
    )


def test_train_watch_stop_and_keep_results(page, fake_server, console_errors):
    page.goto(f"{fake_server}/Training_studio")
    page.get_by_text("1 · The network").wait_for(timeout=90_000)
    wait_idle(page)
    page.locator(".st-key-ts_epochs input").fill("25")
    page.locator(".st-key-ts_epochs input").press("Enter")
    wait_idle(page)
    page.locator(".st-key-ts_train button").click()
    page.locator(".st-key-ts_curves .js-plotly-plot").last.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.st-key-ts_curves .js-plotly-plot')].pop()?.data?.[0]?.x?.length > 2",
        timeout=60_000,
    )
    first = curve_points(page)
    page.wait_for_timeout(2500)
    assert curve_points(page) > first  # the curve grows while we watch
    shot(page, "training-live")
    page.locator(".st-key-ts_stop button").click()
    page.get_by_text("Run 1 stopped").wait_for(timeout=30_000)
    wait_idle(page)
    shot(page, "training-stopped")
    page.locator("[data-testid='stSidebar'] a", has_text="Inspect a model").click()
    page.get_by_text("Test accuracy:").wait_for(timeout=60_000)
    assert page.get_by_text("This session's latest run").count() >= 1
    wait_idle(page)
    shot(page, "inspect")
    page.locator("[data-testid='stSidebar'] a", has_text="Training studio").click()
    page.get_by_text("Run 1 stopped").wait_for(timeout=30_000)  # nothing lost
    assert page.locator("[data-testid='stException']").count() == 0
    assert not console_errors, console_errors
