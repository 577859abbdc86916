"""The studio's layer table as plain rows: from layers, through a data editor's edits, back to layers.

No streamlit here: ``apply_edits`` replays what ``st.data_editor`` reports (cell edits, added rows,
deleted rows, all by position in the table it was given) exactly as Streamlit itself does, so any
mix of edits, additions, deletions and order changes gives a list of layers, never an exception.
"""

from __future__ import annotations

import math

from playground.train.layers import LAYER_TYPES

# Table column → the layer keys it edits (one column serves layer kinds that name it differently).
PARAM_COLUMNS = {
    "out": ("out_channels", "out_features"),
    "kernel": ("kernel",),
    "stride": ("stride",),
    "padding": ("padding",),
    "dilation": ("dilation",),
    "p / slope": ("p", "slope"),
    "in": ("in_features",),
}
COLUMNS = ("order", "type", *PARAM_COLUMNS)


def rows_of(layers: list[dict]) -> list[dict]:
    """One row per layer: its position as ``order`` (1, 2, …), its type, and each parameter it has."""
    rows = []
    for i, layer in enumerate(layers):
        row = {"order": float(i + 1), "type": layer["type"]}
        for col, keys in PARAM_COLUMNS.items():
            row[col] = next((layer[k] for k in keys if layer.get(k) is not None), None)
        rows.append(row)
    return rows


def apply_edits(rows: list[dict], edits: dict) -> list[dict]:
    """``rows`` after a data editor's ``edits`` (``edited_rows``, ``added_rows``, ``deleted_rows``).

    Positions in every part refer to ``rows`` as given (additions come after them), as in Streamlit.
    """
    out = [dict(r) for r in rows]
    for pos, changes in (edits.get("edited_rows") or {}).items():
        pos = int(pos)
        if 0 <= pos < len(out):
            out[pos].update({c: v for c, v in changes.items() if c in COLUMNS})
    for added in edits.get("added_rows") or []:
        out.append({c: added.get(c) for c in COLUMNS})
    gone = {int(p) for p in edits.get("deleted_rows") or []}
    return [r for i, r in enumerate(out) if i not in gone]


def _as_float(value) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _number(value):
    """Whole numbers as int (channels, sizes), other numbers as typed, anything else as it is:
    ``summarize`` then says in words what does not fit (a kernel of 2.5, a stride of "two")."""
    x = _as_float(value)
    if x is None:
        return value
    return int(x) if x.is_integer() else x


def layers_of(rows: list[dict]) -> tuple[list[dict], int]:
    """The layers in ``order`` (rows without an order go last, ties keep their place), and how many rows
    were skipped for having no layer type."""
    typed = [r for r in rows if r.get("type") in LAYER_TYPES]
    skipped = len(rows) - len(typed)
    ordered = sorted(typed, key=lambda r: math.inf if _as_float(r.get("order")) is None else _as_float(r["order"]))
    layers = []
    for row in ordered:
        kind = row["type"]
        layer: dict = {"type": kind}
        for col, keys in PARAM_COLUMNS.items():
            value = row.get(col)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            for key in keys:
                if key in LAYER_TYPES[kind]:
                    x = _as_float(value)
                    layer[key] = _number(value) if key not in ("p", "slope") else (value if x is None else x)
        if kind == "linear":
            layer.setdefault("in_features", None)
        layers.append(layer)
    return layers, skipped
