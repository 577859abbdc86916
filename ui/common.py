"""Page setup shared by every page: title, layout, the menu, and the projector-friendly styles."""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from ui.state import remember_browser

ROOT = Path(__file__).resolve().parents[1]
# Our own sidebar menu (Streamlit's automatic one is off in .streamlit/config.toml) so labels read well:
# the classic pages/ routing stays, so every page keeps its deep link, e.g. /Convolution_explorer.
PAGES = (
    ("app.py", "Home", "🧠"),
    ("pages/1_Convolution_explorer.py", "Convolution explorer", "🔍"),
    ("pages/2_Training_studio.py", "Training studio", "🏋️"),
    ("pages/3_Inspect_model.py", "Inspect a model", "🔬"),
)

_CSS = """
<style>
/* Readable from the back of a lecture hall: larger captions and code. */
[data-testid="stCaptionContainer"] { font-size: 1rem; }
[data-testid="stCode"] code { font-size: 1rem; white-space: pre-wrap !important; }
.katex { font-size: 1.15em; }
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
[data-testid="stWidgetLabel"] p, [data-testid="stAlertContainer"] p, button p { font-size: 24px !important; }
[data-testid="stCode"] code { font-size: 24px !important; line-height: 1.35 !important; }
.katex { font-size: 1.12em !important; }
h1 { font-size: 40px !important; padding: 0 !important; }
h3 { font-size: 30px !important; padding: 0.2rem 0 !important; }
[data-testid="stVerticalBlock"] { gap: 0.5rem !important; }
</style>
"""


def setup_page(title: str, icon: str, present: bool = False) -> None:
    """Configure the page (wide layout, title), add the shared style, and the page menu (not when presenting)."""
    st.set_page_config(
        page_title=f"{title} · CNN Playground",
        page_icon=icon,
        layout="wide",
        initial_sidebar_state="collapsed" if present else "auto",
    )
    st.html(_CSS + (_PRESENT_CSS if present else ""))
    remember_browser()
    if present:
        return
    with st.sidebar:
        for path, label, page_icon in PAGES:
            if (ROOT / path).exists():
                st.page_link(path, label=label, icon=page_icon)
        st.divider()


def page_for(path: str) -> str | None:
    """The page file whose URL path matches ``path`` regardless of case (``/convolution_explorer`` → the explorer)."""
    wanted = path.strip("/").split("/")[-1].lower()
    for file, _, _ in PAGES[1:]:
        if re.sub(r"^\d+_", "", Path(file).stem).lower() == wanted:
            return file
    return None
