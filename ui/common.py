"""Page setup shared by every page: title, layout, the projector-friendly style, the server's settings."""

from __future__ import annotations

import uuid
from pathlib import Path

import streamlit as st

from playground.settings import SettingsError, current

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
/* Readable from the back of a lecture hall: larger figures' captions and code. */
[data-testid="stCaptionContainer"] { font-size: 1rem; }
[data-testid="stCode"] code { font-size: 1rem; white-space: pre-wrap !important; }
.katex { font-size: 1.15em; }
</style>
"""


def setup_page(title: str, icon: str) -> None:
    """Configure the page (wide layout, title) and add the shared style.

    A mistyped ``PLAYGROUND_*`` variable stops the page here with its sentence (``playground.settings``).
    """
    st.set_page_config(page_title=f"{title} · CNN Playground", page_icon=icon, layout="wide")
    st.markdown(_CSS, unsafe_allow_html=True)
    try:
        current()
    except SettingsError as e:
        st.error(f"This server's settings need fixing before the app can run. {e}")
        st.stop()
    with st.sidebar:
        for path, label, page_icon in PAGES:
            if (ROOT / path).exists():
                st.page_link(path, label=label, icon=page_icon)
        st.divider()


def session_id() -> str:
    """A stable id for this browser session (runs and uploads belong to it)."""
    return st.session_state.setdefault("session_id", uuid.uuid4().hex)
