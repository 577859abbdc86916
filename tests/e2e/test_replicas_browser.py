"""The replica recipe (deploy/replicas) in Chromium: two replicas behind HAProxy sharing one runs folder.

One session uploads an image and trains through the proxy; every request of it reaches one replica
(affinity). Then that replica is killed mid-run: the student's page moves to the other replica and
shows a page, no traceback, the finished run still counted and the run that was training interrupted.
down.sh leaves no process. Locally a missing HAProxy skips the test; under CI=true it fails it.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.browser import LOGS, free_port, need_chromium, shot, wait_idle
from tests.e2e.test_run_faults_browser import EPOCH_NOW, no_traceback
from tests.fakedata import write_fake_fashion_mnist
from tests.proctree import descendants, process, wait_all_gone
from tests.replica_recipe import HAPROXY, RECIPE, free_ports, need_haproxy


@dataclass
class Recipe:
    url: str
    state: Path
    env: dict

    def pid(self, name: str) -> int:
        return int((self.state / f"{name}.pid").read_text())

    def processes(self) -> list:
        """Every process up.sh started and still running, with their descendants."""
        found = []
        for pidfile in self.state.glob("*.pid"):
            pid = int(pidfile.read_text())
            found += [p for p in [process(pid), *descendants(pid)] if p is not None]
        return found

    def down(self) -> subprocess.CompletedProcess:
        return subprocess.run([RECIPE / "down.sh"], env=self.env, capture_output=True, text=True, timeout=120)

    def proxy_log(self) -> str:
        return (self.state / "haproxy.log").read_text(errors="replace")


def start_recipe(tmp_path, *flags: str):
    """up.sh 2 (with ``flags``) on free ports and fake data; yields the Recipe, and down.sh after."""
    need_chromium()
    need_haproxy()
    data = write_fake_fashion_mnist(tmp_path / "data", n_train=3000, n_test=500)
    state, proxy = tmp_path / "state", free_port()
    env = {**os.environ, "REPLICAS_STATE_DIR": str(state), "REPLICAS_PROXY_PORT": str(proxy),
           "REPLICAS_FIRST_PORT": str(free_ports(2)), "STREAMLIT": str(Path(sys.executable).with_name("streamlit")),
           "HAPROXY": HAPROXY, "PLAYGROUND_DATA_DIR": str(data), "PLAYGROUND_RUNS_DIR": str(tmp_path / "runs"),
           "RAY": str(Path(sys.executable).with_name("ray")),
           "REPLICAS_RAY_PORT": str(free_port())}  # an ephemeral port: outside Ray's worker range  # fmt: skip
    LOGS.extend([state / "replica-r1.log", state / "replica-r2.log", state / "haproxy.log", state / "ray.log"])
    up = subprocess.run([RECIPE / "up.sh", "2", *flags], env=env, capture_output=True, text=True, timeout=240)
    recipe = Recipe(f"http://127.0.0.1:{proxy}", state, env)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"at {recipe.url}" in up.stdout  # the URL to give the students
        yield recipe
    finally:
        recipe.down()  # again after the test's own: stops whatever a failure left


@pytest.fixture
def recipe(tmp_path):
    yield from start_recipe(tmp_path)


@pytest.fixture
def ray_recipe(tmp_path):
    pytest.importorskip("ray", reason="the Ray backend needs ray (pip install -r requirements.txt)")
    yield from start_recipe(tmp_path, "--ray")


def replica_of(page) -> str:
    """The replica the proxy's cookie sends this browser to (r1, r2)."""
    (value,) = [c["value"] for c in page.context.cookies() if c["name"] == "CNNPG_REPLICA"]
    return value


def test_a_session_stays_on_one_replica_and_survives_its_death(page, recipe):
    t0 = time.monotonic()
    start = len(recipe.proxy_log())  # up.sh's own health check came before
    page.goto(f"{recipe.url}/Convolution_explorer")
    page.locator(".st-key-cx_s_Convolution img").wait_for(timeout=90_000)
    wait_idle(page)
    page.locator(".st-key-cx_source label", has_text="Upload").click()
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 30, 30)).save(buf, "PNG")
    page.locator(".st-key-cx_upload input[type=file]").set_input_files(
        files=[{"name": "red-rectangle.png", "mimeType": "image/png", "buffer": buf.getvalue()}]
    )
    page.get_by_text("Input: red-rectangle.png, 300×200 px").wait_for(timeout=30_000)
    wait_idle(page)
    images = page.evaluate("() => [...document.images].map(i => i.complete && i.naturalWidth > 0)")
    assert images and all(images)  # every picture (/media/… through the proxy) arrived

    page.goto(f"{recipe.url}/Training_studio?net=tiny&epochs=1&images=1000")
    page.get_by_text("1 · The network").wait_for(timeout=90_000)
    wait_idle(page)
    page.locator(".st-key-ts_train button").click()
    page.get_by_text("Run 1 finished").wait_for(timeout=120_000)
    print(f"\nupload and run 1 through the proxy: {time.monotonic() - t0:.1f} s")

    held = replica_of(page)
    log = recipe.proxy_log()[start:]
    assert "/_stcore/upload_file" in log and "/media/" in log
    assert set(re.findall(r" replicas/(r\d+) ", log)) == {held}  # every request of the session: one replica

    # A student of the other replica (the proxy's cookie names it), with the studio open.
    other = page.context.browser.new_context(viewport={"width": 1600, "height": 1400})
    elsewhere = "r2" if held == "r1" else "r1"
    other.add_cookies([{"name": "CNNPG_REPLICA", "value": elsewhere, "url": recipe.url}])
    neighbour, closed = other.new_page(), []
    neighbour.on("websocket", lambda ws: ws.on("close", lambda _: closed.append(ws.url)))
    neighbour.goto(f"{recipe.url}/Training_studio")
    neighbour.get_by_text("No run yet").wait_for(timeout=90_000)

    # Run 2 trains long enough to be caught mid-run (the classic network, every image, 30 epochs: the tiny
    # one trained 30 epochs of 1,000 images in 3 s on a fast machine); then its replica dies (as if the
    # kernel killed it).
    page.goto(f"{recipe.url}/Training_studio?epochs=30")
    page.get_by_text("1 · The network").wait_for(timeout=90_000)
    wait_idle(page)
    page.locator(".st-key-ts_train button").click()
    page.wait_for_function(f"() => {{ const [n, e] = ({EPOCH_NOW})(); return n === 2 && e >= 1.2; }}",
                           timeout=90_000)  # fmt: skip
    victim = recipe.pid(f"replica-{held}")
    tree = [process(victim), *descendants(victim)]
    killed = time.monotonic()
    os.kill(victim, signal.SIGKILL)

    # The open tab reconnects through the proxy to the other replica, which shows the run interrupted.
    said = page.get_by_text("Run 2 was interrupted")
    said.wait_for(timeout=60_000)
    print(f"replica {held} killed mid-run: after {time.monotonic() - killed:.1f} s the open tab said, "
          f"without a reload: {said.inner_text()!r}")  # fmt: skip
    assert "the weights of its last evaluation are kept" in said.inner_text()
    page.reload()
    page.get_by_text("Run 2 was interrupted").wait_for(timeout=90_000)
    wait_idle(page)
    no_traceback(page)
    assert replica_of(page) != held
    legend_js = "() => [...document.querySelectorAll('.st-key-ts_curves .legendtext')].map(e => e.textContent)"
    page.wait_for_function(f"() => ({legend_js})().some(t => t.startsWith('Run 2'))",
                           timeout=30_000)  # plotly draws it late; a label also names what differed  # fmt: skip
    legend = page.evaluate(legend_js)
    assert {t.split(" · ")[0] for t in legend} == {"Run 1", "Run 2"}, legend  # the finished run too, from disk
    shot(page, "replicas-after-kill")
    assert wait_all_gone([p for p in tree if p is not None], 20) == []  # its training process went with it
    survivor = (recipe.state / f"replica-{elsewhere}.log").read_text(errors="replace")
    assert "Traceback" not in survivor
    assert closed == [] and replica_of(neighbour) == elsewhere  # the other replica's students noticed nothing
    neighbour.get_by_text("No run yet").wait_for(timeout=5_000)
    other.close()

    everything = recipe.processes()
    down = recipe.down()
    assert down.returncode == 0, down.stderr
    assert wait_all_gone(everything, 10) == [] and not list(recipe.state.glob("*.pid"))
    print(f"whole test: {time.monotonic() - t0:.1f} s")


def test_with_ray_the_replicas_runs_train_on_the_shared_cluster(page, ray_recipe, tmp_path):
    """up.sh --ray: a local Ray head; a run started through the proxy trains on it and finishes in the page."""
    page.goto(f"{ray_recipe.url}/Training_studio?net=tiny&epochs=1&images=1000")
    page.get_by_text("1 · The network").wait_for(timeout=90_000)
    wait_idle(page)
    page.locator(".st-key-ts_train button").click()
    page.get_by_text("Run 1 finished").wait_for(timeout=180_000)
    no_traceback(page)
    (record,) = [json.loads(f.read_text()) for f in (tmp_path / "runs").glob("*/run.json")]
    assert record["status"] == "finished" and re.fullmatch(r"[0-9a-f]{56}", record["node"] or "")  # a Ray node id
    everything, ray_tmp = ray_recipe.processes(), (ray_recipe.state / "ray.tmpdir").read_text().strip()
    assert ray_recipe.down().returncode == 0
    assert wait_all_gone(everything, 30) == []  # replicas and proxy
    deadline = time.monotonic() + 30
    while (left := ray_processes(ray_tmp)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert left == []  # the Ray head's daemons and workers


def ray_processes(tmp: str) -> list[int]:
    """Live (not zombie) processes whose command line names the Ray head's temporary folder."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            ours = proc.name.isdigit() and tmp.encode() in (proc / "cmdline").read_bytes()
            if ours and (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                found.append(int(proc.name))
        except OSError:
            continue
    return found
