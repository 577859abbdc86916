"""Every page in both modes at three screen sizes: no exception, nothing wider than the screen; screenshots kept."""

from __future__ import annotations

import pytest

from tests.e2e.browser import need_chromium, shot, start_server, stop_server, wait_idle
from tests.fakedata import write_fake_fashion_mnist

SIZES = ((1024, 768), (1280, 800), (1920, 1080))
PAGES = {  # path, and something the page shows once it has run
    "home": ("", "text=CNN Playground"),
    "explorer": ("/Convolution_explorer", ".st-key-cx_s_input img"),
    "studio": ("/Training_studio", "text=1 · The network"),
    "inspect": ("/Inspect_model", "text=Learned filters of the first conv layer"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    need_chromium()
    root = write_fake_fashion_mnist(tmp_path_factory.mktemp("data"), n_train=600, n_test=200)
    proc, url = start_server(env={"PLAYGROUND_DATA_DIR": str(root)})
    yield url
    stop_server(proc)


@pytest.mark.parametrize("present", [False, True], ids=["normal", "present"])
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_page_fits_the_screen(browser, server, size, present):
    width, height = size
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    for name, (path, marker) in PAGES.items():
        query = ("?present=1" + ("&step=7" if "explorer" in path else "")) if present else ""
        page.goto(f"{server}{path}{query}")
        page.locator(marker).first.wait_for(timeout=120_000)
        wait_idle(page)
        assert page.locator("[data-testid='stException']").count() == 0, name
        assert page.get_by_text("could not be used").count() == 0, name
        overflow = page.evaluate(
            "() => { const m = document.querySelector('[data-testid=stMain]');"
            " return m.scrollWidth - m.clientWidth; }"
        )
        assert overflow <= 1, f"{name} is {overflow} px wider than the screen"
        if present and width == 1920:  # chart text readable from the back of the room
            sizes = page.evaluate(
                "() => [...document.querySelectorAll('.js-plotly-plot text')].filter(t => t.getBBox().width > 0"
                " && t.textContent.trim()).map(t => parseFloat(getComputedStyle(t).fontSize))"
            )
            assert not sizes or min(sizes) >= 18, (name, sorted(sizes)[:5])
        shot(page, f"screen-{name}-{'present' if present else 'normal'}-{width}x{height}")
    page.context.close()
