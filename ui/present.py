"""Presentation mode's stepping: a reveal counter moved by buttons and by the keyboard (→ ← PageDown PageUp).

A presentation clicker sends PageDown/PageUp; arrow keys do the same. Keys typed into a field,
a slider or a grid are left alone. Once everything is revealed, "next" walks the kernel on by one
cell, and "back" walks it back before hiding anything again.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

_keys = st.components.v2.component(
    "cnn_playground_keys",
    js="""
export default function (component) {
  const { setTriggerValue } = component
  const busy = 'input, textarea, select, [contenteditable="true"], [role="slider"], [role="listbox"], '
    + '[role="combobox"], [role="grid"], [data-testid="stDataFrame"], canvas'
  const handler = (e) => {
    if (e.target && e.target.closest && e.target.closest(busy)) return
    if (e.altKey || e.ctrlKey || e.metaKey) return
    const next = e.key === "ArrowRight" || e.key === "PageDown"
    const back = e.key === "ArrowLeft" || e.key === "PageUp"
    if (!next && !back) return
    e.preventDefault()
    setTriggerValue("key", next ? "next" : "back")
  }
  if (window.__cnnPlaygroundKeys) document.removeEventListener("keydown", window.__cnnPlaygroundKeys)
  window.__cnnPlaygroundKeys = handler
  document.addEventListener("keydown", handler)
  return () => {
    document.removeEventListener("keydown", handler)
    if (window.__cnnPlaygroundKeys === handler) window.__cnnPlaygroundKeys = null
  }
}
""",
)


class Reveal:
    """The reveal counter of one page: ``step`` in 1..``last``; past the last step, ``walk`` moves a cursor."""

    def __init__(self, key: str, last: int, walk: Callable[[int], None]):
        self.key, self.last, self.walk = key, last, walk
        ss = st.session_state
        ss[key] = max(1, min(ss[key], last))
        ss.setdefault(f"{key}_walked", 0)

    @property
    def step(self) -> int:
        return st.session_state[self.key]

    def next(self) -> None:
        ss = st.session_state
        if ss[self.key] < self.last:
            ss[self.key] += 1
        else:
            self.walk(1)
            ss[f"{self.key}_walked"] += 1

    def back(self) -> None:
        ss = st.session_state
        if ss[self.key] == self.last and ss[f"{self.key}_walked"] > 0:
            self.walk(-1)
            ss[f"{self.key}_walked"] -= 1
        else:
            ss[self.key] = max(1, ss[self.key] - 1)
            ss[f"{self.key}_walked"] = 0

    def bar(self, cells: list, titles: list[str], prefix: str) -> None:
        """◀, "step / last · title" and ▶ in three cells of the presentation bar (buttons keyed ``{prefix}_back``
        and ``{prefix}_fwd``), and the keyboard listener."""
        back, label, fwd = cells
        back.button("◀", key=f"{prefix}_back", on_click=self.back, help="Back (← or PageUp)", width="stretch")
        label.markdown(f"**{self.step} / {self.last} · {titles[self.step - 1]}**")
        fwd.button("▶", key=f"{prefix}_fwd", on_click=self.next, help="Next (→ or PageDown)", width="stretch")
        self.keyboard()

    def show_all(self) -> None:
        st.session_state[self.key] = self.last

    def keyboard(self) -> None:
        """Listen for →/← and PageDown/PageUp on the whole page (renders nothing)."""

        def pressed() -> None:
            (self.next if st.session_state[f"{self.key}_keys"].key == "next" else self.back)()

        with st.container(key="cnnpg_hidden_keys"):  # hidden by ui.common's style: it only listens
            _keys(key=f"{self.key}_keys", on_key_change=pressed)
