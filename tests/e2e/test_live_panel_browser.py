"""The studio's live panel in Chromium (under serve.py): it redraws itself with no Streamlit rerun, and asks for one
exactly when the page must change (a paused run standing still, the run's end)."""

from __future__ import annotations

import re
import time

from tests.e2e.browser import shot, wait_idle

TEXT = "() => document.querySelector('.st-key-ts_curves .cnnpg-text')?.textContent || ''"
NETWORK = "document.querySelector('img[data-picture=network]')"
CURVES = "() => document.querySelector('.st-key-ts_curves img[data-picture=curves]')?.src || ''"


def test_the_panel_redraws_itself_and_the_page_follows_the_run(page, fake_server, console_errors):
    frames: list[str] = []  # every message the server sends the page: a Streamlit rerun sends several
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(f)))
    asked: list[str] = []  # the network panel's pictures the page asked for, and the versions it was told of
    told: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if re.search(r"/_live/(filters|network)\.png", r.url) else None)
    network_json = re.compile(r"/_live/network\.json(\?|$)")
    page.on("response", lambda r: told.append(r.json()["network"]) if network_json.search(r.url) and r.ok else None)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{fake_server}/Training_studio?epochs=30&batch=32")  # the classic network, long enough to watch
    page.get_by_text("1 · The network").wait_for(timeout=120_000)
    wait_idle(page)
    page.set_viewport_size({"width": 1920, "height": 120})  # (a panel within half a screen of sight counts as seen)
    page.locator(".st-key-ts_train button").click()
    page.evaluate("() => window.scrollTo(0, 0)")

    # Out of sight, the panels fetch no picture (the server draws none for them); back in sight, a panel shows the
    # newest at once.
    tops = "[...document.querySelectorAll('.cnnpg-live')].map(p => p.getBoundingClientRect().top)"
    page.wait_for_function(f"() => {tops}.filter(top => top > 200).length === 2", timeout=60_000)  # both out of sight
    deadline = time.monotonic() + 30
    while not any(told) and time.monotonic() < deadline:
        page.wait_for_timeout(500)

    page.wait_for_timeout(1500)  # time enough to fetch the picture it was told of
    assert any(told), "the network's panel was told of no picture: the test proves nothing"
    assert asked == [] and page.evaluate(CURVES) == "", asked
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.evaluate(f"() => {NETWORK}.closest('.cnnpg-live').scrollIntoView()")
    page.wait_for_function(f"told => told.includes(new URL({NETWORK}.src || 'http://x/').searchParams.get('v'))",
                           arg=[v for v in told if v], timeout=10_000)  # fmt: skip
    page.wait_for_function(f"() => {NETWORK}.complete && {NETWORK}.naturalWidth > 0", timeout=10_000)
    page.evaluate("() => document.querySelector('.st-key-ts_curves').scrollIntoView()")

    page.wait_for_function(f"() => /^Running: \\d+%/.test(({TEXT})())", timeout=60_000)
    pause = page.get_by_role("button", name="⏸ Pause")  # (a button with help holds a second, nameless one)
    pause.wait_for(timeout=10_000)  # the page's own control beside the panel
    wait_idle(page)
    text, curves, sent = page.evaluate(TEXT), page.evaluate(CURVES), len(frames)
    page.wait_for_function(f"t => ({TEXT})() !== t", arg=text, timeout=20_000)  # the words move on …
    page.wait_for_function(f"s => ({CURVES})() !== s", arg=curves, timeout=20_000)  # … and the picture too
    assert len(frames) == sent, "the panel was redrawn by a Streamlit rerun"

    page.evaluate("() => document.querySelector('.st-key-ts_curves').scrollIntoView()")
    shot(page, "studio-live-panel")

    # Pause: the page draws Resume and a disabled One step; once the run stands still, the panel asks for a rerun
    # that enables One step, with no click.
    pause.click()
    page.get_by_text(re.compile(r"Paused at \d+% \(step [\d,]+, loss")).wait_for(timeout=30_000)
    page.get_by_role("button", name="⏭ One step", disabled=False).wait_for(timeout=30_000)
    wait_idle(page)
    sent = len(frames)
    page.wait_for_timeout(7_000)  # two of the panel's ticks: it stands still, so the page is not redrawn again
    assert len(frames) == sent, "a paused run's page is redrawn over and over"
    page.get_by_role("button", name="▶ Resume").click()
    page.wait_for_function(f"() => /^Running: \\d+%/.test(({TEXT})())", timeout=30_000)

    # Stop: the run ends while only the panel watches; its request for a rerun brings the results and Train back.
    page.locator(".st-key-ts_stop button").click()
    page.get_by_text("Run 1 stopped: test accuracy").wait_for(timeout=60_000)
    page.locator(".st-key-ts_train button:not([disabled])").wait_for(timeout=30_000)
    wait_idle(page)  # (the full rerun that brings Train back clears the panels once it has finished)
    assert page.locator(".cnnpg-live").count() == 0  # a finished run's chart is the interactive one
    assert page.locator("[data-testid='stException']").count() == 0
    assert not console_errors, console_errors
