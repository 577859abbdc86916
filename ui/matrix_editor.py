"""An editable grid of numbers (a kernel, an input grid) whose values live in session state, not in the widget.

``st.data_editor`` keeps only the edits made since it was drawn, and loses them when its page is
left. So the numbers themselves are the page's state (held by the caller), the editor shows them
as its starting data, and every valid edit is handed back to the caller. When the numbers change
elsewhere (a preset, a link, a page switch) the editor is drawn afresh from them.

Columns are floats: a column of whole numbers would let the grid accept digits only, and a typed
0.5 would arrive as 5.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

Matrix = tuple[tuple[float, ...], ...]


def _with_edits(base: Matrix, edits: dict) -> list[list[object]]:
    rows = [list(r) for r in base]
    for r, changes in edits.items():
        for c, value in changes.items():
            rows[int(r)][int(c)] = value
    return rows


def _typed(key: str, editor: str, parse: Callable[[list[list[object]]], Matrix], on_valid) -> None:
    """The editor's on_change: parse the edited grid; hand it over, or keep the reason it was refused."""
    ss = st.session_state
    rows = _with_edits(ss[f"{key}_base"], ss[editor].get("edited_rows", {}))
    try:
        values = parse(rows)
    except ValueError as e:
        ss[f"{key}_error"] = str(e)
        return
    ss[f"{key}_error"] = None
    on_valid(values)


def matrix_editor(
    key: str,
    values: Matrix,
    *,
    parse: Callable[[Sequence[Sequence[object]]], Matrix],
    on_valid: Callable[[Matrix], None],
    width: str = "stretch",
) -> str | None:
    """Show ``values`` in an editable grid; pass each valid edit to ``on_valid``.

    Args:
        key: prefix of the session keys this editor uses.
        values: the numbers to show (the caller's state).
        parse: turns typed rows into a matrix, raising ValueError with a sentence when they are not valid.
        on_valid: receives the parsed matrix after each valid edit (runs as a callback, before the page).
        width: the editor's width.

    Returns:
        The reason the last edit was refused (also shown), or None.
    """
    ss = st.session_state
    version = ss.get(f"{key}_version", 0)
    editor = f"{key}_{version}"
    fresh = editor not in ss  # first drawing, or the page was left (the widget's edits are gone)
    changed = False
    if not fresh:
        if ss.get(f"{key}_error"):  # the grid holds a refused entry: redraw only if the numbers moved on
            changed = values != ss.get(f"{key}_shown")
        else:
            typed = _with_edits(ss[f"{key}_base"], ss[editor].get("edited_rows", {}))
            changed = values != tuple(tuple(float(x) for x in row) for row in typed)
        if changed:  # set elsewhere (a preset, a link): a new editor, drawn from the new numbers
            version += 1
            editor = f"{key}_{version}"
    if fresh or changed:
        ss[f"{key}_version"], ss[f"{key}_base"], ss[f"{key}_error"] = version, values, None
    ss[f"{key}_shown"] = values
    base = ss[f"{key}_base"]
    columns = [str(j) for j in range(len(base[0]))]
    frame = pd.DataFrame([list(r) for r in base], columns=columns, dtype=float)
    st.data_editor(
        frame,
        key=editor,
        width=width,
        hide_index=True,
        column_config={c: st.column_config.NumberColumn(format="%g") for c in columns},
        on_change=_typed,
        args=(key, editor, parse, on_valid),
    )
    error = ss.get(f"{key}_error")
    if error:
        st.warning(f"{error} The last valid values are used until this is fixed.")
    return error
