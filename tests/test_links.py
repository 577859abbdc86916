"""AppTest: every page's settings travel through its link (settings → URL → settings), for many random settings.

A page opened with a link shows exactly the link's settings and writes the same link back; a
hostile or stale link opens the page with defaults and one notice; settings survive a page switch.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from playground.explorer import kernels, samples
from playground.explorer.conv import ACTIVATIONS, PAD_MODES, POOLS
from playground.explorer.stepping import SCOPES
from playground.train import models
from playground.train.loop import AUGMENTS, OPTIMIZERS, PRECISIONS, SCHEDULES
from tests.apptest import open_page
from ui import explorer_controls, inspect, training
from ui.image_input import SOURCES, grid_values
from ui.params import encode

ROOT = Path(__file__).resolve().parents[1]
EXPLORER, STUDIO, INSPECT = "pages/1_Convolution_explorer.py", "pages/2_Training_studio.py", "pages/3_Inspect_model.py"


def state_of(at: AppTest, fields) -> dict:
    return {k: at.session_state[k] for f in fields for k in f.keys if k in at.session_state}


def url_of(at: AppTest, page: str) -> dict[str, str]:
    """The query parameters the page put in the address bar (ui.state.publish)."""
    return at.session_state[f"_url_{page}"]


def _number(rng: random.Random, lo: float, hi: float) -> float:
    """A value as a person types it: whole, or with one to four decimals."""
    return round(rng.uniform(lo, hi), rng.choice((0, 1, 2, 4)))


def random_explorer(rng: random.Random) -> dict:
    preset = rng.choice(kernels.PRESET_NAMES)
    size = rng.randint(1, 5)
    kernel_side = size if preset in kernels.SIZED else 3
    typed = rng.random() < 0.4
    pool = rng.choice(POOLS)
    side = rng.randint(5, 12)
    grid = grid_values(side, rng.randint(0, 99)) if rng.random() < 0.5 else tuple(
        tuple(_number(rng, -99, 99) for _ in range(side)) for _ in range(side))  # fmt: skip
    weights = tuple(tuple(_number(rng, -3, 3) for _ in range(kernel_side)) for _ in range(kernel_side))
    p = "cx"
    return {
        f"{p}_source": rng.choice(SOURCES),
        f"{p}_sample": rng.choice(list(samples.SAMPLES)),
        f"{p}_grid": grid,
        f"{p}_color": rng.choice(("Grayscale", "RGB")),
        f"{p}_res": rng.choice((16, 16, 28, 32, 64)),
        f"{p}_preset": preset,
        f"{p}_ksize": size,
        f"{p}_seed": rng.randint(0, 5),
        f"{p}_weights": weights if typed else None,
        f"{p}_extra": rng.sample([n for n in kernels.PRESET_NAMES if n != preset], rng.choice((0, 0, 1, 2))),
        f"{p}_chmode": rng.choice(explorer_controls.CHANNEL_MODES),
        f"{p}_flip": rng.random() < 0.3,
        f"{p}_bias": _number(rng, -20, 20),
        f"{p}_stride_h": rng.randint(1, 3),
        f"{p}_stride_w": rng.randint(1, 3),
        f"{p}_dil_h": rng.randint(1, 2),
        f"{p}_dil_w": rng.randint(1, 2),
        f"{p}_padshort": rng.choice(explorer_controls.PADDING_SHORTCUTS),
        **{f"{p}_{k}": rng.randint(0, 3) for k in ("pt", "pb", "pl", "pr")},
        f"{p}_padmode": rng.choice(PAD_MODES),
        f"{p}_kind": rng.choice(explorer_controls.KINDS),
        f"{p}_tpad_h": rng.randint(0, 2),
        f"{p}_tpad_w": rng.randint(0, 2),
        f"{p}_opad_h": rng.randint(0, 2),
        f"{p}_opad_w": rng.randint(0, 2),
        f"{p}_act": rng.choice(ACTIVATIONS),
        f"{p}_slope": _number(rng, 0, 1),
        f"{p}_pool": pool,
        f"{p}_pk": rng.randint(1, 3),
        f"{p}_ps": rng.choice((None, 1, 2, 3)),
        f"{p}_pp": rng.randint(0, 1),
        f"{p}_ceil": rng.random() < 0.3,
        f"{p}_channel": 0,
        f"{p}_row": rng.randint(0, 2),
        f"{p}_col": rng.randint(0, 2),
        f"{p}_inch": 0,
        f"{p}_scope": rng.choice(SCOPES),
        f"{p}_rev": rng.random() < 0.3,
        f"{p}_rev_row": rng.randint(0, 5),
        f"{p}_rev_col": rng.randint(0, 5),
        "present": rng.random() < 0.2,
        f"{p}_reveal": rng.randint(1, 6),
    }


# Settings a page may move on purpose: a cell or channel outside the output is brought inside it.
CLAMPED = {"cx_row", "cx_col", "cx_channel", "cx_inch", "cx_reveal", "cx_rev_row", "cx_rev_col"}


@pytest.mark.parametrize("seed", range(200))
def test_explorer_settings_round_trip_through_the_link(seed):
    rng = random.Random(seed)
    settings = random_explorer(rng)
    query = encode(explorer_controls.FIELDS, settings)
    at = open_page(EXPLORER, query)
    shown = state_of(at, explorer_controls.FIELDS)
    for key, value in settings.items():
        if key in CLAMPED:
            assert 0 <= shown[key] <= max(value, 1), key
        else:
            assert shown[key] == value, key
    assert url_of(at, "explorer") == encode(explorer_controls.FIELDS, shown)  # the URL says what the page shows
    if seed % 20 == 0:  # and the page's own link opens the very same view
        again = open_page(EXPLORER, url_of(at, "explorer"))
        assert state_of(again, explorer_controls.FIELDS) == shown


def random_studio(rng: random.Random) -> dict:
    preset = rng.choice(list(models.PRESETS))
    layers = None
    if rng.random() < 0.5:
        layers = [dict(layer) for layer in models.PRESETS[preset]["layers"]]
        conv = next(layer for layer in layers if layer["type"] == "conv")
        conv.update(out_channels=rng.randint(1, 32), kernel=rng.choice((3, 5)), padding=rng.randint(0, 2))
        if rng.random() < 0.5:
            layers.insert(len(layers) - 1, {"type": "dropout", "p": _number(rng, 0, 0.9)})
    p = "ts"
    return {
        f"{p}_preset": preset,
        f"{p}_layers": layers,
        f"{p}_opt": rng.choice(OPTIMIZERS),
        f"{p}_lr": rng.choice((1e-5, 3e-4, 0.001, 0.003, 0.05, 0.5, 1.0)),
        f"{p}_sched": rng.choice(SCHEDULES),
        f"{p}_bs": rng.choice(training.BATCHES),
        f"{p}_epochs": rng.randint(1, 30),
        f"{p}_size": rng.choice(training.SIZES),
        f"{p}_wd": rng.choice((0.0, 1e-4, 0.0005, 0.01)),
        f"{p}_l1": rng.choice((0.0, 1e-5, 0.001)),
        f"{p}_aug": rng.choice(AUGMENTS),
        f"{p}_seed": rng.randint(0, 10**6),
        f"{p}_precision": rng.choice(PRECISIONS),
        f"{p}_log": rng.random() < 0.5,
        f"{p}_interactive": rng.random() < 0.5,
        "present": rng.random() < 0.2,
    }


@pytest.mark.parametrize("seed", range(40))
def test_studio_settings_round_trip_through_the_link(fake_data, seed):
    settings = random_studio(random.Random(seed))
    at = open_page(STUDIO, encode(training.FIELDS, settings))
    shown = state_of(at, training.FIELDS)
    assert shown == settings
    assert url_of(at, "studio") == encode(training.FIELDS, shown)
    table = next(m.value for m in at.markdown if m.value.startswith("| # | layer"))
    spec_layers = settings["ts_layers"] or models.PRESETS[settings["ts_preset"]]["layers"]
    rows = re.findall(r"^\| \d+ \|", table, re.M)
    assert len(rows) == len(models.summarize({"layers": spec_layers}).rows)  # the table shows those layers


@pytest.mark.parametrize("seed", range(20))
def test_inspect_settings_round_trip_through_the_link(fake_data, seed):
    rng = random.Random(seed)
    settings = {"mi_source": rng.choice(inspect.MODELS[1:]), "mi_input": rng.choice(inspect.INPUTS),
                "mi_idx": rng.randint(0, 99), "mi_layer": rng.randint(0, 3),
                "mi_img_source": rng.choice(("Sample", "Draw", "Number grid")), "present": rng.random() < 0.2}
    at = open_page(INSPECT, encode(inspect.FIELDS, settings))
    shown = state_of(at, inspect.FIELDS)
    assert shown == settings
    assert url_of(at, "inspect") == encode(inspect.FIELDS, shown)


HOSTILE = [
    {"kernel": "<script>alert(1)</script>"},
    {"stride": "99", "res": "-1", "bias": "nan"},
    {"weights": "1,2;3", "grid": "x"},
    {"zzz": "1", "present": "maybe"},
    {"kernel": "k" * 10_000},
    {"sample": "![x](http://example.invalid/a.png)"},
]


@pytest.mark.parametrize("query", HOSTILE)
def test_a_hostile_link_opens_the_defaults_with_one_notice(query):
    at = open_page(EXPLORER, query)
    notices = [w.value for w in at.warning if "could not be used" in w.value]
    assert len(notices) == 1
    assert "](http" not in notices[0]  # shown as text: a name in a link is never markdown
    defaults = {k: v for f in explorer_controls.FIELDS for k, v in zip(f.keys, f.default, strict=True)}
    assert state_of(at, explorer_controls.FIELDS) == defaults
    assert url_of(at, "explorer") == {}  # and the refused settings are gone from the address bar
    at.run()
    assert not [w for w in at.warning if "could not be used" in w.value]  # one notice, once


def test_settings_survive_a_page_switch(fake_data):
    at = open_page(EXPLORER, {})
    at.selectbox(key="cx_preset").set_value("Sobel x (vertical edges)").run()
    at.number_input(key="cx_stride_h").set_value(2).run()
    at.radio(key="cx_padshort").set_value("same").run()
    at.selectbox(key="cx_act").set_value("Tanh").run()
    at.select_slider(key="cx_res").set_value(32).run()
    at.switch_page(STUDIO).run()
    at.number_input(key="ts_epochs").set_value(5).run()
    at.switch_page(EXPLORER).run()
    assert not at.exception
    assert at.selectbox(key="cx_preset").value == "Sobel x (vertical edges)"
    assert at.number_input(key="cx_stride_h").value == 2 and at.radio(key="cx_padshort").value == "same"
    assert at.selectbox(key="cx_act").value == "Tanh" and at.select_slider(key="cx_res").value == 32
    want = {"kernel": "sobel-x", "stride": "2,1", "padding": "same", "act": "tanh", "res": "32"}
    assert url_of(at, "explorer") == want
    at.switch_page(STUDIO).run()
    assert at.number_input(key="ts_epochs").value == 5
