"""Page settings as URL query parameters: one ``Field`` per setting, parsed strictly, written short.

A page lists its ``Field``s; ``encode`` turns the current values (by session-state key) into query
parameters, leaving out every value that is at its default, so a link carries only what differs;
``decode`` reads query parameters back, keeping each valid value and describing each problem in
words. Nothing here imports streamlit: the codecs are plain functions, tested on their own.

>>> f = Field("stride", ("s_h", "s_w"), (1, 1), pair(integer(1, 16)))
>>> encode([f], {"s_h": 2, "s_w": 2})
{'stride': '2'}
>>> decode([f], {"stride": "2,3"})
({'s_h': 2, 's_w': 3}, [])
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_QUERY = 6000  # characters: a 12×12 grid and an 11×11 kernel fit; a pasted essay does not
MAX_SHOWN = 40  # characters of a bad value quoted back to the user


@dataclass(frozen=True)
class Codec:
    """How one URL value maps to a tuple of session values: ``parse`` raises ValueError with a reason."""

    parse: Callable[[str], tuple]
    dump: Callable[[tuple], str]


@dataclass(frozen=True)
class Field:
    """One setting: its URL ``name``, the session-state ``keys`` it fills, their ``default`` values."""

    name: str
    keys: tuple[str, ...]
    default: tuple
    codec: Codec

    def values(self, state: Mapping[str, Any]) -> tuple:
        return tuple(state.get(k, d) for k, d in zip(self.keys, self.default, strict=True))


def one(name: str, key: str, default: Any, codec: Codec) -> Field:
    """A field that fills one session key."""
    return Field(name, (key,), (default,), codec)


# ---- scalar codecs: each parses one string into one value ------------------------------------------


def number_text(x: float) -> str:
    """The shortest text that reads back as exactly ``x``: 0.1 → "0.1", 5.0 → "5", 1e-05 → "1e-05"."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x) if isinstance(x, float) else str(x)


def _single(parse_one: Callable[[str], Any], dump_one: Callable[[Any], str]) -> Codec:
    return Codec(lambda s: (parse_one(s),), lambda v: dump_one(v[0]))


def integer(lo: int, hi: int) -> Codec:
    def parse(s: str) -> int:
        try:
            x = int(s.strip())
        except ValueError:
            raise ValueError(f"needs a whole number from {lo} to {hi}") from None
        if not lo <= x <= hi:
            raise ValueError(f"must be from {lo} to {hi}")
        return x

    return _single(parse, str)


def number(lo: float, hi: float) -> Codec:
    """A float within [lo, hi], kept exactly as typed (no rounding on the way in or out)."""

    def parse(s: str) -> float:
        try:
            x = float(s.strip())
        except ValueError:
            raise ValueError(f"needs a number from {number_text(lo)} to {number_text(hi)}") from None
        if not math.isfinite(x) or not lo <= x <= hi:
            raise ValueError(f"must be from {number_text(lo)} to {number_text(hi)}")
        return x

    return _single(parse, number_text)


def optional(codec: Codec, word: str = "auto") -> Codec:
    """``codec`` or the word ``word`` for None (e.g. pooling stride "auto": PyTorch's default)."""

    def parse(s: str) -> tuple:
        return (None,) if s.strip().lower() == word else codec.parse(s)

    return Codec(parse, lambda v: word if v[0] is None else codec.dump(v))


def flag() -> Codec:
    words = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}

    def parse(s: str) -> bool:
        try:
            return words[s.strip().lower()]
        except KeyError:
            raise ValueError("must be 1 or 0") from None

    return _single(parse, lambda v: "1" if v else "0")


def slug(text: str) -> str:
    """A short URL word for a display name: "Sobel x (vertical edges)" → "sobel-x"."""
    text = re.sub(r"\(.*?\)", "", str(text)).lower()
    return re.sub(r"[^a-z0-9.]+", "-", text).strip("-")


def choice(options: Sequence[Any], slugs: Mapping[Any, str] | None = None) -> Codec:
    """One of ``options``, written as its slug; read case-insensitively from the slug, the full name,
    or an unambiguous start of the name (so ``?kernel=Sobel x`` works in a hand-typed link)."""
    words = {o: (slugs or {}).get(o) or slug(o) for o in options}
    by_word = {w: o for o, w in words.items()}
    by_name = {str(o).lower(): o for o in options}

    def parse(s: str) -> Any:
        text = s.strip().lower()
        if text in by_word:
            return by_word[text]
        if text in by_name:
            return by_name[text]
        starts = [o for o in options if text and (str(o).lower().startswith(text) or words[o].startswith(text))]
        if len(starts) == 1:
            return starts[0]
        raise ValueError(f"must be one of {', '.join(words.values())}")

    return _single(parse, lambda v: words.get(v) or slug(v))


# ---- composite codecs -------------------------------------------------------------------------------


def pair(inner: Codec) -> Codec:
    """Two values, e.g. stride (rows, cols): "2" means both, "2,1" each; written short when equal."""

    def parse(s: str) -> tuple:
        parts = s.split(",")
        if len(parts) == 1:
            (x,) = inner.parse(parts[0])
            return x, x
        if len(parts) != 2:
            raise ValueError("needs one value, or two separated by a comma (rows,cols)")
        return inner.parse(parts[0]) + inner.parse(parts[1])

    def dump(v: tuple) -> str:
        a, b = inner.dump(v[:1]), inner.dump(v[1:])
        return a if a == b else f"{a},{b}"

    return Codec(parse, dump)


def values_of(inner: Codec, n: int) -> Codec:
    """Exactly ``n`` values separated by commas, filling ``n`` keys (e.g. padding top,bottom,left,right)."""

    def parse(s: str) -> tuple:
        parts = s.split(",")
        if len(parts) != n:
            raise ValueError(f"needs {n} values separated by commas")
        return tuple(x for p in parts for x in inner.parse(p))

    return Codec(parse, lambda v: ",".join(inner.dump((x,)) for x in v))


def items(inner: Codec, most: int) -> Codec:
    """A list of up to ``most`` values separated by commas, kept in one key as a list."""

    def parse(s: str) -> tuple:
        parts = [p for p in s.split(",") if p.strip()]
        if len(parts) > most:
            raise ValueError(f"can list at most {most}")
        out = [inner.parse(p)[0] for p in parts]
        if len(set(out)) != len(out):
            raise ValueError("lists a value twice")
        return (out,)

    return Codec(parse, lambda v: ",".join(inner.dump((x,)) for x in v[0]))


def matrix(lo: float, hi: float, min_side: int, max_side: int, square: bool = False) -> Codec:
    """A rectangle of numbers, rows separated by ";" and values by ",": "0,-1,0;-1,5,-1;0,-1,0".

    Kept in one key as a tuple of row tuples of floats, each exactly as written.
    """
    cell = number(lo, hi)

    def parse(s: str) -> tuple:
        rows = [r.split(",") for r in s.split(";")]
        if not (min_side <= len(rows) <= max_side and min_side <= len(rows[0]) <= max_side):
            raise ValueError(f"needs {min_side} to {max_side} rows and columns")
        if any(len(r) != len(rows[0]) for r in rows):
            raise ValueError("needs the same number of values in every row")
        if square and len(rows) != len(rows[0]):
            raise ValueError("needs as many rows as columns")
        return (tuple(tuple(cell.parse(x)[0] for x in r) for r in rows),)

    return Codec(parse, lambda v: ";".join(",".join(number_text(float(x)) for x in r) for r in v[0]))


# ---- whole pages --------------------------------------------------------------------------------------


def encode(fields: Sequence[Field], state: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters for the values in ``state`` (by session key), leaving out defaults."""
    out = {}
    for f in fields:
        values = f.values(state)
        if values != f.default:
            out[f.name] = f.codec.dump(values)
    return out


def shown(text: str) -> str:
    """A value from a URL, shortened for a message."""
    text = str(text)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def decode(fields: Sequence[Field], query: Mapping[str, str], ignore: Sequence[str] = ()) -> tuple[dict, list[str]]:
    """Session values for the valid parameters of ``query``, and a sentence for each problem.

    Unknown names, unreadable or out-of-range values are left out (their settings keep their
    defaults); names in ``ignore`` belong to someone else (e.g. Streamlit's ``embed``) and pass silently.
    """
    if sum(len(k) + len(str(v)) + 2 for k, v in query.items()) > MAX_QUERY:
        return {}, [f"the link's settings are longer than {MAX_QUERY:,} characters, so none was used"]
    by_name = {f.name: f for f in fields}
    values: dict[str, Any] = {}
    problems = []
    unknown = [k for k in query if k not in by_name and k not in ignore]
    if unknown:
        problems.append("unknown setting" + ("s " if len(unknown) > 1 else " ") + ", ".join(shown(k) for k in unknown))
    for name, text in query.items():
        f = by_name.get(name)
        if f is None:
            continue
        try:
            parsed = f.codec.parse(str(text))
        except ValueError as e:
            problems.append(f"{name}={shown(text)} {e}")
            continue
        values.update(zip(f.keys, parsed, strict=True))
    return values, problems
