"""The Training studio's live panels over plain HTTP: what they fetch while their browser's run trains.

``serve.py`` mounts these routes. Redrawing the progress line by a Streamlit rerun costs the browser about eight of
Streamlit's passes over the page (~0.1-0.15 s of CPU, which a laptop takes from the run); fetching a small JSON, and
a picture when it has changed, costs it a few milliseconds (see ``ui.live_panel``). The browser is known by its
cookie (``ui.state``): a page sees only its own browser's runs.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# The pages' modules are imported by the handlers, on the first request: serve.py imports this module before
# Streamlit's runtime exists, and their caches would be made without it.

ROOT = "/_live"  # the routes: f"{ROOT}/run.json", f"{ROOT}/network.json", f"{ROOT}/<picture>.png"
PICTURES = ("curves", "filters", "network")
mounted = False  # set once serve.py has mounted the routes: the studio then draws the live panels
FRESH = {"Cache-Control": "no-store"}


def _runs(request: Request) -> list:
    from ui import server
    from ui.state import COOKIE, browser_of

    owner = browser_of(request.cookies.get(COOKIE))
    return server.run_manager().runs_for(owner) if owner else []


def _watched(runs: list):
    from ui import server
    from ui.live_view import watched

    if not runs:  # (before the dataset: a request must not be what loads it)
        return None
    data = server.loaded()
    return watched(server.run_manager(), runs, data.test_images) if data is not None else None


def run_json(request: Request) -> Response:
    """The newest run's status line, and a version of its curves that changes when they have new points."""
    from ui.live_panel import live_state

    n = request.query_params.get("n", "")
    n_test = min(int(n), 10**6) if n.isdigit() else 10_000
    return JSONResponse(live_state(_runs(request), n_test), headers=FRESH)


def network_json(request: Request) -> Response:
    """Watch it learn's words, and versions of its two pictures that change with each evaluation."""
    from ui.live_panel import network_state

    runs = _runs(request)
    return JSONResponse(network_state(runs, _watched(runs)), headers=FRESH)


def picture(request: Request) -> Response:
    """One of the panels' pictures as it is now (the ``v`` its URL carries only defeats caches), or 404."""
    from ui.live_panel import live_curves

    name, runs = request.path_params["name"], _runs(request)
    if name == "curves":
        drawn = live_curves(runs, request.query_params.get("log") == "1")
    else:
        view = _watched(runs)
        drawn = getattr(view, name, None) if name in PICTURES else None
    if drawn is None:
        return Response(status_code=404, headers=FRESH)
    return Response(drawn.data, media_type=f"image/{drawn.format.lower()}", headers=FRESH)


def routes() -> list[Route]:
    """The routes for ``st.App``; calling it tells the studio they are there."""
    global mounted
    mounted = True
    return [Route(f"{ROOT}/run.json", run_json), Route(f"{ROOT}/network.json", network_json),
            Route(ROOT + "/{name}.png", picture)]  # fmt: skip
