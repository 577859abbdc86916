"""deploy/replicas/up.sh and down.sh without a browser: arguments, --ray's plumbing (with a stand-in for
``ray``), PLAYGROUND_* passed to every replica, and down.sh leaving no process, run twice.

The browser test (tests/e2e/test_replicas_browser.py) drives the recipe through the proxy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.browser import free_port
from tests.proctree import descendants, process, wait_all_gone
from tests.replica_recipe import HAPROXY, RECIPE, free_ports, need_haproxy

# Stands in for `ray start`: says how it was called, and leaves a daemon behind as Ray's head does.
FAKE_RAY = """#!/usr/bin/env bash
echo "$* RAY_TMPDIR=$RAY_TMPDIR" >"$FAKE_RAY_LOG"
sleep 600 </dev/null >/dev/null 2>&1 &
echo $! >>"$FAKE_RAY_LOG"
"""


def run(script: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([RECIPE / script, *args], env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture
def env(tmp_path):
    need_haproxy()
    ray = tmp_path / "ray"
    ray.write_text(FAKE_RAY)
    ray.chmod(0o755)
    env = {**os.environ, "REPLICAS_STATE_DIR": str(tmp_path / "state"), "REPLICAS_PROXY_PORT": str(free_port()),
           "REPLICAS_FIRST_PORT": str(free_ports(1)), "STREAMLIT": str(Path(sys.executable).with_name("streamlit")),
           "HAPROXY": HAPROXY, "RAY": str(ray), "REPLICAS_RAY_PORT": "7391", "FAKE_RAY_LOG": str(tmp_path / "ray.log"),
           "PLAYGROUND_RUNS_DIR": str(tmp_path / "runs"), "PLAYGROUND_KEEP_RUNS": "7"}  # fmt: skip
    yield env
    run("down.sh", env=env)


@pytest.mark.parametrize("args", [["0"], ["two"], ["2", "--rays"]])
def test_bad_arguments_are_refused_before_anything_starts(env, args):
    result = run("up.sh", *args, env=env)
    assert result.returncode == 2 and ("usage" in result.stderr or "from 1 to 32" in result.stderr)
    assert not Path(env["REPLICAS_STATE_DIR"]).exists()


def test_ray_address_and_settings_reach_every_replica_and_down_leaves_nothing(env):
    up = run("up.sh", "1", "--ray", env=env)
    assert up.returncode == 0, up.stderr
    state = Path(env["REPLICAS_STATE_DIR"])
    called, daemon = Path(env["FAKE_RAY_LOG"]).read_text().splitlines()
    assert called.startswith("start --head --port=7391 ") and "--num-cpus=2" in called
    ray_tmp = called.rsplit("RAY_TMPDIR=", 1)[1]
    assert ray_tmp.startswith("/tmp/ray") and len(ray_tmp) < 20  # short: Ray's socket paths live under it
    replica = int((state / "replica-r1.pid").read_text())
    environ = dict(v.split("=", 1) for v in Path(f"/proc/{replica}/environ").read_text().split("\0") if "=" in v)
    assert environ["PLAYGROUND_RAY_ADDRESS"] == "127.0.0.1:7391" and environ["PLAYGROUND_KEEP_RUNS"] == "7"
    assert environ["PLAYGROUND_RUNS_DIR"] == env["PLAYGROUND_RUNS_DIR"]
    assert "127.0.0.1:7391" in up.stdout and f"http://127.0.0.1:{env['REPLICAS_PROXY_PORT']}" in up.stdout

    again = run("up.sh", "1", env=env)  # a second start over a running one is refused, and harms nothing
    assert again.returncode == 1 and "run down.sh first" in again.stderr and process(replica) is not None

    started = [p for pid in (replica, int(daemon), int((state / "haproxy.pid").read_text()))
               for p in [process(pid), *descendants(pid)] if p is not None]  # fmt: skip
    assert len(started) >= 3
    for _ in range(2):  # twice: the second finds nothing to do
        down = run("down.sh", env=env)
        assert down.returncode == 0, down.stderr
    assert wait_all_gone(started, 10) == []
    assert not list(state.glob("*.pid")) and not (state / "ray.tmpdir").exists() and not Path(ray_tmp).exists()


def test_a_start_that_fails_halfway_stops_what_it_had_started(env, tmp_path):
    broken = tmp_path / "haproxy"
    broken.write_text("#!/bin/sh\necho 'config refused' >&2\nexit 1\n")  # fails after the replicas are up
    broken.chmod(0o755)
    up = run("up.sh", "1", env={**env, "HAPROXY": str(broken)})
    assert up.returncode == 1 and "stopping what it started" in up.stderr
    state = Path(env["REPLICAS_STATE_DIR"])
    assert (state / "replica-r1.log").exists() and not list(state.glob("*.pid"))
    port = f"--server.port={env['REPLICAS_FIRST_PORT']}"
    assert not [p for p in descendants(1) if port in p.cmdline]  # the replica is gone
