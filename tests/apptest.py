"""Opening a page in AppTest, the way a browser opens a link."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def open_page(page: str, query: dict[str, str] | None = None) -> AppTest:
    """``page`` (e.g. "pages/1_Convolution_explorer.py") opened with ``query`` as its link's parameters, run once,
    checked to have raised nothing."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page(page)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at
