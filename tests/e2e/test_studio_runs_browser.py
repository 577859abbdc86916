"""The studio's Pause / One step / Resume and its run table (rename, delete) in a real Chromium."""

from __future__ import annotations

import re

from tests.e2e.browser import shot, wait_idle

LEGEND = "() => [...document.querySelectorAll('.st-key-ts_curves .legendtext')].map(e => e.textContent)"


def in_legend(page, label: str) -> None:
    """Wait until the chart's legend has ``label`` (plotly draws it a little after the page)."""
    page.wait_for_function(f"() => ({LEGEND})().includes({label!r})", timeout=30_000)


def button(page, key: str):
    """The widget's button (one with ``help`` holds a second one: its tooltip's icon)."""
    return page.locator(f".st-key-{key} button").first


def open_studio(page, url: str) -> None:
    page.goto(f"{url}/Training_studio")
    page.get_by_text("1 · The network").wait_for(timeout=90_000)
    wait_idle(page)


def set_number(page, key: str, value: str) -> None:
    page.locator(f".st-key-{key} input").fill(value)
    page.locator(f".st-key-{key} input").press("Enter")
    wait_idle(page)


def test_pause_one_step_and_resume(page, fake_server, console_errors):
    open_studio(page, fake_server)
    set_number(page, "ts_epochs", "25")
    button(page, "ts_train").click()
    button(page, "ts_pause").wait_for(timeout=60_000)
    page.get_by_text(re.compile(r"Run 1: epoch [\d.]+ of 25")).wait_for(timeout=60_000)  # it trains
    button(page, "ts_pause").click()
    page.get_by_text(re.compile(r"Paused at \d+% \(step [\d,]+, loss")).wait_for(timeout=30_000)
    page.get_by_text("keeps its place among the runs this server trains at once").first.wait_for()
    assert button(page, "ts_resume").is_visible()
    step = button(page, "ts_step")
    page.wait_for_function("() => !document.querySelector('.st-key-ts_step button').disabled", timeout=20_000)
    step.click()
    said = page.get_by_text(re.compile(r"One step: step [\d,]+, that batch's loss \d+\.\d{4}"))
    said.wait_for(timeout=20_000)
    first = int(re.search(r"step ([\d,]+)", said.inner_text()).group(1).replace(",", ""))
    wait_idle(page)
    shot(page, "studio-paused-one-step")
    step.click()
    page.get_by_text(f"One step: step {first + 1:,},").wait_for(timeout=20_000)  # exactly one more
    button(page, "ts_resume").click()
    button(page, "ts_pause").wait_for(timeout=20_000)
    page.get_by_text(re.compile(r"Running: \d+%")).wait_for(timeout=20_000)
    button(page, "ts_stop").click()
    page.get_by_text("Run 1 stopped").wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert not console_errors, console_errors


def test_compare_rename_and_delete_finished_runs(page, fake_server, console_errors):
    open_studio(page, fake_server)
    button(page, "ts_classroom").click()  # small runs: seconds each
    wait_idle(page)
    for number, lr in ((1, "0.003"), (2, "0.01")):
        set_number(page, "ts_lr", lr)
        button(page, "ts_train").click()
        page.get_by_text(f"Run {number} finished").wait_for(timeout=90_000)
        page.wait_for_function("() => !document.querySelector('.st-key-ts_train button')?.disabled", timeout=30_000)
        wait_idle(page)
    page.get_by_text("4 · Your runs, side by side").wait_for(timeout=30_000)
    in_legend(page, "Run 2 · lr 0.01")
    shot(page, "studio-runs-compared")
    page.locator(".st-key-ts_name input").fill("a name with <b>")
    page.locator(".st-key-ts_name input").press("Enter")
    wait_idle(page)
    button(page, "ts_rename").click()
    page.get_by_text("not '<' '>'").wait_for(timeout=20_000)
    page.locator(".st-key-ts_name input").fill("faster")
    page.locator(".st-key-ts_name input").press("Enter")
    wait_idle(page)
    button(page, "ts_rename").click()
    page.get_by_text("Renamed to “faster”.").wait_for(timeout=20_000)
    in_legend(page, "faster · lr 0.01")
    wait_idle(page)
    shot(page, "studio-run-renamed")
    page.reload()  # the name lasts
    page.get_by_text("4 · Your runs, side by side").wait_for(timeout=90_000)
    in_legend(page, "faster · lr 0.01")
    wait_idle(page)
    button(page, "ts_delete").click()  # the newest run is the one picked
    page.get_by_text("The run is deleted").wait_for(timeout=20_000)
    only_run_1 = f"() => {{ const t = ({LEGEND})(); return t.length > 0 && t.every(x => x.startsWith('Run 1')); }}"
    page.wait_for_function(only_run_1, timeout=30_000)  # one run left: nothing differs, the legend says its name
    wait_idle(page)
    shot(page, "studio-run-deleted")
    assert page.locator("[data-testid='stException']").count() == 0
    assert not console_errors, console_errors
