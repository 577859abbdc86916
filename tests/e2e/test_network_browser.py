"""The Inspect page's whole network in Chromium: every layer's maps drawn, and a click on a unit outlines its field."""

from __future__ import annotations

from tests.e2e.browser import shot, wait_idle


def test_click_a_unit_and_its_receptive_field_is_outlined(page, fake_server):
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{fake_server}/Inspect_model?model=pretrained&layer=7&map=5")
    page.get_by_text("The whole network for this image").wait_for(timeout=120_000)
    wait_idle(page)
    network = page.locator(".st-key-mi_network img")
    assert network.evaluate("i => i.complete && i.naturalWidth") > 1000  # nine columns of maps, drawn
    unit = page.locator(".st-key-mi_unit_click .nsewdrag").first
    unit.scroll_into_view_if_needed()
    box = unit.bounding_box()
    r, c = 3, 2  # of a 7×7 map
    page.mouse.click(box["x"] + (c + 0.5) * box["width"] / 7, box["y"] + (r + 0.5) * box["height"] / 7)
    said = page.get_by_text("Unit (3, 2) of 7: MaxPool2d sees input rows 6–21 and columns 2–17: a 16×16 field.")
    said.wait_for(timeout=30_000)
    wait_idle(page)
    title = page.locator(".st-key-mi_unit_click .gtitle").text_content()
    assert title == "7: MaxPool2d, map 5: unit (3, 2)"
    assert page.locator("[data-testid='stException']").count() == 0
    page.locator(".st-key-mi_unit_field").scroll_into_view_if_needed()
    shot(page, "inspect-receptive-field")
    page.locator(".st-key-mi_network").scroll_into_view_if_needed()
    shot(page, "inspect-whole-network")


def test_the_studio_draws_the_network_learning_while_it_trains(page, fake_server):
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{fake_server}/Training_studio?epochs=30")  # the classic network: it trains long enough to watch
    page.get_by_text("1 · The network").wait_for(timeout=120_000)
    wait_idle(page)
    page.locator(".st-key-ts_train button").click()
    said = page.get_by_text("The newest run, as of its evaluation at step")
    said.wait_for(timeout=60_000)  # drawn while the run trains: the caption of a finished run says "trained"
    first = said.inner_text()
    # In sight, as a person watching it has it: a panel scrolled away fetches no picture (test_live_panel_browser).
    page.evaluate("() => document.querySelector('img[data-picture=network]').closest('.cnnpg-live').scrollIntoView()")
    # The live panel redraws it by itself, at the run's next evaluations (ui.live_panel).
    page.wait_for_function("t => document.querySelector('.cnnpg-note')?.textContent !== t", arg=first, timeout=60_000)
    page.wait_for_function("() => ['network', 'filters'].every(k => {"
                           " const i = document.querySelector(`img[data-picture=${k}]`);"
                           " return i && i.complete && i.naturalWidth > 100; })", timeout=30_000)  # fmt: skip
    # Read in one go in the page: a redraw may replace the image between two of Playwright's calls.
    width = page.evaluate("() => document.querySelector('img[data-picture=network]')?.naturalWidth || 0")
    assert width > 500  # the input and eight layers side by side
    assert page.locator("[data-testid='stException']").count() == 0
    page.evaluate("() => document.querySelector('img[data-picture=network]')?.scrollIntoView()")
    shot(page, "studio-watch-it-learn")
