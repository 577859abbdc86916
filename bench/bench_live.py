"""Live-UI overhead and server memory: training with the Training studio open in Chromium vs the engine alone.

Interleaved, same data, same settings, same thread count as the server gives a run. Needs
/usr/bin/chromium and FashionMNIST. Run: ``python -m bench.bench_live [--repeats N]``.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from playground.train.data import load_fashion_mnist
from playground.train.loop import TrainConfig, default_threads, train, tune_allocator
from playground.train.models import DEFAULT_SPEC
from playground.train.runs import ACTIVE, RunManager

ROOT = Path(__file__).resolve().parents[1]
CONFIG = TrainConfig(threads=default_threads())  # what the page trains when a student just presses Train
IMAGES, EPOCHS = 60_000, CONFIG.epochs


def engine_in_process(data) -> float:
    """``train()`` called right here, no server."""
    return train(DEFAULT_SPEC, data, CONFIG).images_per_sec


def engine_alone(data) -> float:
    """The engine as the app runs it (a training process from ``RunManager``, its record and weights saved to a runs
    folder after each evaluation, as the server's are), with no server or browser."""
    with tempfile.TemporaryDirectory(prefix="cnnpg-bench-runs-") as runs:
        return _alone(data, runs)


def _alone(data, runs: str) -> float:
    run = RunManager(1, runs_dir=runs).submit("bench", DEFAULT_SPEC, CONFIG, data)
    while run.status in ACTIVE:
        time.sleep(0.2)
    assert run.result is not None, run.snapshot().error
    return run.result.images_per_sec


TICK = os.sysconf("SC_CLK_TCK")
WINDOW = 20.0  # seconds of a run over which the page's own CPU is counted (a run here lasts 25 s or more)


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or [] once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time so far of ``pids`` (those still alive)."""
    return sum(int(f[11]) + int(f[12]) for f in map(_stat, pids) if f) / TICK


def browser_pids() -> list[int]:
    """Every Chromium process (the browser, its renderers, GPU and utility processes)."""
    return [int(c.parent.name) for c in Path("/proc").glob("[0-9]*/cmdline")
            if b"chromium" in _reads(c).replace(b"\0", b" ").split(b" ")[0]]  # (children rewrite argv as one string)


def _reads(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def _co_runner(stop, share: float, every: float) -> None:
    """Take ``share`` of one core, in a burst every ``every`` seconds, until ``stop`` is set."""
    while not stop.wait(every):
        _spin(share * every)


def engine_beside(data, share: float, every: float = 3.0) -> float:
    """The engine alone, beside a process that takes ``share`` of a core in bursts (as the page's ticks come): what
    any program using the page's CPU would cost the run on this machine."""
    stop = multiprocessing.Event()
    other = multiprocessing.Process(target=_co_runner, args=(stop, share, every), daemon=True)
    other.start()
    try:
        return engine_alone(data)
    finally:
        stop.set()
        other.join()


def with_page(page, run: int, server: int | None = None, spent: list | None = None) -> float:
    """Press Train on the open page and read the run's images/s from its result line.

    The page is checked every 5 s, as a person would glance at it: Playwright's default waiting
    scans the page on every animation frame, which itself costs the browser (and so the run) CPU.
    With ``server`` (its pid), also appends to ``spent`` the CPU the page took during the run's first WINDOW
    seconds (the server's own process, not the training process, and every Chromium process): a measure of
    the page's cost that the machine's drifting speed does not blur.
    """
    counting = server is not None and spent is not None
    pids = [server, *browser_pids()] if counting else []
    before = cpu_seconds(pids)
    page.locator(".st-key-ts_train button").click()
    if counting:
        page.wait_for_timeout(WINDOW * 1000)
        spent.append(cpu_seconds(pids) - before)
    page.wait_for_function(
        "t => document.body.textContent.includes(t)", arg=f"Run {run} finished", polling=5000, timeout=300_000
    )
    text = page.get_by_text(re.compile(rf"Run {run} finished")).inner_text()
    page.wait_for_timeout(1500)  # let the page settle so the next Train button is enabled
    return float(re.search(r"\(([\d,]+) images/s\)", text).group(1).replace(",", ""))


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (the server, its forkserver and the training processes)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        if fields := _stat(int(stat.parent.name)):
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def memory_gb(pid: int) -> tuple[float, float, dict[str, float]]:
    """(RSS, PSS, PSS per role) summed over the process tree, in GB. PSS counts a page shared by k processes as 1/k."""
    rss = pss = 0
    roles: dict[str, float] = {}
    for p in tree(pid):
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text().splitlines()
            cmd = Path(f"/proc/{p}/cmdline").read_bytes()
        except OSError:
            continue
        values = {line.split()[0]: int(line.split()[1]) for line in rollup[1:]}
        role = ("server" if p == pid else "forkserver (torch imported once)" if b"forkserver" in cmd
                and _parent(p) == pid else "training process" if b"forkserver" in cmd else "other")  # fmt: skip
        rss, pss = rss + values["Rss:"], pss + values["Pss:"]
        roles[role] = roles.get(role, 0) + values["Pss:"] / 2**20
    return rss / 2**20, pss / 2**20, roles


def _parent(pid: int) -> int:
    return int(_stat(pid)[1])


class PeakMemory(threading.Thread):
    """Samples the server tree's memory every 0.2 s: ``peak`` = (RSS, PSS, per role) when the PSS sum was highest.

    Never during a timed run: see ``main``.
    """

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, (0.0, 0.0, {}), threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            sample = memory_gb(self.pid)
            if sample[1] > self.peak[1]:
                self.peak = sample


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--in-process", action="store_true", help="also time train() called in this process")
    parser.add_argument("--interactive", action="store_true", help="the interactive (plotly) chart while training")
    parser.add_argument("--co-runner", action="store_true",
                        help="also the engine beside a plain program taking the page's CPU, in bursts")  # fmt: skip
    parser.add_argument("--compare-watch", action="store_true",
                        help="also a page with 'Watch it learn' switched off, interleaved with the others")  # fmt: skip
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    from tests.e2e.browser import ARGS, CHROMIUM, start_server, stop_server

    tune_allocator()
    data = load_fashion_mnist()
    alone, here, live, unwatched, spent, beside = [], [], [], [], [], []
    proc, url = start_server()
    sampler = PeakMemory(proc.pid)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.goto(f"{url}/Training_studio")
            page.get_by_text("1 · The network").wait_for(timeout=90_000)
            page.wait_for_timeout(1500)  # the page's defaults, as a student finds them
            if args.interactive:
                page.locator(".st-key-ts_interactive label").click()
                page.wait_for_timeout(1500)
            if args.compare_watch:  # a second student's page, the same but for the live network
                off = browser.new_context(viewport={"width": 1400, "height": 1200}).new_page()
                off.goto(f"{url}/Training_studio")
                off.get_by_text("1 · The network").wait_for(timeout=90_000)
                off.locator(".st-key-ts_watch label").click()
                off.wait_for_timeout(1500)
            # Each page run between two runs of the engine alone, and compared with their mean: the machine's speed
            # drifts (by a third within ten minutes on some days), and a steady drift cancels out this way.
            alone.append(engine_alone(data))
            for i in range(args.repeats):
                live.append(with_page(page, i + 1, proc.pid, spent))
                if args.compare_watch:
                    unwatched.append(with_page(off, i + 1))
                alone.append(engine_alone(data))
                if args.co_runner:  # (between two engine-alone runs too: after this one, before the next)
                    beside.append(engine_beside(data, spent[-1] / WINDOW))
                    alone.append(engine_alone(data))
                if args.in_process:
                    here.append(engine_in_process(data))
            # Memory in a run of its own: reading smaps_rollup walks a process's page tables under its memory
            # lock, so sampling the training process every 0.2 s would slow the very run being timed.
            sampler.start()
            with_page(page, args.repeats + 1)
            sampler.done.set()
            browser.close()
    finally:
        stop_server(proc)
    a, b = statistics.median(alone), statistics.median(live)
    around = [(x + y) / 2 for x, y in itertools.pairwise(alone)]  # the engine alone just before and just after each
    k = 2 if beside else 1  # (with the co-runner: page, alone, co-runner, alone, page …)
    paired = statistics.median(x / y - 1 for x, y in zip(live, around[::k], strict=True))
    chart = "interactive chart" if args.interactive else "picture"
    print(
        f"| measure ({IMAGES:,} images × {EPOCHS} epochs, {default_threads()} thread(s), live {chart}), "
        f"median of {args.repeats} "
        "| with the page open | engine alone | difference | budget |"
    )
    print("|---|---|---|---|---|")
    print(f"| training throughput | {b:,.0f} images/s | {a:,.0f} images/s | {(b - a) / a:+.1%} | ≥ −5% |")
    print(f"| each page run against the mean of the engine-alone runs before and after it, median of {args.repeats} "
          f"| | | {paired:+.1%} | ≥ −5% |")
    page_cpu = statistics.median(spent)
    if beside:
        co = statistics.median(x / y - 1 for x, y in zip(beside, around[1::2], strict=True))
        print(f"| the engine beside a plain program taking as much CPU as the page took (in bursts every 3 s), "
              f"against the mean of the engine-alone runs around it, median of {args.repeats} | | | {co:+.1%} | |")
    print(f"| the page's own CPU in a run's first {WINDOW:.0f} s (server process and Chromium), median | "
          f"{page_cpu:.2f} s: {page_cpu / WINDOW:.1%} of a core, {page_cpu / (WINDOW * default_threads()):.1%} of the "
          f"run's {default_threads()} | | | |")
    if unwatched:
        c = statistics.median(unwatched)
        watched = statistics.median(x / y - 1 for x, y in zip(live, unwatched, strict=True))  # (back to back)
        print(f"| the page with 'Watch it learn' off | {c:,.0f} images/s | {a:,.0f} images/s | {(c - a) / a:+.1%} | |")
        print(f"| 'Watch it learn' on against off, median of the paired differences | | | {watched:+.1%} | |")
    if here:
        c = statistics.median(here)
        print(f"| engine alone as `train()` in this process | | {c:,.0f} images/s | {(b - c) / c:+.1%} | |")
    for name, values in (("with the page", live), ("alone, process", alone), ("alone, train()", here),
                         ("beside the co-runner", beside),
                         ("the page, watch off", unwatched)):  # fmt: skip
        if values:
            print(f"<!-- {name}: {', '.join(f'{v:,.0f}' for v in values)} images/s -->")
    rss, pss, roles = sampler.peak
    parts = ", ".join(f"{role} {gb:.2f}" for role, gb in sorted(roles.items(), key=lambda kv: -kv[1]))
    print(f"| server peak memory, all its processes, PSS (shared pages split): {parts} | {pss:.2f} GB | | | ≤ 1.4 GB |")
    print(f"| the same, RSS summed (shared pages counted in every process) | {rss:.2f} GB | | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
