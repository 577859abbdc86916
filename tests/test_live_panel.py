"""The studio's live panels: what they show, the routes they fetch it from, and the page drawing them.

The routes' handlers are called with real Starlette requests (a cookie, a query string); the panels' JavaScript runs
in ``tests/e2e/test_live_panel_browser.py``.
"""

import io
import json
import time

import pytest
from PIL import Image
from starlette.requests import Request

from playground.train.status import Status
from tests.test_page_training import page
from tests.test_run_status import HISTORY, OWNER, FakeManager, FakeRun, serve, snap
from tests.test_run_status import manager as manager
from ui import live_route
from ui.live_panel import live_state
from ui.state import COOKIE

BROWSER = "b" * 43  # a browser id as ui.state hands them out (and as the cookie must hold it)
LONGER = HISTORY | {"step": [*HISTORY["step"], 4], "loss": [*HISTORY["loss"], 1.7]}


def runs(*snapshots) -> list[FakeRun]:
    return [FakeRun(s) for s in snapshots]


def test_the_run_panel_says_what_the_status_line_says():
    state = live_state(runs(snap(Status.FINISHED, accuracy=0.5), snap(Status.RUNNING)), 200)
    assert state["text"] == "Running: 42% · 1,234 images/s, about 17 s left"
    assert state["kind"] == "progress" and state["progress"] == 0.42
    assert state["caption"].startswith("Run 2: epoch 1 of 3, training loss")  # the caption under the curves
    queued = live_state(runs(snap(Status.QUEUED, position=2, progress=0.0, eta=None)), 200)
    assert queued["kind"] == "info" and queued["progress"] is None and "position 2 in the queue" in queued["text"]


def test_the_curves_version_changes_with_new_points_only():
    now = live_state(runs(snap(Status.RUNNING)), 200)["curves"]
    assert live_state(runs(snap(Status.RUNNING, progress=0.5, rate=999.0)), 200)["curves"] == now  # same points
    assert live_state(runs(snap(Status.RUNNING, history=LONGER)), 200)["curves"] != now


@pytest.mark.parametrize(
    ("now", "page_says"),
    [(snap(Status.QUEUED), "busy"), (snap(Status.STARTING), "pausable"), (snap(Status.RUNNING), "pausable"),
     (snap(Status.PAUSED), "paused|True|None"), (snap(Status.PAUSED, halted=(3, 1.8)), "paused|False|None"),
     (snap(Status.EVALUATING), "busy"), (snap(Status.FINISHED, accuracy=0.5), "ended"),
     (snap(Status.FAILED, error="x"), "ended")],
)  # fmt: skip
def test_the_panel_asks_for_a_rerun_exactly_when_the_page_must_change(now, page_says):
    """The page draws Pause while starting or running (no rerun as training begins); Resume and One step (enabled
    once halted) while paused; results once ended."""
    assert live_state(runs(now), 200)["page"] == page_says


def request(path: str, cookie: str | None = BROWSER, query: str = "", **params) -> Request:
    headers = [(b"cookie", f"{COOKIE}={cookie}".encode())] if cookie else []
    return Request({"type": "http", "method": "GET", "path": path, "query_string": query.encode(), "headers": headers,
                    "path_params": params})  # fmt: skip


@pytest.fixture
def owned(monkeypatch):
    """The server's run manager holds BROWSER's two runs, the newest training."""
    fakes = runs(snap(Status.FINISHED, accuracy=0.5), snap(Status.RUNNING))
    for run in fakes:
        run.owner = BROWSER
    manager = FakeManager(fakes)
    manager.runs_for = lambda owner: list(fakes) if owner == BROWSER else []
    serve(monkeypatch, manager)


def test_the_route_answers_the_cookies_browser_alone(owned):
    mine = json.loads(live_route.run_json(request("/_live/run.json", query="n=200")).body)
    assert mine["text"].startswith("Running: 42%") and mine["page"] == "pausable"
    for cookie in (None, "c" * 43, "not a token"):  # no cookie, another browser, a cookie we never handed out
        theirs = json.loads(live_route.run_json(request("/_live/run.json", cookie)).body)
        assert theirs["text"] == "" and theirs["page"] == "ended"
        assert live_route.picture(request("/_live/curves.png", cookie, name="curves")).status_code == 404


def test_the_curves_route_draws_the_picture(owned):
    answer = live_route.picture(request("/_live/curves.png", query="log=1&v=x", name="curves"))
    assert answer.status_code == 200 and answer.media_type == "image/png"
    assert answer.headers["cache-control"] == "no-store"
    assert Image.open(io.BytesIO(answer.body)).size == (1400, 470)
    assert live_route.picture(request("/_live/x.png", name="text")).status_code == 404  # not a picture's name


def test_the_network_route_serves_a_real_runs_evaluated_weights(fake_data, manager, monkeypatch):
    """A real run on generated data: before its first evaluation, words; after it, the two pictures, versioned."""
    from playground.train.loop import TrainConfig
    from playground.train.models import PRESETS
    from ui.live_view import watched
    from ui.server import loaded

    before = json.loads(live_route.network_json(request("/_live/network.json")).body)
    assert before == {"kind": "caption", "text": "", "filters": "", "network": ""}  # no run yet: nothing
    run = manager.submit(BROWSER, PRESETS["Tiny (fast demo)"], TrainConfig(epochs=30), loaded())
    deadline = time.monotonic() + 90
    while manager.evaluated(run) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert run.pause()  # it stands still: no evaluation comes between the reads below
    while run.snapshot().halted is None and time.monotonic() < deadline:
        time.sleep(0.1)
    state = json.loads(live_route.network_json(request("/_live/network.json")).body)
    assert state["text"].startswith("The newest run, as of its evaluation at step") and state["filters"]
    assert state["network"] == state["filters"] and state["filters"].startswith(run.id)
    drawn = watched(manager, [run], loaded().test_images)  # what the page's own view draws of these weights
    for name in ("filters", "network"):
        answer = live_route.picture(request(f"/_live/{name}.png", name=name))
        assert answer.status_code == 200 and answer.body == getattr(drawn, name).data
        assert Image.open(io.BytesIO(answer.body)).width > 50
    run.stop()


def panels(at) -> dict[str, dict]:
    """The live panels on the page: their part, and the data they were drawn with."""
    live = [e for e in at.get("bidi_component") if e.proto.component_name.startswith("cnn_playground_live_")]
    drawn = (json.loads(e.proto.json) for e in live)
    return {d["part"]: d["now"] for d in drawn}


@pytest.mark.parametrize("mounted", [True, False])
def test_the_studio_draws_the_panels_only_with_the_routes(fake_data, monkeypatch, mounted):
    """Under serve.py the panels and no timers; under `streamlit run app.py` the fragments' own status line."""
    serve(monkeypatch, FakeManager(runs(snap(Status.FINISHED, accuracy=0.5), snap(Status.RUNNING))))
    monkeypatch.setattr(live_route, "mounted", mounted)
    at = page("2_Training_studio.py")
    at.session_state["browser_id"] = OWNER
    at.run()
    assert not at.exception, at.exception
    progress = [p.proto.text for p in at.get("progress")]
    if mounted:
        assert panels(at)["run"]["text"] == "Running: 42% · 1,234 images/s, about 17 s left" and not progress
        assert panels(at)["network"]["text"] == "The network appears here after the run's first evaluation."
        assert "ts_pause" in [b.key for b in at.button]  # the page's own controls beside the panel
    else:
        assert not panels(at) and progress == ["Running: 42% · 1,234 images/s, about 17 s left"]


def test_pause_shows_while_the_run_starts_and_says_so_if_pressed_too_soon(fake_data, monkeypatch):
    """Pause is there from the start (the page is not redrawn as training begins); pressed before the training
    process runs, it says why nothing happened."""
    serve(monkeypatch, FakeManager(runs(snap(Status.STARTING, progress=0.0, eta=None))))
    at = page("2_Training_studio.py")
    at.session_state["browser_id"] = OWNER
    at.run()
    at.button(key="ts_pause").click().run()  # FakeRun.pause answers None: not paused
    assert [i.value for i in at.info if "Pause" in i.value] == [
        "The run is still starting its training process: Pause once it trains."]


def test_a_request_for_a_browser_with_no_run_does_not_load_the_dataset(monkeypatch):
    import ui.server

    serve(monkeypatch, FakeManager([]))
    monkeypatch.setattr(ui.server, "loaded", lambda: pytest.fail("a request loaded the dataset"))
    assert json.loads(live_route.network_json(request("/_live/network.json")).body)["network"] == ""
    assert live_route.picture(request("/_live/network.png", name="network")).status_code == 404
