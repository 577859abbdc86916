"""Training studio: build a CNN, train it on FashionMNIST in the background, watch it learn."""

from dataclasses import dataclass

import streamlit as st

from playground.render.curve_picture import progress_text
from playground.render.pictures import Picture
from playground.render.train_figures import curves_figure
from playground.train import models
from playground.train.runs import ACTIVE, RunError, Status
from ui import live_route
from ui.budget import budget_check
from ui.charts import chart
from ui.common import present_bar, setup_page
from ui.exports import network_exports, run_downloads
from ui.keys import STUDIO
from ui.live_panel import curves_of, last_runs, live_panel, live_state, network_state
from ui.live_view import REDRAW_SECONDS, watch, watch_toggle, watched, watching
from ui.run_status import run_status
from ui.run_table import pause_controls, runs_table
from ui.server import dataset, run_manager
from ui.state import browser_id, link_note, notice, publish, restore
from ui.training import (
    architecture_editor,
    ended_curves,
    fields,
    hyperparameters,
    network_table,
    receptive_table,
    samples_grid,
    seed_from_run,
    server_settings,
    sharing_lesson,
)

PAGE, P = STUDIO.name, STUDIO.prefix
first_visit = f"_visited_{PAGE}" not in st.session_state
SETTINGS = server_settings()  # the lecturer's limits bound the inputs and the links
FIELDS = fields(SETTINGS)
restore(PAGE, FIELDS)
if setup_page("Training studio", "🏋️"):  # (stops with a sentence if a PLAYGROUND_* setting is mistyped)
    present_bar([6])
LIVE_SECONDS = SETTINGS.live_seconds
manager, sid = run_manager(), browser_id()
if first_visit and not st.query_params and (going := manager.active_for(sid)) is not None:
    seed_from_run(going.spec, going.config)  # opened afresh while this browser's run trains: show its settings
st.title("🏋️ Training studio")
st.caption("Train a small CNN on FashionMNIST: 60,000 photos of clothes in 10 classes, 28×28 gray pixels.")
notice(PAGE)

data = dataset()
if data is not None:
    with st.expander(f"The data: found in {data.source}", expanded=False):
        samples_grid(data)
    if data.note:  # PLAYGROUND_DATA_DIR was set but not used: say so
        st.warning(data.note)

st.subheader("1 · The network")
spec = architecture_editor()
summary = models.summarize(spec)
network_table(summary)
if not summary.ok:
    st.error(f"This network cannot be built. {summary.error} Fix that row to train.")
else:
    receptive_table(spec, summary)
    sharing_lesson(summary)

st.subheader("2 · Training settings")
config = hyperparameters(SETTINGS)
if summary.ok and config is not None:
    network_exports(spec, config)
refusal = budget_check(summary, config)  # the estimated memory and time; None within the server's budget

st.subheader("3 · Train")


def start(spec: dict, config, data) -> None:
    """Train's callback: it runs before the script, so this very run already shows the run going."""
    if refusal is not None:  # the button was disabled, but a crafted request can still click it
        st.session_state[f"{P}_refused"] = refusal
        return
    try:
        manager.submit(sid, spec, config, data)
    except RunError as e:
        st.session_state[f"{P}_refused"] = str(e)


@dataclass(frozen=True)
class Shown:
    """How section 3 draws this browser's runs, as its controls set it: read by the live view's fragments."""

    ticking: bool  # a run of this browser is queued or training
    log_scale: bool
    interactive: bool

    @property
    def panel(self) -> bool:
        """While a run trains, the live panels (with serve.py's routes) draw it, not fragments on timers."""
        return live_route.mounted and not self.interactive

    def panels(self, runs: list) -> bool:
        """Whether the live panels draw ``runs`` now: their newest is queued or training (else the page draws it)."""
        return self.panel and bool(runs) and runs[-1].status in ACTIVE


def status(runs: list, shown: Shown) -> None:
    """The run's progress; a full rerun once it has ended."""
    if not runs:
        st.caption("No run yet: press Train. Training keeps going while you look at other pages.")
        return
    pause_controls(runs[-1])  # here, not beside Train: the run becomes pausable while only this fragment reruns
    now = runs[-1].snapshot()
    run_status(now, len(runs), n_test)
    if shown.ticking and now.status not in ACTIVE:
        st.rerun()  # the run ended: a full rerun re-enables Train and stops the timer


def curves_now(runs: list, shown: Shown) -> tuple[list, Picture | None]:
    """The last six runs' (label, snapshot), labels naming what differed ("Run 2 · lr 0.01"), and the picture of
    their curves while the newest trains (None once it has ended, or with the interactive chart)."""
    snapshots = last_runs(runs)
    if not snapshots or snapshots[-1][1].status not in ACTIVE or shown.interactive:
        return snapshots, None
    return snapshots, curves_of(snapshots, shown.log_scale)


def curves(snapshots: list, picture: Picture | None, log_scale: bool) -> None:
    """Loss and accuracy of this session's runs: a picture while one trains, else a plotly chart."""
    if not snapshots:
        return
    history = [(label, s.history) for label, s in snapshots]
    label, newest = snapshots[-1]
    if newest.status not in ACTIVE:  # every run has ended: the same figure until another run starts
        chart(ended_curves(tuple((label, s.id) for label, s in snapshots), log_scale, history), key=f"{P}_curves")
        run_downloads(history, newest.config, newest.accuracy, log_scale)
        return
    if picture is None:
        chart(curves_figure(history, log_scale), key=f"{P}_curves")
        return
    with st.container(key=f"{P}_curves"):
        st.image(picture.data, caption=progress_text(label, newest.history, newest.config.epochs))


# While a run trains, two live panels (with the routes serve.py mounts) redraw the progress line and curves, and the
# network at work, by themselves: a Streamlit redraw costs the browser ~0.1-0.15 s of CPU, taken from the run's cores
# (about eight passes of Streamlit's over the page, ~15 ms each, in a Chromium trace, for few elements or many; an
# interactive plotly chart ~0.3 s). Under `streamlit run app.py`, or with the interactive chart, the fragments are
# redrawn on timers instead: the progress every LIVE_SECONDS, the network (which changes only with an evaluation)
# every 10 s.
def live(shown: Shown) -> None:
    """Progress and curves: the live panel while a run trains, else drawn here from the runs' state."""
    runs = manager.runs_for(sid)  # once a redraw: it may read the other replicas' records from disk
    if shown.panels(runs):
        pause_controls(runs[-1])
        with st.container(key=f"{P}_curves"):
            live_panel("run", live_state(runs, n_test), LIVE_SECONDS, f"{P}_live", log_scale=shown.log_scale,
                       n_test=n_test)  # fmt: skip
        return
    snapshots, picture = curves_now(runs, shown)  # the work first, then the elements in one burst
    status(runs, shown)
    curves(snapshots, picture, shown.log_scale)


def network_live(shown: Shown) -> None:
    """Watch it learn: the newest run's filters and a test image through its layers, redrawn as it trains."""
    if data is None:
        return
    runs = manager.runs_for(sid)
    view = watched(manager, runs, data.test_images, watching())
    if shown.panels(runs):
        if watch_toggle():
            now = network_state(runs, view)
            live_panel("network", now, max(REDRAW_SECONDS, LIVE_SECONDS), f"{P}_live_net", soon=LIVE_SECONDS)
        return
    watch(view)


@st.fragment
def train_section() -> None:
    """Train, Stop, the chart's toggles, the live view and the runs table: a click here (Train above all, as a run
    starts) redraws this section alone, not the whole page."""
    active = manager.active_for(sid)
    ready = data is not None and summary.ok and config is not None and refusal is None
    a, b, _ = st.columns([1, 1, 3])
    a.button("▶ Train", type="primary", disabled=not ready or active is not None, key=f"{P}_train",
             on_click=start, args=(spec, config, data))  # fmt: skip
    if active is not None and active.status == Status.QUEUED:  # not started: Cancel takes it out of the queue
        b.button("✕ Cancel", key=f"{P}_cancel", on_click=active.stop, help="Take this run out of the queue.")
    elif active is not None:
        b.button("■ Stop", key=f"{P}_stop", on_click=active.stop)
    if refused := st.session_state.pop(f"{P}_refused", None):
        st.warning(refused)
    c1, c2 = st.columns(2)
    log_scale = c1.toggle("Log scale for the loss", key=f"{P}_log", persist_state="session")
    interactive = c2.toggle(
        "Interactive chart while training",
        key=f"{P}_interactive",
        persist_state="session",
        help="While a run trains, its curves are redrawn as a picture: cheap for the browser, so the run keeps its "
        "speed. The interactive chart (hover for values, zoom) costs the browser ~5× more CPU per redraw, which a "
        "laptop takes from the run. Finished runs always get the interactive chart.",
    )
    shown = Shown(active is not None, log_scale, interactive)
    timers = shown.ticking and not shown.panel
    st.fragment(live, run_every=LIVE_SECONDS if timers else None)(shown)
    st.fragment(network_live, run_every=max(REDRAW_SECONDS, LIVE_SECONDS) if timers else None)(shown)
    runs_table(manager, sid)


n_test = len(data.test_labels) if data is not None else 10_000
# Chromium repaints every frame of an animation in software: the progress bar's slide and the status
# icon cost the training run more CPU than everything else on the page. Draw them still.
st.html(
    "<style>[data-testid='stProgress'] *, [data-testid='stStatusWidget'] *"
    " {transition: none !important; animation: none !important;}</style>"
)
train_section()
link_note(PAGE, "It holds the network and the training settings; training runs stay with this browser.")
publish(PAGE, FIELDS)
