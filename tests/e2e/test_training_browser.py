"""The Training studio in a real Chromium: start a run, watch the curve grow, Stop, results survive page changes."""

from __future__ import annotations

from tests.e2e.browser import shot, wait_idle

# How far (in epochs) the run is, as the live picture's caption says.
EPOCH_NOW = (
    "() => { const m = document.querySelector('.st-key-ts_curves')?.textContent.match(/epoch ([\\d.]+) of/);"
    " return m ? parseFloat(m[1]) : 0; }"
)
# How far (in epochs) the interactive loss curve reaches. Point counts are no measure: long curves are thinned.
CURVE_END = (
    "() => { const p = [...document.querySelectorAll('.st-key-ts_curves .js-plotly-plot')].pop();"
    " const x = p && p.data && p.data[0] ? p.data[0].x : null; return x && x.length ? x[x.length - 1] : 0; }"
)


def test_train_watch_stop_and_keep_results(page, fake_server, console_errors):
    page.goto(f"{fake_server}/Training_studio")
    page.get_by_text("1 · The network").wait_for(timeout=90_000)
    wait_idle(page)
    page.locator(".st-key-ts_epochs input").fill("25")
    page.locator(".st-key-ts_epochs input").press("Enter")
    wait_idle(page)
    page.locator(".st-key-ts_train button").click()
    # While it trains, the curves are a picture (cheap for the browser) whose caption says where the run is.
    page.locator(".st-key-ts_curves img").wait_for(timeout=60_000)
    page.wait_for_function(f"() => ({EPOCH_NOW})() > 0", timeout=60_000)
    first, src = page.evaluate(EPOCH_NOW), page.locator(".st-key-ts_curves img").get_attribute("src")
    page.wait_for_function(f"() => ({EPOCH_NOW})() > {first}", timeout=20_000)  # it grows while we watch
    assert page.locator(".st-key-ts_curves img").get_attribute("src") != src  # a new picture, not just new words
    shot(page, "training-live")
    # On request, the interactive chart while training, growing too.
    page.locator(".st-key-ts_interactive label").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.st-key-ts_curves .js-plotly-plot')].pop()?.data?.[0]?.x?.length > 2",
        timeout=30_000,
    )
    first = page.evaluate(CURVE_END)
    page.wait_for_function(f"() => ({CURVE_END})() > {first}", timeout=20_000)
    page.locator(".st-key-ts_stop button").click()
    page.get_by_text("Run 1 stopped").wait_for(timeout=30_000)
    wait_idle(page)
    page.locator(".st-key-ts_interactive label").click()  # back off: a finished run's chart is interactive anyway
    wait_idle(page)
    assert page.locator(".st-key-ts_curves .js-plotly-plot").count() == 1
    shot(page, "training-stopped")
    page.locator("[data-testid='stSidebar'] a", has_text="Inspect a model").click()
    page.get_by_text("Test accuracy:").wait_for(timeout=60_000)
    assert page.get_by_text("This browser's latest run").count() >= 1
    wait_idle(page)
    shot(page, "inspect")
    page.locator("[data-testid='stSidebar'] a", has_text="Training studio").click()
    page.get_by_text("Run 1 stopped").wait_for(timeout=30_000)  # nothing lost
    assert page.locator("[data-testid='stException']").count() == 0
    assert not console_errors, console_errors
