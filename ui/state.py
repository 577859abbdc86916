"""State that lasts: settings across page switches, Back/Forward and reloads; links; one identity per browser.

- **Page switches and Back** keep settings because every widget is made with
  ``persist_state="session"`` (the value outlives the widget) and non-widget values (typed grids,
  the network) live under plain session keys, which Streamlit never drops.
- **Reloads and links**: each page writes its settings into the URL's query string after every
  full run (``publish``), leaving out defaults, and reads it back (``restore``) on its first run in
  a session (a reload, a link) and on Back/Forward, when the URL is the record of an earlier state.
  The address bar is rewritten in place, so the history holds one entry per page visited. Each
  page's last settings are also kept per browser on the server, so a page opened without settings
  (after a reload on another page) comes back as it was left.
  Streamlit's own ``bind="query-params"`` was tried first: on Back it resets a page's widgets to
  their defaults (the history entry Streamlit pushes for the page it leaves has no query string),
  and it cannot bind a data editor.
- **One identity per browser**: a long random token in a cookie (``browser_id``), so a reload finds
  the browser's training runs and drawing again while another browser never sees them.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from urllib.parse import urlencode

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from ui.browser_store import browser_store
from ui.keys import PAGES
from ui.params import Field, decode, encode
from ui.text import plain

COOKIE = "cnn_playground_browser"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
IGNORED = ("embed", "embed_options")  # Streamlit's own query parameters

_set_cookie = st.components.v2.component(
    "cnn_playground_identity",
    js="""
export default function (component) {
  const { data } = component
  const secure = window.location.protocol === "https:" ? "; Secure" : ""
  document.cookie = `${data.name}=${data.value}; path=/; max-age=31536000; SameSite=Lax${secure}`
}
""",
)


def browser_of(cookie) -> str | None:
    """The browser id a cookie's value holds, or None if it holds none (absent, or not a token we hand out)."""
    return cookie if isinstance(cookie, str) and _TOKEN.fullmatch(cookie) else None


def _cookie() -> str | None:
    return browser_of(st.context.cookies.get(COOKIE))  # AppTest has no cookies


def browser_id() -> str:
    """This browser's lasting id: from its cookie, or a new random token (``remember_browser`` makes it last).

    Not a login: it only says "the same browser as before". 256 random bits, so no browser can guess another's.
    """
    ss = st.session_state
    if "browser_id" not in ss:
        ss.browser_id = _cookie() or secrets.token_urlsafe(32)
    return ss.browser_id


def remember_browser() -> None:
    """Once per page run: ask the browser to keep its id in a cookie, until it sends the cookie back."""
    if _cookie() != browser_id():
        with st.sidebar.container(key="cnnpg_hidden_identity"):  # hidden by ui.common's style: nothing moves
            _set_cookie(data={"name": COOKIE, "value": browser_id()}, key="cnn_playground_identity")


def _history_navigation() -> bool:
    """Whether this run comes from the browser's Back or Forward button (Streamlit knows; it has no public API)."""
    ctx = get_script_run_ctx()
    return bool(getattr(ctx, "is_history_navigation", False))


def restore(page: str, fields: Sequence[Field], defaults: dict | None = None) -> None:
    """Before any widget: give every setting of ``page`` its value, from the URL where the URL should win.

    ``defaults`` gives starting values to session keys that are not in a link (e.g. the brush size).

    The URL wins on the page's first run in this session (a reload or an opened link) and on
    Back/Forward to an entry that has settings; otherwise the session's values stand (a page switch
    arrives with an empty query string). Problems with the URL become one notice (see ``notice``).
    """
    ss = st.session_state
    for f in fields:
        for key, value in zip(f.keys, f.default, strict=True):
            if key not in ss:
                ss[key] = value
    for key, value in (defaults or {}).items():
        if key not in ss:
            ss[key] = value
    first = f"_visited_{page}" not in ss
    ss[f"_visited_{page}"] = True
    query = {k: st.query_params[k] for k in st.query_params}
    if first and not query:  # opened without settings (after a reload elsewhere): this browser's last ones
        query = browser_store().get(browser_id(), f"url_{page}") or {}
    if not query or not (first or _history_navigation()):
        return
    values, problems = decode(fields, query, ignore=IGNORED)
    for f in fields:  # the URL is the whole record: what it leaves out is at its default
        ss.update(zip(f.keys, f.default, strict=True))
    ss.update(values)
    if problems:
        ss[f"_notice_{page}"] = problems


_replace_url = st.components.v2.component(
    "cnn_playground_url",
    js="""
export default function (component) {
  const { data } = component
  if (!window.location.pathname.toLowerCase().endsWith(data.path.toLowerCase())) return  // left the page meanwhile
  const next = new URLSearchParams(data.query)
  const kept = new URLSearchParams(window.location.search)
  for (const name of ["embed", "embed_options"]) for (const v of kept.getAll(name)) next.append(name, v)
  const search = next.toString() ? "?" + next.toString() : ""
  if (search !== window.location.search) history.replaceState(history.state, "", window.location.pathname + search)
}
""",
)


def publish(page: str, fields: Sequence[Field], in_fragment: bool = False) -> None:
    """After the widgets: write the page's settings into the address bar, replacing the current history entry.

    Replacing (in the browser, by a small script) rather than setting ``st.query_params``, which would
    push a history entry for every change: Back then returns to the previous page, as a lecturer expects.
    ``st.session_state[f"_url_{page}"]`` holds the same parameters, for the page links and for tests.
    Inside a fragment (which reruns alone, e.g. the step-through's ◀ ▶) pass ``in_fragment=True``.
    """
    query = encode(fields, st.session_state)
    if query != st.session_state.get(f"_url_{page}"):
        browser_store().put(browser_id(), f"url_{page}", query, sum(len(k) + len(v) for k, v in query.items()))
    st.session_state[f"_url_{page}"] = query
    where = st.container if in_fragment else st.sidebar.container  # a fragment may only draw in its own place
    suffix = "_fragment" if in_fragment else ""
    with where(key=f"cnnpg_hidden_url_{page}{suffix}"):  # hidden by ui.common's style
        _replace_url(data={"query": urlencode(query), "path": PAGES[page].path}, key=f"_url_writer_{page}{suffix}")


def notice(page: str) -> None:
    """The one message about a link's refused settings, shown once, as plain text (nothing in it is markdown)."""
    problems = st.session_state.pop(f"_notice_{page}", None)
    if problems:
        text = "Some settings in this link could not be used, so they keep their defaults: " + "; ".join(problems)
        st.warning(plain(text) + ".", icon="🔗")


_copy_link = st.components.v2.component(
    "cnn_playground_copy_link",
    html='<button type="button" class="copy">🔗 Copy link</button><span class="done"></span>',
    css="""
.copy { font: inherit; padding: 0.25rem 0.75rem; border: 1px solid rgba(49, 51, 63, 0.3); border-radius: 0.5rem;
        background: white; cursor: pointer; }
.copy:hover { border-color: #ff4b4b; color: #ff4b4b; }
.done { margin-left: 0.6rem; color: rgba(49, 51, 63, 0.8); }
""",
    js="""
export default function (component) {
  const { parentElement } = component
  const button = parentElement.querySelector(".copy"), done = parentElement.querySelector(".done")
  button.onclick = async () => {
    const link = window.location.href
    try {
      await navigator.clipboard.writeText(link)  // needs a secure page (https or localhost)
    } catch (e) {  // plain http on a classroom network: the old way
      const area = document.createElement("textarea")
      area.value = link
      document.body.appendChild(area)
      area.select()
      document.execCommand("copy")
      area.remove()
    }
    done.textContent = "Copied: paste it on a slide."
    setTimeout(() => { done.textContent = "" }, 4000)
  }
}
""",
)


def link_note(page: str, extra: str = "") -> None:
    """A "Copy link" button for this view, and what a link cannot carry."""
    with st.container(key=f"{page}_copy_link"):
        _copy_link(key=f"_copy_link_{page}")
    st.caption("The link reopens these settings in any browser. " + extra)
