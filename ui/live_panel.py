"""The studio's live panels: the newest run's progress and curves, and its network at work, kept fresh by the browser.

While a run trains, each panel fetches ``ui.live_route``'s JSON every few seconds, and a picture when it has changed
and the panel is in sight, and redraws itself: no Streamlit rerun, so none of Streamlit's passes over the page that a
rerun costs the browser. A panel scrolled away fetches no picture, so the server draws none for it. When the run
reaches what the page must draw differently (paused, a step taken, its evaluation, its end), the run's panel asks for
a rerun and the page takes over.
"""

from __future__ import annotations

import streamlit as st

from playground.render.curve_picture import curves_picture, progress_text
from playground.render.pictures import Picture
from playground.train.run import Run
from playground.train.runs import ACTIVE, RunSnapshot, Status
from ui.live_route import ROOT
from ui.live_view import Watched, picture_caption
from ui.run_status import describe
from ui.run_table import PAUSABLE, labelled

SHOWN = 6  # runs on the curves, newest last (as the studio's chart)

HTML = {
    "run": """<div class="cnnpg-live"><p class="cnnpg-text"></p><div class="cnnpg-bar" hidden><div></div></div>
  <figure><img data-picture="curves" alt=""><figcaption></figcaption></figure></div>""",
    "network": """<div class="cnnpg-live"><p class="cnnpg-note"></p>
  <img data-picture="filters" alt="The first layer's filters"><img data-picture="network" alt=""></div>""",
}
CSS = """
.cnnpg-live { font: inherit; color: inherit; }
.cnnpg-text { margin: 0 0 0.25rem; }
.cnnpg-bar { height: 0.5rem; border-radius: 0.25rem; background: var(--st-secondary-background-color, #f0f2f6); }
.cnnpg-bar > div { height: 100%; border-radius: 0.25rem; background: var(--st-primary-color, #ff4b4b); }
.cnnpg-live[data-kind="info"] .cnnpg-text { padding: 0.75rem 1rem; border-radius: 0.5rem;
  background: rgba(28, 131, 225, 0.1); }
.cnnpg-live figure { margin: 1rem 0 0; }
.cnnpg-live img { display: block; max-width: 100%; margin: 0 0 1rem; }
.cnnpg-live img:not([src]) { display: none; }
.cnnpg-live figcaption { font-size: 0.875em; opacity: 0.7; text-align: center; }
.cnnpg-note { margin: 0 0 0.5rem; font-size: 1rem; color: rgba(49, 51, 63, 0.85); }  /* as ui.common's captions */
.cnnpg-live[data-kind="warning"] .cnnpg-note { opacity: 1; padding: 0.75rem 1rem; border-radius: 0.5rem;
  background: rgba(255, 189, 69, 0.2); }
"""
JS = """
export default function (component) {
  const { data, parentElement, setTriggerValue } = component
  const root = parentElement.querySelector(".cnnpg-live")
  const at = (path) => new URL(path, document.baseURI)  // the routes sit beside the page's own address
  const drawn = {}, latest = {}  // picture name -> the version shown, the newest version
  let timer = null, done = false, seen = false
  const picture = (name) => {  // the newest version of a picture, fetched only while the panel is in sight
    const img = root.querySelector(`img[data-picture="${name}"]`), version = latest[name]
    if (!version) img.removeAttribute("src")
    else if (drawn[name] === version || !seen) return
    else img.src = at(`${data.root}/${name}.png?v=${encodeURIComponent(version)}&log=${data.log ? 1 : 0}`)
    drawn[name] = version
  }
  const pictures = (versions) => {
    Object.assign(latest, versions)
    Object.keys(versions).forEach(picture)
  }
  // A panel scrolled out of sight (beyond half a screen) fetches no picture, so the server draws none for it; back
  // in sight, it fetches the newest at once.
  const sight = new IntersectionObserver(([entry]) => {
    seen = entry.isIntersecting
    Object.keys(latest).forEach(picture)
  }, { rootMargin: "50% 0px" })
  sight.observe(root)
  const show = (s) => {
    root.dataset.kind = s.kind
    if (data.part === "run") {
      root.querySelector(".cnnpg-text").textContent = s.text
      const bar = root.querySelector(".cnnpg-bar")
      bar.hidden = s.progress === null
      if (s.progress !== null) bar.firstElementChild.style.width = `${(100 * s.progress).toFixed(1)}%`
      root.querySelector("figcaption").textContent = root.querySelector("img").alt = s.caption
      pictures({ curves: s.curves })
    } else {
      root.querySelector(".cnnpg-note").textContent = s.text
      root.querySelector('img[data-picture="network"]').alt = s.text
      pictures({ filters: s.filters, network: s.network })
    }
  }
  const tick = async () => {
    try {
      const answer = await fetch(at(`${data.root}/${data.part}.json?n=${data.n}`), { cache: "no-store" })
      if (answer.ok && !done) {
        const s = await answer.json()
        show(s)
        if (s.page !== data.now.page) {  // the page draws something else now: a rerun draws it
          done = true
          setTriggerValue("page", s.page)
        }
      }
    } catch (e) {}  // the server restarting, a network blip: the next tick tries again
    if (!done) timer = setTimeout(tick, wait())
  }
  // The network's panel looks as often as the run's until there are pictures, then every data.seconds.
  const wait = () => 1000 * (data.part === "network" && !latest.network ? data.soon : data.seconds)
  show(data.now)
  timer = setTimeout(tick, wait())
  return () => { done = true; clearTimeout(timer); sight.disconnect() }
}
"""
# One component a part, the same code: in the page's own DOM, so its text is the page's (for find-in-page, and tests).
_panels = {part: st.components.v2.component(f"cnn_playground_live_{part}", html=html, css=CSS, js=JS,
                                            isolate_styles=False) for part, html in HTML.items()}  # fmt: skip


def _page(now: RunSnapshot | None) -> str:
    """What the page itself draws around the panels for the newest run, ``now``: when it changes, the page must
    rerun."""
    if now is None or now.status not in ACTIVE:
        return "ended"
    if now.status == Status.PAUSED:  # Resume, One step (enabled once it stands still) and that step's loss
        return f"paused|{now.halted is None}|{now.stepped}"
    return "pausable" if now.status in PAUSABLE else "busy"  # Pause, or no pause controls


def live_state(runs: list[Run], n_test: int) -> dict:
    """What the run's panel shows of ``runs`` (an owner's, oldest first) now, as JSON-ready values.

    ``curves`` changes whenever the curves have new points; ``page`` as ``_page`` says.
    """
    if not runs:
        return {"page": "ended", "kind": "info", "text": "", "progress": None, "caption": "", "curves": ""}
    label, now = labelled(runs)[0][-1]
    line = describe(now, len(runs), n_test)
    h = now.history
    return {
        "page": _page(now),
        "kind": line.kind,
        "text": line.text,
        "progress": line.progress,
        "caption": progress_text(label, h, now.config.epochs),
        "curves": f"{now.id}|{len(runs)}|{len(h['step'])}|{len(h['eval_step'])}",
    }


def network_state(runs: list[Run], view: Watched | None) -> dict:
    """What the network's panel shows: ``watched``'s words, and versions of its pictures ("" for none)."""
    state = {"kind": "caption", "text": "", "filters": "", "network": ""}  # (no "page": the run's panel says it)
    if view is None:
        return state
    if view.caption or view.warning:
        return state | {"kind": "warning" if view.warning else "caption", "text": view.warning or view.caption}
    return state | {"text": picture_caption(view), "filters": view.key if view.filters is not None else "",
                    "network": view.key if view.network is not None else ""}  # fmt: skip


def last_runs(runs: list[Run]) -> list[tuple[str, RunSnapshot]]:
    """The last SHOWN runs as (label, snapshot), labels naming what differed ("Run 2 · lr 0.01"): the curves' runs."""
    return labelled(runs)[0][-SHOWN:]


def curves_of(snapshots: list[tuple[str, RunSnapshot]], log_scale: bool) -> Picture:
    """The picture of ``last_runs``' curves, the newest's x axis running to its planned epochs."""
    return curves_picture([(label, s.history) for label, s in snapshots], log_scale, snapshots[-1][1].config.epochs)


def live_curves(runs: list[Run], log_scale: bool) -> Picture | None:
    """The curves' picture as the run's panel shows it (None with no run)."""
    return curves_of(last_runs(runs), log_scale) if runs else None


def live_panel(part: str, now: dict, seconds: float, key: str, *, soon: float | None = None, log_scale: bool = False,
               n_test: int = 10_000) -> None:  # fmt: skip
    """A panel (``part`` "run" or "network") showing ``now`` (``live_state`` or ``network_state``), refreshed by the
    browser every ``seconds`` (every ``soon`` while the network has no pictures yet); the run's panel asks for a rerun
    when the page must change."""
    data = {"part": part, "now": now, "seconds": seconds, "soon": soon or seconds, "log": log_scale, "n": n_test,
            "root": ROOT.lstrip("/")}  # fmt: skip
    _panels[part](data=data, key=key, on_page_change=lambda: None)
