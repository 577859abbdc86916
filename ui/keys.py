"""Session-state keys, written once: each page's name, its key prefix and its address, and how widgets keep values.

The strings are part of every link and of the state a browser has stored: changing one breaks old links.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Page:
    """One page's names: ``name`` in ``ui.state`` (links, the per-browser store), ``prefix`` of its session keys
    (``f"{prefix}_lr"``), ``path`` of its address."""

    name: str
    prefix: str
    path: str


EXPLORER = Page(name="explorer", prefix="cx", path="/Convolution_explorer")
STUDIO = Page(name="studio", prefix="ts", path="/Training_studio")
INSPECT = Page(name="inspect", prefix="mi", path="/Inspect_model")
PAGES = {page.name: page for page in (EXPLORER, STUDIO, INSPECT)}
KEEP = "session"  # every widget's persist_state: its value outlives it across page switches
