"""Driving Streamlit widgets in Chromium by their visible labels, and reading them back."""

from __future__ import annotations

import re

from tests.e2e.browser import wait_idle


def _by_label(page, css: str, label: str):
    """Streamlit 1.67 names its inputs by their labels (aria-label)."""
    quoted = label.replace('"', '\\"')
    return page.locator(f'{css}[aria-label="{quoted}"]')


def select(page, label: str, option: str) -> None:
    _by_label(page, "input[role=combobox]", label).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def selected(page, label: str) -> str:
    return _by_label(page, "input[role=combobox]", label).input_value()


def set_number(page, label: str, value) -> None:
    field = _by_label(page, "input[type=number]", label)
    field.fill(str(value))
    field.press("Enter")
    wait_idle(page)


def number(page, label: str) -> str:
    return _by_label(page, "input[type=number]", label).input_value()


def choose(page, label: str, option: str) -> None:
    group = _by_label(page, "[role=radiogroup]", label)
    group.locator("[data-testid=stRadioOption]", has_text=re.compile(rf"^\s*{re.escape(option)}\s*$")).click()
    wait_idle(page)


def chosen(page, label: str) -> str:
    group = _by_label(page, "[role=radiogroup]", label)
    return group.locator("[data-testid=stRadioOption][data-selected=true]").inner_text().strip()


def slide_to(page, label: str, steps_right: int) -> None:
    """Move a (select) slider to its first value, then ``steps_right`` values on, with the keyboard."""
    thumb = _by_label(page, "input[type=range]", label)
    thumb.focus()
    thumb.press("Home")
    for _ in range(steps_right):
        thumb.press("ArrowRight")
    wait_idle(page)


def slider_value(page, label: str) -> str:
    return _by_label(page, "input[type=range]", label).get_attribute("aria-valuetext") or ""


def type_in_grid(page, key: str, row: int, col: int, value: str, columns: int, done) -> None:
    """Type ``value`` into cell (row, col) of the data editor keyed ``{key}_<version>`` (``columns`` equal columns).

    The grid is a canvas, and whether a click selects a cell or only focuses the grid depends on what
    had focus: so type, then check with ``done(page)`` and try again (three times at most).
    """
    grid = page.locator(f"[class*='st-key-{key}_'] [data-testid='stDataFrameResizable']")
    editor = page.locator("#portal input, #portal textarea")
    for _ in range(3):
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        header = row_height = 35  # Streamlit's data editor rows
        x, y = box["x"] + (col + 0.5) * box["width"] / columns, box["y"] + header + (row + 0.5) * row_height
        page.mouse.click(x, y)
        page.wait_for_timeout(300)
        if not editor.count():  # a click on the selected cell opens its editor; else Enter does
            page.keyboard.press("Enter")
            page.wait_for_timeout(300)
        if editor.count():
            editor.first.fill(value)
            page.keyboard.press("Enter")
        wait_idle(page)
        if done(page):
            return
        page.keyboard.press("Escape")
    raise AssertionError(f"could not type {value!r} into cell ({row}, {col}) of {key}")
