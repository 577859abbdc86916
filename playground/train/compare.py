"""Comparing a browser's runs: the settings that differ between them, the label that names the difference, a run's name.

Pure functions over specs and ``TrainConfig``s. The Training studio's run table shows only the columns
``differing`` returns, and its chart legend reads ``run_label``'s text, e.g. "Run 2 · lr 0.01".

>>> tiny = PRESETS["Tiny (fast demo)"]
>>> a, b = settings_of(tiny, TrainConfig()), settings_of(tiny, TrainConfig(lr=0.01))
>>> differing([a, b])
['lr']
>>> run_label(2, None, b, ["lr"])
'Run 2 · lr 0.01'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from playground.train.loop import TrainConfig
from playground.train.models import PRESETS, summarize

NAME_MAX = 40  # characters in a run's name: it must fit a legend and a table cell on a projector
_NAME = re.compile(r"[\w .,:;!?'()+\-=/#&%]+")  # letters (any script), digits and plain punctuation
SETTINGS = ("network", "epochs", "images", "batch", "lr", "optimizer", "schedule", "weight decay", "L1", "dropout",
            "augment", "seed", "precision")  # fmt: skip


def network_text(spec: dict) -> str:
    """A network in a few words: a preset's name, or an edited one's name, layer count and parameters."""
    layers = spec.get("layers") or []
    preset = next((key for key, p in PRESETS.items() if p["layers"] == layers), None)
    if preset is not None:
        return preset
    name = str(spec.get("name") or "custom network")
    summary = summarize(spec)
    size = f", {summary.total_params:,} parameters" if summary.ok else ""
    return f"{name}: {len(layers)} layers{size}"


def settings_of(spec: dict, config: TrainConfig) -> dict[str, str]:
    """A run's settings as the words a table shows, under the names of ``SETTINGS``."""
    values = [network_text(spec), config.epochs, f"{config.train_size:,}" if config.train_size else "all",
              config.batch_size, config.lr, config.optimizer, config.schedule, config.weight_decay, config.l1,
              "per layer" if config.dropout is None else config.dropout, config.augment, config.seed,
              config.precision]  # fmt: skip
    return {key: f"{v:g}" if isinstance(v, float) else str(v) for key, v in zip(SETTINGS, values, strict=True)}


def differing(settings: Sequence[dict[str, str]]) -> list[str]:
    """The settings (in ``SETTINGS`` order) whose values are not the same in every run; none for fewer than two."""
    return [key for key in SETTINGS if len({s.get(key) for s in settings}) > 1]


def run_label(number: int, name: str | None, settings: dict[str, str], keys: Sequence[str], most: int = 2) -> str:
    """The run's name (or "Run ``number``") and its values of the differing ``keys``, at most ``most`` of them.

    >>> run_label(3, "wide", {"lr": "0.1", "batch": "64", "seed": "1"}, ["lr", "batch", "seed"])
    'wide · lr 0.1, batch 64, …'
    """
    shown = [f"{key} {settings[key]}" for key in keys[:most]]
    more = ", …" if len(keys) > most else ""
    return f"{name or f'Run {number}'}" + (f" · {', '.join(shown)}{more}" if shown else "")


def clean_name(text: str) -> str | None:
    """A name typed for a run, trimmed; None when it is empty (the run goes back to "Run N").

    Raises:
        ValueError: too long, or a character other than letters, digits, spaces and plain punctuation.
    """
    name = " ".join(str(text).split())
    if not name:
        return None
    if len(name) > NAME_MAX:
        raise ValueError(f"A run's name can have at most {NAME_MAX} characters; this one has {len(name)}.")
    if not _NAME.fullmatch(name):
        bad = " ".join(repr(c) for c in sorted({c for c in name if not _NAME.fullmatch(c)}))
        raise ValueError(f"A run's name can use letters, digits, spaces and . , : ; ! ? ' ( ) + - = / # & % _; "
                         f"not {bad}.")
    return name
