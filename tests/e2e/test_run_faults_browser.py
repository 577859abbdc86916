"""Faults a class will hit, on a real server in Chromium: kill the training process, the forkserver, the server.

Each time: what the page says (a sentence, never a traceback), and that no process of the server's tree lives on.
"""

from __future__ import annotations

import os
import signal

import pytest

from playground.train.runs import RunManager, Status
from tests.e2e.browser import need_chromium, shot, start_server, stop_server, wait_idle
from tests.fakedata import write_fake_fashion_mnist
from tests.proctree import descendants, wait_all_gone

# How far (in epochs) the run is, as the live picture's caption says; 0 while no run trains.
EPOCH_NOW = (
    "() => { const m = document.querySelector('.st-key-ts_curves')?.textContent"
    ".match(/Run (\\d+)(?: · .*?)?: epoch ([\\d.]+) of/); return m ? [parseInt(m[1]), parseFloat(m[2])] : [0, 0]; }"
)


@pytest.fixture
def server(tmp_path):
    need_chromium()
    root = write_fake_fashion_mnist(tmp_path / "data", n_train=3000, n_test=500)
    runs = tmp_path / "runs"
    proc, url = start_server(env={"PLAYGROUND_DATA_DIR": str(root), "PLAYGROUND_RUNS_DIR": str(runs)})
    yield proc, url, runs
    stop_server(proc)  # the whole process group, in case a test failed before its own kill


def start_run(page, number: int) -> None:
    """Press Train and wait until run ``number`` has trained a few steps (its process exists and reports)."""
    page.locator(".st-key-ts_train button").click()
    page.wait_for_function(f"() => {{ const [n, e] = ({EPOCH_NOW})(); return n === {number} && e > 0; }}",
                           timeout=90_000)  # fmt: skip


def open_studio(page, url: str) -> None:
    page.goto(f"{url}/Training_studio")
    page.get_by_text("1 · The network").wait_for(timeout=90_000)
    wait_idle(page)
    page.locator(".st-key-ts_epochs input").fill("30")  # long enough to be killed mid-run
    page.locator(".st-key-ts_epochs input").press("Enter")
    wait_idle(page)


def ours(server_pid: int, prefix: str):
    return [p for p in descendants(server_pid) if p.comm.startswith(prefix)]


def no_traceback(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def test_killed_training_process_and_forkserver_fail_the_run_with_a_sentence_then_sigterm_leaves_nothing(page, server):
    proc, url, _ = server
    open_studio(page, url)

    start_run(page, 1)
    (child,) = ours(proc.pid, "cnn-train")
    os.kill(child.pid, signal.SIGKILL)  # as the kernel does when memory runs out
    page.get_by_text("Run 1 failed. The training process was killed (SIGKILL), perhaps because the computer ran "
                     "out of memory.").wait_for(timeout=20_000)  # fmt: skip
    no_traceback(page)
    shot(page, "fault-training-process-killed")

    wait_idle(page)
    start_run(page, 2)
    (forkserver,) = ours(proc.pid, "cnn-forkserver")
    (child,) = ours(proc.pid, "cnn-train")
    os.kill(forkserver.pid, signal.SIGKILL)
    page.get_by_text("Run 2 failed. The forkserver (the helper process that starts training processes) ended "
                     "unexpectedly, and the training process with it.").wait_for(timeout=20_000)  # fmt: skip
    no_traceback(page)
    assert wait_all_gone([forkserver, child], 5) == []  # no orphan, no zombie
    shot(page, "fault-forkserver-killed")

    wait_idle(page)
    start_run(page, 3)  # on a new forkserver
    (fresh,) = ours(proc.pid, "cnn-forkserver")
    assert fresh.pid != forkserver.pid
    tree = descendants(proc.pid)
    os.kill(proc.pid, signal.SIGTERM)  # the server alone: its helpers must notice by themselves
    proc.wait(20)
    assert wait_all_gone(tree, 20) == []


def test_a_server_killed_mid_run_leaves_no_process_and_its_run_comes_back_interrupted(page, server):
    proc, url, runs = server
    open_studio(page, url)
    start_run(page, 1)
    page.wait_for_function(f"() => ({EPOCH_NOW})()[1] >= 0.5", timeout=60_000)  # an evaluation or two: weights saved
    tree = descendants(proc.pid)
    assert {"cnn-forkserver"} <= {p.comm for p in tree} and ours(proc.pid, "cnn-train")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert wait_all_gone(tree, 20) == []
    (run,) = [r for r in RunManager(runs_dir=runs)._runs]  # what the next server will find
    assert run.status == Status.INTERRUPTED and run.snapshot().history["eval_step"] and run.has_model


def test_a_server_restart_brings_the_run_back_as_interrupted_in_the_same_browser(page, tmp_path):
    """Issue 11: SIGTERM the server mid-run and start it again: the open tab shows the run as interrupted."""
    need_chromium()
    root = write_fake_fashion_mnist(tmp_path / "data", n_train=3000, n_test=500)
    env = {"PLAYGROUND_DATA_DIR": str(root), "PLAYGROUND_RUNS_DIR": str(tmp_path / "runs")}
    proc, url = start_server(env=env)
    port = int(url.rsplit(":", 1)[1])
    try:
        open_studio(page, url)
        start_run(page, 1)
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        proc, url = start_server(env=env, port=port)  # the same address: the open tab reconnects to it
        page.reload()
        page.get_by_text("Run 1 was interrupted").wait_for(timeout=90_000)
        no_traceback(page)
        assert page.get_by_text("No run yet").count() == 0
        shot(page, "restart-interrupted")
        other = page.context.browser.new_context().new_page()  # and only this browser sees it
        other.goto(f"{url}/Training_studio")
        other.get_by_text("No run yet").wait_for(timeout=90_000)
    finally:
        stop_server(proc)
