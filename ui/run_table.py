"""The Training studio's runs: labels that name what differed, the comparison table, rename and delete, and the
Pause / Resume / One step buttons of a training run."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from playground.train.compare import NAME_MAX, differing, run_label, settings_of
from playground.train.runs import ACTIVE, Run, RunError, RunManager, RunSnapshot, Status
from ui.keys import STUDIO

P = STUDIO.prefix


def labelled(runs: list[Run]) -> tuple[list[tuple[str, RunSnapshot]], list[str], list[dict[str, str]]]:
    """Each run's label (its name or "Run N", and its values of the settings that differ) and snapshot; the
    differing settings' names; every run's settings."""
    settings = [settings_of(r.spec, r.config) for r in runs]
    keys = differing(settings)
    snaps = [r.snapshot() for r in runs]
    return [(run_label(i + 1, s.name, settings[i], keys), s) for i, s in enumerate(snaps)], keys, settings


def _number(x, text: str) -> str:
    return text.format(x) if isinstance(x, int | float) and math.isfinite(x) else "—"


def comparison_frame(runs: list[Run]) -> pd.DataFrame:
    """One row per run: its name, the settings that differ between the runs, and how it did."""
    rows, keys, settings = labelled(runs)
    table = []
    for i, (_, s) in enumerate(rows):
        ended = s.status not in ACTIVE  # while it trains, its state and images/s are in the live status line
        table.append({"run": s.name or f"Run {i + 1}", **{k: settings[i][k] for k in keys},
                      "test accuracy": _number(s.accuracy, "{:.2%}"), "training time": _number(s.seconds, "{:,.1f} s"),
                      "images/s": _number(s.images_per_sec if ended else None, "{:,.0f}"),
                      "status": str(s.status) if ended else "in progress: see above"})  # fmt: skip
    return pd.DataFrame(table)


def _picked(manager: RunManager, owner: str) -> Run | None:
    return next((r for r in manager.runs_for(owner) if r.id == st.session_state.get(f"{P}_pick")), None)


def _manage(manager: RunManager, owner: str, action: str) -> None:
    """Rename's and Delete's callback: the outcome, or the refusal's sentence, is shown under the buttons."""
    ss, run = st.session_state, _picked(manager, owner)
    try:
        if run is None:
            raise RunError("Choose one of your runs first.")
        if action == "rename":
            manager.rename(owner, run, ss[f"{P}_name"])
            ss[f"{P}_name"] = ""
            done = f"Renamed to “{run.name}”." if run.name else "The run's name is cleared."
        else:
            manager.delete(owner, run)
            done = "The run is deleted, with its folder in the runs folder."
        ss[f"{P}_managed"] = ("success", done)
    except RunError as e:
        ss[f"{P}_managed"] = ("warning", str(e))


def runs_table(manager: RunManager, owner: str) -> None:
    """The comparison table of ``owner``'s runs, then a run's Rename and Delete."""
    runs = manager.runs_for(owner)
    if not runs:
        return
    st.subheader("4 · Your runs, side by side")
    frame = comparison_frame(runs)
    st.dataframe(frame, hide_index=True, key=f"{P}_runs_table", width="stretch")
    st.caption("Only the settings that differ between your runs get a column; the chart's legend names them too."
               if len(runs) > 1 else "Train another run with different settings to see here what changed.")  # fmt: skip
    ss, labels = st.session_state, {s.id: label for label, s in labelled(runs)[0]}
    if ss.get(f"{P}_pick") not in labels:
        ss[f"{P}_pick"] = list(labels)[-1]
    a, b, c, d = st.columns([2, 2, 1, 1], vertical_alignment="bottom")
    a.selectbox("Run", list(labels), format_func=labels.get, key=f"{P}_pick")
    b.text_input(f"New name (at most {NAME_MAX} characters; empty: none)", key=f"{P}_name",
                 placeholder="e.g. high learning rate")  # fmt: skip
    c.button("✎ Rename", key=f"{P}_rename", on_click=_manage, args=(manager, owner, "rename"))
    d.button("🗑 Delete", key=f"{P}_delete", on_click=_manage, args=(manager, owner, "delete"),
             help="Removes the run and its saved model. A queued, training or paused run must be stopped first.")
    if managed := ss.pop(f"{P}_managed", None):
        getattr(st, managed[0])(managed[1])


def _step(run: Run) -> None:
    """One step's callback: waits briefly for the batch, so the rerun it triggers shows its loss."""
    run.step_once(timeout=3.0)


PAUSABLE = (Status.STARTING, Status.RUNNING)  # Pause shows from the start: no redraw of the page as training begins


def _pause(run: Run) -> None:
    if not run.pause():
        st.session_state[f"{P}_pause_note"] = "The run is still starting its training process: Pause once it trains."


def pause_controls(run: Run) -> None:
    """Pause while ``run`` starts or trains; Resume and One step (with that step's loss beside it) once paused."""
    now = run.snapshot()
    if now.status not in (*PAUSABLE, Status.PAUSED):
        return
    slot = "A paused run keeps its place among the runs this server trains at once: Resume or Stop it to free it."
    if now.status in PAUSABLE:  # one element, not a row of columns: it is redrawn every few seconds
        st.button("⏸ Pause", key=f"{P}_pause", on_click=_pause, args=(run,), help=slot)
        if note := st.session_state.pop(f"{P}_pause_note", None):
            st.info(note)
    else:
        pause, step, loss = st.columns([1, 1, 3], vertical_alignment="center")
        pause.button("▶ Resume", key=f"{P}_resume", on_click=run.resume, help=slot)
        step.button("⏭ One step", key=f"{P}_step", on_click=_step, args=(run,), disabled=now.halted is None,
                      help="Trains exactly one batch, then waits again.")  # fmt: skip
        if now.stepped is not None:
            loss.markdown(f"One step: **step {now.stepped[0]:,}**, that batch's loss **{now.stepped[1]:.4f}**")
