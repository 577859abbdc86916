"""The convolution explorer in a real Chromium: navigation, drawing, upload, clicking a cell."""

from __future__ import annotations

import io
import re

from PIL import Image

from tests.e2e.browser import shot, wait_idle

CONV_CAPTION = "[data-testid='stCaptionContainer']"


def assert_clean(page, console_errors):
    assert page.locator("[data-testid='stException']").count() == 0
    assert not console_errors, console_errors


def open_explorer(page, url):
    page.goto(f"{url}/Convolution_explorer")
    page.locator(".st-key-cx_s_Convolution img").wait_for(timeout=90_000)
    wait_idle(page)


def test_home_then_sidebar_navigation(page, app_server, console_errors):
    page.goto(app_server)
    page.get_by_role("heading", name="CNN Playground").wait_for(timeout=90_000)
    wait_idle(page)
    shot(page, "home")
    page.locator("[data-testid='stSidebar'] a", has_text="Convolution explorer").click()
    page.locator(".st-key-cx_s_Convolution img").wait_for(timeout=90_000)
    wait_idle(page)
    assert re.search(r"/Convolution_explorer$", page.url)
    shot(page, "explorer")
    assert_clean(page, console_errors)


def test_deep_link_on_a_fresh_server(page, app_server, console_errors):
    open_explorer(page, app_server)
    assert page.get_by_role("heading", name="Convolution explorer").count() == 1
    assert page.locator("[data-testid='stSidebar'] a", has_text="Home").count() == 1
    assert_clean(page, console_errors)


def _conv_range(page) -> str:
    return page.locator(".st-key-cx_s_Convolution").locator("xpath=..").inner_text()


def test_draw_a_stroke_changes_the_output(page, app_server, console_errors):
    open_explorer(page, app_server)
    page.locator(".st-key-cx_source label", has_text="Draw").click()
    canvas = page.locator("[data-testid^='stBidiComponent'] canvas.upper-canvas")
    canvas.wait_for(timeout=30_000)
    wait_idle(page)
    captions = page.locator(CONV_CAPTION, has_text="range")
    assert "range 0 … 0" in captions.nth(0).inner_text()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 220, box["y"] + 200, steps=8)
    page.mouse.up()
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"[data-testid='stCaptionContainer']\")]"
        ".some(e => e.innerText.includes('range') && !e.innerText.includes('range 0 … 0'))",
        timeout=30_000,
    )
    wait_idle(page)
    shot(page, "explorer-drawing")
    assert_clean(page, console_errors)


def test_upload_a_file(page, app_server, console_errors, tmp_path):
    open_explorer(page, app_server)
    page.locator(".st-key-cx_source label", has_text="Upload").click()
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 30, 30)).save(buf, "PNG")
    path = tmp_path / "red-rectangle.png"
    path.write_bytes(buf.getvalue())
    page.locator(".st-key-cx_upload input[type=file]").set_input_files(str(path))
    page.get_by_text("Input: red-rectangle.png, 300×200 px").wait_for(timeout=30_000)
    wait_idle(page)
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"this is not an image")
    page.locator(".st-key-cx_upload input[type=file]").set_input_files(str(bad))
    page.locator("[data-testid='stAlertContentError']").first.wait_for(timeout=30_000)
    assert page.get_by_text("Input: red-rectangle.png").count() == 1  # the last good image stays
    shot(page, "explorer-upload")
    assert page.locator("[data-testid='stException']").count() == 0


def test_click_an_output_cell_shows_its_arithmetic(page, app_server, console_errors):
    open_explorer(page, app_server)
    page.locator(".st-key-cx_source label", has_text="Number grid").click()
    wait_idle(page)
    out = page.locator(".st-key-cx_outmap .nsewdrag").first
    out.wait_for(timeout=30_000)
    out.scroll_into_view_if_needed()  # a mouse click only lands inside the viewport
    box = out.bounding_box()
    rows = cols = 4  # a 6×6 grid with a 3×3 kernel
    r, c = 2, 3
    page.mouse.click(box["x"] + (c + 0.5) * box["width"] / cols, box["y"] + (r + 0.5) * box["height"] / rows)
    page.wait_for_function(
        "t => document.querySelector('.st-key-cx_outmap .gtitle')?.textContent === t",
        arg=f"Convolution output: cell ({r}, {c})",
        timeout=30_000,
    )
    wait_idle(page)
    code = page.locator("[data-testid='stCode']").first.inner_text()
    assert code.count("×") == 9 and "=" in code
    shot(page, "explorer-step-through")
    assert_clean(page, console_errors)


def test_take_a_webcam_photo(browser_type, app_server):
    """Chromium's fake camera (a moving test pattern) stands in for a webcam."""
    from tests.e2e.browser import ARGS, CHROMIUM

    fake_camera = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    browser = browser_type.launch(executable_path=CHROMIUM, headless=True, args=ARGS + fake_camera)
    try:
        context = browser.new_context(viewport={"width": 1600, "height": 1400}, permissions=["camera"])
        page = context.new_page()
        open_explorer(page, app_server)
        page.locator(".st-key-cx_source label", has_text="Camera").click()
        take = page.get_by_role("button", name=re.compile("Take photo", re.I))
        take.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)  # let the stream start
        take.click()
        page.get_by_text("Input: your photo").wait_for(timeout=30_000)
        wait_idle(page)
        shot(page, "explorer-camera")
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        browser.close()
