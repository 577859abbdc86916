"""Lecture-ready, in a real Chromium: settings that last, links, exact typed numbers, presentation mode."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from tests.e2e.browser import shot, wait_idle
from tests.e2e.widgets import (
    choose,
    chosen,
    number,
    select,
    selected,
    set_number,
    slide_to,
    slider_value,
    type_in_grid,
)

STAGES = ".st-key-cx_s_input img"


def open_explorer(page, url: str, query: str = "") -> None:
    page.goto(f"{url}/Convolution_explorer{query}")
    page.locator(STAGES).wait_for(timeout=90_000)
    wait_idle(page)


def explorer_view(page) -> dict:
    """What the explorer's controls and stage row say."""
    page.locator(STAGES).wait_for(timeout=60_000)
    wait_idle(page)
    captions = page.locator("[data-testid='stCaptionContainer']").all_inner_texts()
    return {
        "sample": selected(page, "Sample"),
        "kernel": selected(page, "Kernel"),
        "stride": number(page, "Stride S rows (1–16)"),
        "padding": chosen(page, "Padding P"),
        "activation": selected(page, "Activation"),
        "pooling": selected(page, "Pooling"),
        "resolution": slider_value(page, "Working resolution (longest side)"),
        "shapes": [c.split("\n")[0] for c in captions if c.startswith("shape")],
    }


def studio_view(page) -> dict:
    try:
        page.get_by_text("1 · The network").wait_for(timeout=90_000)
    except Exception:
        shot(page, "debug-studio")
        raise
    wait_idle(page)
    return {"preset": selected(page, "Start from"), "epochs": number(page, "Epochs (1–30)")}


def sidebar(page, name: str) -> None:
    page.locator("[data-testid='stSidebar'] a", has_text=name).click()


def test_settings_survive_page_switches_back_reload_and_a_fresh_browser(browser, fake_server):
    context = browser.new_context(viewport={"width": 1600, "height": 1400})
    page = context.new_page()
    open_explorer(page, fake_server)
    select(page, "Sample", "Letter A")
    select(page, "Kernel", "Sobel x (vertical edges)")
    set_number(page, "Stride S rows (1–16)", 2)
    choose(page, "Padding P", "same")
    select(page, "Activation", "Tanh")
    select(page, "Pooling", "Average")
    slide_to(page, "Working resolution (longest side)", 2)  # 16, 28, [32]
    want = explorer_view(page)
    assert want["kernel"] == "Sobel x (vertical edges)" and want["resolution"] == "32"
    assert want["shapes"][2] == "shape 1×16×32" and want["padding"] == "same"  # stride 2 on rows only
    sidebar(page, "Training studio")
    select(page, "Start from", "Tiny (fast demo)")
    set_number(page, "Epochs (1–30)", 5)
    studio = studio_view(page)
    assert studio == {"preset": "Tiny (fast demo)", "epochs": "5"}
    studio_link = page.url
    sidebar(page, "Convolution explorer")
    assert explorer_view(page) == want  # a round trip through the sidebar
    page.go_back()
    assert studio_view(page) == studio  # Back to the studio
    page.go_back()
    assert explorer_view(page) == want  # and Back again to the explorer
    page.reload()
    assert explorer_view(page) == want  # a reload
    link = page.url
    assert re.search(r"kernel=sobel-x", link) and "stride=2%2C1" in link
    fresh = browser.new_context(viewport={"width": 1600, "height": 1400}).new_page()
    fresh.goto(link)
    assert explorer_view(fresh) == want  # the link, in a browser that has never seen the app
    shot(fresh, "link-in-a-fresh-browser")
    sidebar(page, "Training studio")
    assert studio_view(page) == studio
    fresh.goto(studio_link)
    assert studio_view(fresh) == studio
    assert page.locator("[data-testid='stException']").count() == 0


def test_runs_survive_a_reload_and_stay_with_their_browser(browser, fake_server):
    page = browser.new_context(viewport={"width": 1600, "height": 1400}).new_page()
    page.goto(f"{fake_server}/Training_studio?net=tiny&epochs=1&images=1000")
    studio_view(page)
    page.locator(".st-key-ts_train button").click()
    page.get_by_text("Run 1 finished").wait_for(timeout=120_000)
    page.reload()
    page.get_by_text("Run 1 finished").wait_for(timeout=60_000)  # the reload found this browser's run
    page.locator("[data-testid='stSidebar'] a", has_text="Inspect a model").click()
    page.get_by_text("Test accuracy:").wait_for(timeout=90_000)
    assert page.get_by_text("This browser's latest run").count() >= 1
    other = browser.new_context(viewport={"width": 1600, "height": 1400}).new_page()
    other.goto(f"{fake_server}/Training_studio")
    other.get_by_text("No run yet").wait_for(timeout=90_000)  # another browser sees none of it
    other.goto(f"{fake_server}/Inspect_model")
    other.get_by_text("Bundled pretrained model").first.wait_for(timeout=60_000)
    wait_idle(other)
    assert other.get_by_text("This browser's latest run").count() == 0


def test_typed_decimals_reach_the_arithmetic_exactly(page, app_server):
    open_explorer(page, app_server, "?src=grid&act=none&pool=none")
    type_in_grid(page, "cx_gridedit", 1, 1, "12.5", columns=6, done=lambda p: "%2C12.5%2C" in p.url)
    type_in_grid(page, "cx_kgrid", 1, 1, "0.5", columns=3, done=lambda p: "%3B-1%2C0.5%2C-1%3B" in p.url)
    code = page.locator("[data-testid='stCode']").first.inner_text()
    assert "12.5×0.5" in code  # the grid's 12.5 meets the kernel's 0.5 in cell (0, 0)
    kernel_name = page.locator("[data-testid='stMarkdownContainer']", has_text="typed over").first
    assert "your kernel" in kernel_name.inner_text()
    page.reload()
    page.locator(STAGES).wait_for(timeout=90_000)
    wait_idle(page)
    assert "12.5×0.5" in page.locator("[data-testid='stCode']").first.inner_text()  # and so does the link
    assert page.locator("[data-testid='stException']").count() == 0


def test_a_hostile_link_renders_defaults_and_one_notice(page, app_server):
    outside = []
    page.on("request", lambda r: urlparse(r.url).hostname == "example.invalid" and outside.append(r.url))
    evil = "kernel=%3Cscript%3Ealert(1)%3C/script%3E&stride=99&zzz=1&sample=![x](http://example.invalid/a.png)"
    page.goto(f"{app_server}/Convolution_explorer?{evil}&pad=" + "x" * 10_000)
    page.locator(STAGES).wait_for(timeout=90_000)
    wait_idle(page)
    notices = page.locator("[data-testid='stAlertContentWarning']", has_text="could not be used")
    assert notices.count() == 1
    assert page.locator("[data-testid='stException']").count() == 0
    assert "zzz" not in page.url and "script" not in page.url
    assert not outside  # no markdown image was rendered from the link
    shot(page, "hostile-link")


def test_lowercase_page_urls_open_their_page(page, app_server):
    page.goto(f"{app_server}/convolution_explorer?kernel=sobel-x")
    page.locator(STAGES).wait_for(timeout=90_000)
    wait_idle(page)
    assert page.url.endswith("/Convolution_explorer?kernel=sobel-x")
    assert selected(page, "Kernel") == "Sobel x (vertical edges)"
    page.wait_for_timeout(1500)
    assert page.get_by_text("Page not found").count() == 0


def picture_text_px(page, selector: str, canvas_px: int) -> float:
    """Screen size of text drawn ``canvas_px`` tall in a picture (pictures are scaled to their column)."""
    return page.locator(selector).evaluate(f"img => {canvas_px} * img.clientWidth / img.naturalWidth")


def test_presentation_mode_is_large_fits_one_screen_and_steps_by_keys(page, app_server):
    from playground.render.pictures import TICK_SIZE, TITLE_SIZE

    page.set_viewport_size({"width": 1920, "height": 1080})
    open_explorer(page, app_server, "?present=1&src=grid")
    assert page.locator("[data-testid='stSidebar']").is_hidden()
    toolbar = page.locator("[data-testid='stToolbar']")
    assert toolbar.count() == 0 or toolbar.is_hidden()
    assert page.get_by_text("1 / 7 · Input").count() == 1 and page.locator(".st-key-cx_s_padded").count() == 0
    for key in ("ArrowRight", "PageDown", "ArrowRight", "ArrowRight", "PageDown", "ArrowRight"):
        page.keyboard.press(key)
        wait_idle(page)
    assert page.get_by_text("7 / 7 · cell (0, 0) as arithmetic").count() == 1
    page.keyboard.press("PageUp")
    wait_idle(page)
    assert page.get_by_text("6 / 7 · output size").count() == 1
    page.keyboard.press("PageDown")
    wait_idle(page)
    shot(page, "presentation-1920x1080")
    body = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=stMarkdownContainer] p, [data-testid=stCaptionContainer],"
        " [data-testid=stCode] code, [data-testid=stWidgetLabel] p')].filter(e => e.offsetParent)"
        ".map(e => parseFloat(getComputedStyle(e).fontSize))"
    )
    assert body and min(body) >= 22, body
    for stage in ("input", "padded", "Convolution", "ReLU", "Max"):
        if page.locator(f".st-key-cx_s_{stage} img").count():
            assert picture_text_px(page, f".st-key-cx_s_{stage} img", TICK_SIZE) >= 18
            assert picture_text_px(page, f".st-key-cx_s_{stage} img", TITLE_SIZE) >= 18
    for part in (".st-key-cx_s_input", ".st-key-cx_s_Max", ".katex", "[data-testid='stCode']"):
        box = page.locator(part).first.bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= 1080, part  # all on the first screen
    page.keyboard.press("ArrowRight")  # fully revealed: → walks the kernel on
    wait_idle(page)
    assert page.get_by_text("7 / 7 · cell (0, 1) as arithmetic").count() == 1 and "cell=0%2C1" in page.url


def test_copy_link_puts_the_view_on_the_clipboard(browser, app_server):
    context = browser.new_context(viewport={"width": 1600, "height": 1400},
                                  permissions=["clipboard-read", "clipboard-write"])  # fmt: skip
    page = context.new_page()
    open_explorer(page, app_server, "?kernel=emboss&stride=3")
    page.locator(".st-key-explorer_copy_link button").click()
    page.get_by_text("Copied: paste it on a slide.").wait_for(timeout=10_000)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.url and "kernel=emboss" in copied and "stride=3" in copied


def test_an_upload_over_the_limit_says_why(page, app_server, tmp_path):
    big = tmp_path / "big.png"
    with open(big, "wb") as f:
        f.truncate(26 * 1024 * 1024)  # over the 25 MB limit stated beside the uploader
    page.goto(f"{app_server}/Convolution_explorer?src=upload")
    uploader = page.locator(".st-key-cx_upload")
    uploader.get_by_text("up to 25 MB").wait_for(timeout=90_000)  # the limit is stated beside the uploader
    wait_idle(page)
    uploader.locator("input[type=file]").set_input_files(str(big))
    refusal = uploader.locator("[role=alert]")
    refusal.wait_for(timeout=30_000)
    assert refusal.is_visible() and "must be 25.0MB or smaller" in refusal.inner_text()
    box = refusal.bounding_box()
    assert box["width"] > 50 and box["height"] > 10  # written out, not only read to screen readers


def test_the_link_follows_the_step_through(page, app_server):
    open_explorer(page, app_server, "?src=grid")
    page.locator(".st-key-cx_next button").click()  # a fragment's rerun: only the step-through redraws
    page.wait_for_function("() => location.search.includes('cell=0%2C1')", timeout=30_000)
    page.locator(".st-key-cx_next button").click()
    page.wait_for_function("() => location.search.includes('cell=0%2C2')", timeout=30_000)
    page.reload()
    page.locator(STAGES).wait_for(timeout=90_000)
    wait_idle(page)
    assert "Convolution output: cell (0, 2)" in page.locator(".st-key-cx_outmap").inner_text()
