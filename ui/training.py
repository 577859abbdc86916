"""Training studio widgets: the data, the architecture editor, the network table, hyperparameters."""

from __future__ import annotations

import dataclasses
import io

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from playground.explorer import receptive
from playground.explorer.receptive import receptive_fields
from playground.render.train_figures import curves_figure
from playground.settings import Settings, SettingsError, current
from playground.train import layers, models
from playground.train.budget import training_estimate
from playground.train.data import CLASSES, FashionMNIST
from playground.train.loop import AUGMENTS, OPTIMIZERS, PRECISIONS, SCHEDULES, TrainConfig, resolve_precision
from playground.train.presets import CLASSROOM
from ui.keys import KEEP, STUDIO
from ui.layer_table import COLUMNS, PARAM_COLUMNS, apply_edits, layers_of, rows_of
from ui.network_text import layers_text, parse_layers
from ui.params import Codec, Field, choice, flag, integer, number, one, slug

P = STUDIO.prefix
PRESET_SLUGS = {name: slug(name) for name in models.PRESETS}
BATCHES = (32, 64, 128, 256, 512, 1024)
SIZES = (1000, 5000, 10000, 30000, 60000)
OPTIMIZER_NAMES = {"adamw": "AdamW", "adam": "Adam", "sgd_momentum": "SGD + momentum", "sgd": "SGD"}
_D = TrainConfig()  # the defaults come from the engine's config


def capped(codec: Codec, limited: bool, why: str) -> Codec:
    """``codec``, whose refusals add ``why`` when the server's limit (not the page's own range) is what refuses."""

    def parse(s: str) -> tuple:
        try:
            return codec.parse(s)
        except ValueError as e:
            raise ValueError(f"{e} on this server ({why})" if limited else str(e)) from None

    return Codec(parse, codec.dump)


def sizes(s: Settings) -> tuple[int, ...]:
    """The training-set sizes offered: those within PLAYGROUND_MAX_IMAGES, and the limit itself."""
    return tuple(sorted({n for n in SIZES if n < s.max_images} | {min(s.max_images, SIZES[-1])}))


def defaults(s: Settings) -> dict[str, int]:
    """Epochs, images and batch size a page starts with: the engine's defaults, or the classroom preset where
    PLAYGROUND_CLASSROOM is on, within the server's limits."""
    chosen = CLASSROOM if s.classroom else {"epochs": _D.epochs, "train_size": SIZES[-1], "batch_size": _D.batch_size}
    allowed = sizes(s)
    size = max((n for n in allowed if n <= chosen["train_size"]), default=allowed[0])
    return {"epochs": min(chosen["epochs"], s.max_epochs), "size": size, "bs": chosen["batch_size"]}


def fields(s: Settings) -> list[Field]:
    """Every setting of the studio, as a link carries it, under the server's settings ``s``."""
    d = defaults(s)
    epochs_why = f"PLAYGROUND_MAX_EPOCHS: at most {s.max_epochs:,} epochs per run"
    images_why = f"PLAYGROUND_MAX_IMAGES: at most {s.max_images:,} training images per run"
    return [
        one("net", f"{P}_preset", next(iter(models.PRESETS)), choice(list(models.PRESETS), PRESET_SLUGS)),
        one("layers", f"{P}_layers", None, Codec(lambda s: (parse_layers(s),), lambda v: layers_text(v[0]))),
        one("opt", f"{P}_opt", _D.optimizer, choice(OPTIMIZERS, {"sgd_momentum": "sgdm"})),
        one("lr", f"{P}_lr", _D.lr, number(1e-5, 1.0)),
        one("sched", f"{P}_sched", _D.schedule, choice(SCHEDULES)),
        one("batch", f"{P}_bs", d["bs"], choice(BATCHES)),
        one("epochs", f"{P}_epochs", d["epochs"], capped(integer(1, s.max_epochs), s.max_epochs < 30, epochs_why)),
        one("images", f"{P}_size", d["size"], capped(choice(sizes(s)), s.max_images < SIZES[-1], images_why)),
        one("wd", f"{P}_wd", _D.weight_decay, number(0, 1)),
        one("l1", f"{P}_l1", _D.l1, number(0, 1)),
        one("aug", f"{P}_aug", _D.augment, choice(AUGMENTS)),
        one("seed", f"{P}_seed", _D.seed, integer(0, 10**6)),
        one("precision", f"{P}_precision", _D.precision, choice(PRECISIONS)),
        one("log", f"{P}_log", False, flag()),
        one("live", f"{P}_interactive", False, flag()),
        one("present", "present", False, flag()),
    ]


def server_settings() -> Settings:
    """The server's settings, or the defaults while a mistyped variable stops the page (``ui.common.setup_page``)."""
    try:
        return current()
    except SettingsError:
        return Settings()


FIELDS = fields(Settings())  # the studio's fields under the default settings


def current_spec() -> dict:
    """The network the form describes: the preset, or its edited layers."""
    ss = st.session_state
    preset = ss[f"{P}_preset"]
    if ss[f"{P}_layers"] is None:
        return models.PRESETS[preset]
    return {"name": f"{preset.split(' (')[0]} (edited)", "layers": ss[f"{P}_layers"]}


def seed_from_run(spec: dict, config: TrainConfig) -> None:
    """Show a run's own settings in the form (a page opened afresh while the browser's run trains)."""
    ss = st.session_state
    preset = next((name for name, s in models.PRESETS.items() if s["layers"] == spec["layers"]), None)
    ss[f"{P}_preset"] = preset or next((n for n in models.PRESETS if spec["name"].startswith(n.split(" (")[0])),
                                       next(iter(models.PRESETS)))  # fmt: skip
    ss[f"{P}_layers"] = None if preset else spec["layers"]
    values = {"opt": config.optimizer, "lr": config.lr, "sched": config.schedule, "bs": config.batch_size,
              "epochs": config.epochs, "size": config.train_size or SIZES[-1], "wd": config.weight_decay,
              "l1": config.l1, "aug": config.augment, "seed": config.seed, "precision": config.precision}  # fmt: skip
    ss.update({f"{P}_{k}": v for k, v in values.items()})


def _preset_chosen() -> None:
    """Another preset replaces the edited layers, which stay one click away."""
    ss = st.session_state
    if ss[f"{P}_layers"] is not None:
        ss[f"{P}_layers_undo"] = ss[f"{P}_layers"]
        ss[f"{P}_layers"] = None


def _restore_layers() -> None:
    st.session_state[f"{P}_layers"] = st.session_state.pop(f"{P}_layers_undo", None)


def _table_edited(editor: str) -> None:
    """The editor's on_change: replay its edits on the rows it was drawn from."""
    ss = st.session_state
    layers, skipped = layers_of(apply_edits(ss[f"{P}_table_base"], ss[editor]))
    ss[f"{P}_table_skipped"] = skipped
    preset_layers = models.PRESETS[ss[f"{P}_preset"]]["layers"]
    ss[f"{P}_layers"] = None if layers == preset_layers else layers


def architecture_editor() -> dict:
    """Preset, then an editable table of layers (add, delete, reorder by the 'order' column) → a spec."""
    ss = st.session_state
    st.selectbox("Start from", list(models.PRESETS), key=f"{P}_preset", on_change=_preset_chosen, persist_state=KEEP)
    st.caption(
        "Edit any cell, add a row at the bottom, delete rows with the checkbox on the left, and reorder by changing "
        "'order' (2.5 goes between 2 and 3). 'out' is channels or units; leave a Linear's 'in' empty to let it "
        "follow the shape of what comes before (type a number to fix it)."
    )
    spec = current_spec()
    # A fresh editor whenever the layers changed elsewhere (a preset, a link, a page switch): see ui.matrix_editor.
    version = ss.get(f"{P}_table_version", 0)
    editor = f"{P}_table_{version}"
    if editor not in ss or layers_of(apply_edits(ss[f"{P}_table_base"], ss[editor]))[0] != spec["layers"]:
        version += editor in ss
        editor = f"{P}_table_{version}"
        ss[f"{P}_table_version"], ss[f"{P}_table_base"] = version, rows_of(spec["layers"])
    frame = pd.DataFrame(ss[f"{P}_table_base"], columns=list(COLUMNS)).astype({c: float for c in PARAM_COLUMNS})
    st.data_editor(
        frame,
        num_rows="dynamic",
        key=editor,
        hide_index=True,
        width="stretch",
        on_change=_table_edited,
        args=(editor,),
        column_config={
            "order": st.column_config.NumberColumn(step=0.5, width="small"),
            "type": st.column_config.SelectboxColumn(options=list(layers.LAYER_TYPES), required=True),
            **{c: st.column_config.NumberColumn(format="%g") for c in PARAM_COLUMNS},
            "in": st.column_config.NumberColumn("in", format="%g", help="A Linear layer's inputs; empty: automatic"),
        },
    )
    if ss.get(f"{P}_table_skipped"):
        st.caption("Rows without a layer type are left out until you choose one.")
    if ss[f"{P}_layers"] is not None:
        st.button("↺ Back to the preset", key=f"{P}_table_reset", on_click=_preset_chosen)
    elif f"{P}_layers_undo" in ss:
        st.button("↶ Bring back the layers you edited", key=f"{P}_table_undo", on_click=_restore_layers)
    return spec


def network_table(summary: models.Summary) -> None:
    """The live table: shape, formula with numbers, parameters written out, MACs; totals; the broken row."""
    lines = ["| # | layer | output shape | size formula | parameters | MACs |", "|---|---|---|---|---|---|"]
    for r in summary.rows:
        shape = "×".join(map(str, r.output_shape))
        formula = f"${r.formula}$" if r.formula.startswith(("H", "W")) else r.formula
        lines.append(f"| {r.index + 1} | {r.name} | {shape} | {formula} | {r.params_formula} | {r.macs:,} |")
    if summary.error_row is not None:
        lines.append(f"| {summary.error_row + 1} | ⚠️ | | **{summary.error.split(': ', 1)[-1]}** | | |")
    lines.append(f"| | **total** | | | **{summary.total_params:,}** | **{summary.total_macs:,}** |")
    if summary.ok:  # playground.train.budget: from the totals alone, at the default batch size and all the images
        est = training_estimate(summary)
        lines.append(f"| | training estimate (batch 256, 60,000 images) | | | ~{est.peak_mb:,.0f} MB peak "
                     f"| ~{est.seconds_per_epoch:,.0f} s per epoch |")  # fmt: skip
    st.markdown("\n".join(lines))


def receptive_table(spec: dict, summary: models.Summary) -> None:
    """How much of the image one unit of each layer sees (``playground.explorer.receptive``), the rule written out."""
    with st.expander("Receptive fields: how much of the image one unit of each layer sees"):
        st.markdown(
            "Along each axis, a layer of kernel $k$, stride $s$, padding $p$ and dilation $d$ gives "
            r"$r_{out} = r_{in} + (k-1)\cdot d\cdot j_{in}$ and $j_{out} = j_{in}\cdot s$, starting from the "
            r"image's pixels ($r = 1$, $j = 1$). Unit 0's field starts $p\cdot j_{in}$ earlier: below 0 is padding."
        )
        lines = ["| # | layer | field | jump | unit 0 starts at | rule, with the numbers |", "|" + "---|" * 6]
        before = receptive.Field(size=1, jump=1, start=0)
        for row, layer, field in zip(summary.rows, spec["layers"], receptive_fields(spec), strict=True):
            if field is None:
                lines.append(f"| {row.index + 1} | {row.name} | the whole image | | | every number sees every pixel |")
                continue
            kind, q = layers.layer_params(layer)
            rule = (field.recurrence(q["kernel"], q["stride"], q.get("padding", 0), q.get("dilation", 1), before)
                    if kind in ("conv", "maxpool", "avgpool") else "unchanged")  # fmt: skip
            lines.append(f"| {row.index + 1} | {row.name} | {field.size}×{field.size} px | {field.jump} px "
                         f"| {field.start} | {rule} |")  # fmt: skip
            before = field
        st.markdown("\n".join(lines))


def sharing_lesson(summary: models.Summary) -> None:
    """What a fully connected layer would cost for the first conv layer's output."""
    first = next((r for r in summary.rows if r.type == "conv"), None)
    if first is None:
        return
    lesson = models.dense_comparison((1, 28, 28), first.output_shape, first.params)
    st.info(
        f"**Parameter sharing.** The first conv layer makes {lesson['outputs']:,} outputs from 28·28 = 784 pixels "
        f"with **{first.params:,}** parameters, because every position reuses the same small kernels. A fully "
        f"connected layer making the same outputs would need 784 × {lesson['outputs']:,} + {lesson['outputs']:,} = "
        f"**{lesson['dense_params']:,}** parameters: {lesson['ratio']:,.0f}× more."
    )


def _classroom(s: Settings) -> None:
    """The classroom preset's button: few images and one epoch, within the server's limits."""
    d = defaults(dataclasses.replace(s, classroom=True))
    st.session_state.update({f"{P}_{k}": v for k, v in d.items()})


def _within_limits(s: Settings) -> None:
    """Bring values kept from before (another server's limits, an old session) within this server's limits."""
    ss, allowed = st.session_state, sizes(s)
    ss[f"{P}_epochs"] = min(ss[f"{P}_epochs"], s.max_epochs)
    if ss[f"{P}_size"] not in allowed:
        ss[f"{P}_size"] = max((n for n in allowed if n <= ss[f"{P}_size"]), default=allowed[0])


def hyperparameters(s: Settings) -> TrainConfig | None:
    """The training settings, within the server's limits ``s``; None (with the reason shown) when they are invalid."""
    d = defaults(dataclasses.replace(s, classroom=True))
    st.button(f"🎓 Classroom preset: {d['epochs']} epoch on {d['size']:,} images", key=f"{P}_classroom",
              on_click=_classroom, args=(s,), help="Trains in seconds, so a whole class can press Train at once. "
              "It sets the epochs, the training images and the batch size; the network stays as it is.")  # fmt: skip
    _within_limits(s)
    a, b, c = st.columns(3)
    optimizer = a.selectbox("Optimizer", OPTIMIZERS, key=f"{P}_opt", format_func=OPTIMIZER_NAMES.get,
                            persist_state=KEEP)  # fmt: skip
    lr = a.number_input("Learning rate, peak (0.00001–1)", 1e-5, 1.0, format="%g", step=1e-3, key=f"{P}_lr",
                        persist_state=KEEP)  # fmt: skip
    schedule = a.selectbox("Schedule", SCHEDULES, key=f"{P}_sched", persist_state=KEEP)
    augment = a.selectbox("Augmentation", AUGMENTS, key=f"{P}_aug", persist_state=KEEP)
    batch = b.select_slider("Batch size", BATCHES, key=f"{P}_bs", persist_state=KEEP)
    limit = ", this server's limit" if s.max_epochs < 30 else ""
    epochs = b.number_input(f"Epochs (1–{s.max_epochs}{limit})", 1, s.max_epochs, key=f"{P}_epochs",
                            persist_state=KEEP)  # fmt: skip
    limit = f" (at most {s.max_images:,} on this server)" if s.max_images < SIZES[-1] else ""
    size = b.select_slider(f"Training images{limit}", sizes(s), key=f"{P}_size", persist_state=KEEP)
    seed = b.number_input("Random seed", 0, 10**6, key=f"{P}_seed", persist_state=KEEP)
    wd = c.number_input("Weight decay, L2 (0–1)", 0.0, 1.0, format="%g", step=1e-4, key=f"{P}_wd",
                        persist_state=KEEP)  # fmt: skip
    l1 = c.number_input("L1 penalty (0–1)", 0.0, 1.0, format="%g", step=1e-5, key=f"{P}_l1", persist_state=KEEP)
    precision = c.selectbox(
        "Arithmetic",
        PRECISIONS,
        key=f"{P}_precision",
        format_func=lambda p: f"auto ({resolve_precision(p)} on this computer)" if p == "auto" else p,
        help="bfloat16 (mixed precision) computes convolutions with 8-bit mantissas: about 30% faster on CPUs that "
        "do it in hardware, for the same accuracy. Weights and evaluation stay float32.",
        persist_state=KEEP,
    )
    c.caption("Dropout rates are set per Dropout layer, in the table above ('p / slope').")
    try:
        return TrainConfig(
            optimizer=optimizer,
            lr=lr,
            batch_size=batch,
            epochs=int(epochs),
            weight_decay=wd,
            l1=l1,
            dropout=None,  # the layers' own rates: the table is the one place they are set
            augment=augment,
            train_size=None if size == SIZES[-1] else size,
            seed=int(seed),
            schedule=schedule,
            precision=precision,
        )
    except ValueError as e:
        st.error(str(e))
        return None


@st.cache_resource(max_entries=2, show_spinner=False)
def _samples(_data: FashionMNIST, source: str) -> list[bytes]:
    """PNGs of the first training image of each class, found and encoded once per dataset (``source``): scanning
    the 60,000 labels and encoding the pictures took most of each studio rerun's server time."""
    firsts = [int((_data.train_labels == c).nonzero()[0]) for c in range(10)]
    pictures = []
    for i in firsts:
        buf = io.BytesIO()
        Image.fromarray(_data.train_images[i].numpy()).save(buf, format="PNG")
        pictures.append(buf.getvalue())
    return pictures


@st.cache_resource(max_entries=100, show_spinner=False)
def ended_curves(runs: tuple[tuple[str, str], ...], log_scale: bool, _history: list) -> go.Figure:
    """The curves of runs that have all ended (``runs``: their labels and ids), built once: the figure was most
    of a studio rerun's server time once a run had finished. Shared: never modify it."""
    return curves_figure(_history, log_scale)


def samples_grid(data: FashionMNIST) -> None:
    """One training image of each class, with its name."""
    st.image(_samples(data, f"{data.source}|{len(data.train_labels)}"), caption=list(CLASSES), width=84)
