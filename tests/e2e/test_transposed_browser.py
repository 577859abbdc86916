"""The explorer's transposed kind in Chromium: pick it, read the output size, step through a cell; projector size."""

from __future__ import annotations

from tests.e2e.browser import shot, wait_idle
from tests.e2e.widgets import choose


def test_transposed_kind_size_and_step_through(page, app_server, console_errors):
    page.goto(f"{app_server}/Convolution_explorer?src=grid&stride=2")
    page.locator(".st-key-cx_s_Convolution img").wait_for(timeout=90_000)
    wait_idle(page)
    choose(page, "Layer kind", "Transposed convolution")
    page.locator(".st-key-cx_s_Transposed img").wait_for(timeout=60_000)
    wait_idle(page)
    main = page.locator("[data-testid='stMain']")
    assert "shape 1×13×13" in main.inner_text()  # (6 − 1)·2 + (3 − 1) + 1 = 13
    assert "kind=transposed" in page.url
    page.locator(".st-key-cx_next button").click()  # cell (0, 1): a gap between two kernel copies
    wait_idle(page)
    text = main.inner_text()
    assert "Cell (0, 1): 1 input × weight product, summed" in text
    page.locator(".st-key-cx_next button").click()  # cell (0, 2): two copies overlap
    wait_idle(page)
    assert "Cell (0, 2): 2 input × weight products, summed" in main.inner_text()
    assert page.locator(".st-key-cx_t_kernel img").count() == 1 and page.locator(".st-key-cx_t_input img").count() == 1
    page.locator(".st-key-cx_t_kernel").scroll_into_view_if_needed()
    shot(page, "transposed-step-through")
    assert page.locator("[data-testid='stException']").count() == 0
    assert not console_errors, console_errors


def test_transposed_in_presentation_mode_at_projector_size(browser, app_server):
    page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    page.goto(f"{app_server}/Convolution_explorer?src=grid&kind=transposed&stride=2&tpad=1&opad=1&present=1&step=5")
    page.locator(".st-key-cx_s_Transposed img").wait_for(timeout=90_000)
    wait_idle(page)
    text = page.locator("[data-testid='stMain']").inner_text()
    assert "5 / 5 · cell (0, 0) as arithmetic" in text and "shape 1×12×12" in text
    assert page.locator(".katex").count() >= 1 and page.locator("[data-testid='stCode']").count() == 1
    overflow = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=stMain]'); return m.scrollWidth - m.clientWidth; }"
    )
    assert overflow <= 1, f"{overflow} px wider than the screen"
    assert page.locator("[data-testid='stException']").count() == 0
    shot(page, "transposed-present-1920x1080")
    page.context.close()
