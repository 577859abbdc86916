"""Each browser's small values kept on the server (its pages' last settings, its drawing), shared by every session.

Apart from ``ui.server``, which imports the engine (and torch): the home page needs only this, and opens sooner.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

import streamlit as st


class BrowserStore:
    """Small values per browser that must survive a reload (a drawing), bounded in browsers and bytes.

    Shared by every session of the server (held by ``st.cache_resource``), so locked; the oldest
    browser's values go first.
    """

    def __init__(self, max_browsers: int = 300, max_bytes: int = 100_000):
        self.max_browsers, self.max_bytes = max_browsers, max_bytes
        self._lock = threading.Lock()
        self._data: OrderedDict[str, dict] = OrderedDict()

    def get(self, browser: str, key: str, default=None):
        with self._lock:
            return self._data.get(browser, {}).get(key, (None, default))[1]

    def put(self, browser: str, key: str, value, size: int) -> bool:
        """Keep ``value`` (about ``size`` bytes) for ``browser``; False when it is too large to keep."""
        if size > self.max_bytes:
            return False
        with self._lock:
            entry = self._data.setdefault(browser, {})
            entry[key] = (time.time(), value)
            self._data.move_to_end(browser)
            while len(self._data) > self.max_browsers:
                self._data.popitem(last=False)
        return True


@st.cache_resource
def browser_store() -> BrowserStore:
    """Each browser's last page settings and drawing (``ui.state``, ``ui.image_input``)."""
    return BrowserStore()
