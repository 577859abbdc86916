"""Page setup shared by every page: title, layout, the menu, and the projector-friendly styles."""

from __future__ import annotations

import importlib
import re
import threading
import time
from pathlib import Path

import streamlit as st

from playground.settings import SettingsError, current
from ui.state import remember_browser

ROOT = Path(__file__).resolve().parents[1]
# Our own sidebar menu (Streamlit's automatic one is off in .streamlit/config.toml) so labels read well:
# the classic pages/ routing stays, so every page keeps its deep link, e.g. /Convolution_explorer.
PAGES = (
    ("app.py", "Home", "🧠"),  # path, label, icon (and the page's name in ui.state, below)
    ("pages/1_Convolution_explorer.py", "Convolution explorer", "🔍"),
    ("pages/2_Training_studio.py", "Training studio", "🏋️"),
    ("pages/3_Inspect_model.py", "Inspect a model", "🔬"),
)

_CSS = """
<style>
/* Readable from the back of a lecture hall: larger captions and code. */
[data-testid="stCaptionContainer"] { font-size: 1rem; color: rgba(49, 51, 63, 0.85); }
/* The explorer's stages wrap onto a second row rather than shrink below readability. */
.st-key-cx_stages [data-testid="stHorizontalBlock"] { flex-wrap: wrap; }
.st-key-cx_stages [data-testid="stColumn"] { min-width: 180px; max-width: 50%; }
/* Wide tables (the studio's layer table) scroll inside themselves on a small screen. */
[data-testid="stMarkdownContainer"] table { display: block; max-width: 100%; overflow-x: auto; }
[data-testid="stCode"] code { font-size: 1rem; white-space: pre-wrap !important; }
.katex { font-size: 1.15em; }
.katex-display { overflow-x: auto; overflow-y: hidden; }  /* a long formula scrolls rather than being cut */
/* An upload refused by size: Streamlit says why only to screen readers; say it to everyone. */
[data-testid="stFileUploader"] span[role="alert"] { position: static !important; clip: auto !important;
  clip-path: none !important; width: auto !important; height: auto !important; margin: 0 0.5rem !important;
  overflow: visible !important; white-space: normal !important; color: rgb(190, 30, 30); font-weight: 600; }
/* Components that only run a script (the browser's cookie, the address bar): no room, so nothing shifts. */
[class*="st-key-cnnpg_hidden"] { display: none !important; }
</style>
"""

# Presentation mode: no sidebar, toolbar or Deploy button; the page uses the whole width; large type.
_PRESENT_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stToolbar"], [data-testid="stAppDeployButton"], [data-testid="stMainMenu"],
[data-testid="stDecoration"], [data-testid="stHeader"] { display: none !important; }
[data-testid="stMainBlockContainer"] { padding: 0.6rem 1.6rem 1rem 1.6rem !important; max-width: 100% !important; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li,
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p,
[data-testid="stWidgetLabel"] p, [data-testid="stAlertContainer"] p, button p,
.cnnpg-live p, .cnnpg-live figcaption { font-size: 24px !important; }
[data-testid="stCode"] code { font-size: 24px !important; line-height: 1.35 !important; }
[data-testid="stMarkdownContainer"] td, [data-testid="stMarkdownContainer"] th,
[data-testid="stMain"] input, [data-testid="stExpander"] summary p { font-size: 22px !important; }
.katex { font-size: 1.12em !important; }
h1 { font-size: 40px !important; padding: 0 !important; }
h3 { font-size: 30px !important; padding: 0.2rem 0 !important; }
/* The bar of controls wraps onto a second line on a small projector rather than cut its labels. */
.st-key-present_bar [data-testid="stHorizontalBlock"] { flex-wrap: wrap; row-gap: 0.4rem; }
.st-key-present_bar [data-testid="stColumn"] { min-width: max-content; }
[data-testid="stVerticalBlock"] { gap: 0.5rem !important; }
</style>
"""


_close_not_found = st.components.v2.component(
    "cnn_playground_found",
    js="""
export default function () {
  // Streamlit opened its "Page not found" dialog for a URL in another case; the page was found: close it.
  let tries = 0
  const close = () => {
    for (const d of document.querySelectorAll('[role="dialog"]')) {
      if (d.textContent.includes("Page not found")) d.querySelector("button")?.click()
    }
    if (++tries < 20) setTimeout(close, 100)
  }
  close()
}
""",
)


def redirect_in_any_case() -> None:
    """On the home page: a page URL typed in another case (``/convolution_explorer``) opens that page."""
    if (wanted := page_for(st.context.url)) is not None:
        st.session_state["_found_after_redirect"] = True
        st.switch_page(wanted, query_params=st.query_params.to_dict())


def setup_page(title: str, icon: str, on_present=None) -> bool:
    """Configure the page (wide layout, title), add the shared style and the menu; returns presentation mode.

    Presentation mode (the session key ``present``, ``?present=1`` in a link) is one switch for the
    whole app: no sidebar, toolbar or Deploy button, the page's controls in a bar (``present_bar``).
    """
    present = bool(st.session_state.get("present"))
    st.set_page_config(
        page_title=f"{title} · CNN Playground",
        page_icon=icon,
        layout="wide",
        initial_sidebar_state="collapsed" if present else "auto",
    )
    st.html(_CSS + (_PRESENT_CSS if present else ""))
    try:
        current()
    except SettingsError as e:  # a mistyped PLAYGROUND_* variable: its sentence, and nothing else runs
        st.error(f"This server's settings need fixing before the app can run. {e}")
        st.stop()
    remember_browser()
    if st.session_state.pop("_found_after_redirect", False):
        with st.container(key="cnnpg_hidden_found"):
            _close_not_found(key="cnn_playground_found")
    if not present:
        with st.sidebar:
            page_links()
            st.toggle("📽️ Presentation mode", key="present", on_change=on_present, persist_state="session",
                      help="Full width and large type for a projector; the explorer reveals its stages one at a "
                      "time with → / ← or a presentation clicker.")  # fmt: skip
            st.divider()
    return present


STATE_NAMES = {"pages/1_Convolution_explorer.py": "explorer", "pages/2_Training_studio.py": "studio",
               "pages/3_Inspect_model.py": "inspect"}  # fmt: skip


def page_links() -> None:
    """A link to every page that carries that page's settings, so arriving is one history entry, not two."""
    for path, label, page_icon in PAGES:
        if (ROOT / path).exists():
            query = st.session_state.get(f"_url_{STATE_NAMES.get(path)}") or None
            st.page_link(path, label=label, icon=page_icon, query_params=query)


def present_bar(widths: list[float], on_present=None) -> list:
    """Presentation mode's top bar: cells of the given widths for the page, then the page menu and the switch."""
    cells = st.container(key="present_bar").columns([*widths, 0.9, 1.0], vertical_alignment="center")
    with cells[-2].popover("☰ Pages", width="stretch"):
        page_links()
    cells[-1].toggle("📽️ Present", key="present", on_change=on_present, persist_state="session")
    return cells[:-2]


def page_for(url: object) -> str | None:
    """The page file whose URL path matches ``url``'s regardless of case (``…/convolution_explorer`` → the explorer)."""
    if not isinstance(url, str):  # no URL (AppTest)
        return None
    wanted = url.split("?")[0].rstrip("/").split("/")[-1].lower()
    for file, _, _ in PAGES[1:]:
        if re.sub(r"^\d+_", "", Path(file).stem).lower() == wanted:
            return file
    return None


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Import the engine (torch, torchvision, plotly) in the background, once per server, after the home page's
    first run: the home page needs none of it and opens in half the time, and the page a person opens next finds
    it loaded (torch alone takes ~1.7 s on a cold start). A page opened sooner waits only for the rest."""
    thread = threading.Thread(target=_import_engine, name="warm-up", daemon=True)
    thread.start()
    return thread


def _import_engine() -> None:
    time.sleep(1.0)  # after the home page has gone out: the import holds Python's lock, which sending it needs too
    for name in ("torch", "torchvision", "plotly.graph_objects", "ui.server"):
        importlib.import_module(name)
