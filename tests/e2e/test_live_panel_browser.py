"""The studio's live panel in Chromium (under serve.py): it redraws itself with no Streamlit rerun, and asks for one
exactly when the page must change (a paused run standing still, the run's end)."""

from __future__ import annotations

import re

from tests.e2e.browser import shot, wait_idle

TEXT = "() => document.querySelector('.st-key-ts_curves .cnnpg-text')?.textContent || ''"
CURVES = "() => document.querySelector('.st-key-ts_curves img[data-picture=curves]')?.src || ''"


def test_the_panel_redraws_itself_and_the_page_follows_the_run(page, fake_server, console_errors):
    frames: list[str] = []  # every message the server sends the page: a Streamlit rerun sends several
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(f)))
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{fake_server}/Training_studio?epochs=30")  # the classic network: it trains long enough to watch
    page.get_by_text("1 · The network").wait_for(timeout=120_000)
    wait_idle(page)
    page.locator(".st-key-ts_train button").click()
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
