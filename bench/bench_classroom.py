"""A class on one server: N Chromium sessions, K of them pressing Train within a second with the classroom preset.

One real server (``streamlit run``, as ``tests/e2e/browser.py`` starts it) on loopback, with the classroom
preset as the studio's default (``PLAYGROUND_CLASSROOM=1``) and its own runs folder and temporary folder.
Then, in one headless Chromium (a browser context per student, so each has its own cookie and runs):

1. the lecturer's first visit to the studio on the fresh server, then N students open the studio one after
   another (page loads while idle);
2. K students press Train within about a second; while their runs queue and train, the other students'
   studio pages are reloaded one after another, `--pause` s apart (page loads while runs train); the memory is
   sampled (PSS summed over the server's process tree, from ``/proc/<pid>/smaps_rollup``);
3. every run must finish (read from the runs folder: none lost); the last run's wait in the queue and the
   total time from the first click to the last run's end;
4. the sessions close: the server's processes and temporary files are listed; the server stops: nothing of
   it may be left (no process, no temporary file, no semaphore in /dev/shm).

Bounded: ``--timeout`` seconds for the whole (default 1200); it stops by itself and cleans up.

Run: ``python -m bench.bench_classroom [--sessions 30] [--train 10] [--data-dir DIR | --fake]``.
Without ``--data-dir`` it uses PLAYGROUND_DATA_DIR, else a generated stand-in (``--fake``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playground.train.status import ACTIVE  # noqa: E402
from tests.e2e.browser import ARGS, CHROMIUM, start_server, stop_server  # noqa: E402
from tests.proctree import descendants, wait_all_gone  # noqa: E402

TRAIN = ".st-key-ts_train button"


def pss_mb(pids: list[int]) -> float:
    """Proportional set size summed over ``pids`` (a page shared by two processes counts half in each), MB."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += sum(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except OSError:
            pass  # it ended meanwhile
    return total / 1024


def tree(pid: int) -> list[int]:
    return [pid] + [p.pid for p in descendants(pid)]


def zombies(pid: int) -> set[tuple[int, int]]:
    """(pid, start time) of every zombie below ``pid``: ended, not yet reaped by its parent."""
    found = set()
    for p in descendants(pid):
        with contextlib.suppress(OSError), open(f"/proc/{p.pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                found.add((p.pid, p.start))
    return found


def shm_semaphores() -> set[str]:
    return {n for n in os.listdir("/dev/shm") if n.startswith("sem.")} if os.path.isdir("/dev/shm") else set()


def files_in(folder: Path) -> list[str]:
    """Files (not folders: torch._dynamo makes an empty cache folder, torchinductor_<user>, once) under ``folder``."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir()) if folder.exists() else []


def records(runs_dir: Path) -> list[dict]:
    out = []
    for path in runs_dir.glob("*/run.json"):
        with contextlib.suppress(OSError, ValueError):  # being replaced right now: read again next time
            out.append(json.loads(path.read_text()))
    return out


def names(procs: list) -> str:
    return ", ".join(sorted(p.comm for p in procs)) or "none"


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


def load(page, url: str, timeout_ms: float) -> float:
    """Open the studio in ``page``; seconds until its Train button is drawn (the page has run through)."""
    t = time.perf_counter()
    page.goto(f"{url}/Training_studio", wait_until="commit", timeout=timeout_ms)
    page.locator(TRAIN).wait_for(state="visible", timeout=timeout_ms)
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=30, help="browser sessions (students), 1–60")
    parser.add_argument("--train", type=int, default=10, help="of them, how many press Train")
    parser.add_argument("--data-dir", default=os.environ.get("PLAYGROUND_DATA_DIR"), help="real FashionMNIST")
    parser.add_argument("--fake", action="store_true", help="a generated stand-in (60,000 + 10,000 images)")
    parser.add_argument("--max-runs", type=int, default=0, help="PLAYGROUND_MAX_RUNS (0: one per core)")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds for each class")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between page loads while runs train")
    parser.add_argument("--nice", default="10", help="PLAYGROUND_TRAINING_NICE values, comma-separated: one class "
                        "each, one after another, side by side in the table (e.g. 0,10)")  # fmt: skip
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= 60 or not 1 <= args.train <= args.sessions:
        parser.error("need 1 ≤ --train ≤ --sessions ≤ 60")
    try:
        nices = [int(n) for n in args.nice.split(",")]
    except ValueError:
        parser.error("--nice takes whole numbers 0-19, comma-separated")
    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
        return 2
    work = Path(tempfile.mkdtemp(prefix="cnnpg-bench-classroom-"))
    if args.fake or not args.data_dir:
        from tests.fakedata import write_fake_fashion_mnist

        data_dir, data_name = write_fake_fashion_mnist(work / "data", 60_000, 10_000), "generated stand-in"
    else:
        data_dir, data_name = Path(args.data_dir), "FashionMNIST"
    columns, ok = [], True
    try:
        for nice in nices:
            rows, fine = one_class(args, nice, data_dir, data_name, work / f"nice{nice}")
            columns.append(rows)
            ok &= fine
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n`python -m bench.bench_classroom --sessions {args.sessions} --train {args.train} --pause {args.pause} "
          f"--nice {args.nice}`, {time.strftime('%Y-%m-%d')}, load average at the end {os.getloadavg()[0]:.1f}\n")
    print("| measure | " + " | ".join(f"one server, PLAYGROUND_TRAINING_NICE={n}" for n in nices) + " |")
    print("|---" * (len(nices) + 1) + "|")
    for i, (name, _) in enumerate(columns[0]):
        print(f"| {name} | " + " | ".join(rows[i][1] for rows in columns) + " |")
    if not ok:
        print("\nNOT OK: a run was lost or did not finish, or something was left behind.")
    return 0 if ok else 1


def one_class(args, nice: int, data_dir: Path, data_name: str, work: Path) -> tuple[list[tuple[str, str]], bool]:
    """One server and one class of ``args.sessions`` sessions; the table's rows and whether all held."""
    from playwright.sync_api import sync_playwright

    deadline = time.monotonic() + args.timeout
    left_ms = lambda: max(1.0, deadline - time.monotonic()) * 1000  # noqa: E731
    runs_dir, tmp_dir = work / "runs", work / "tmp"
    tmp_dir.mkdir(parents=True)
    env = {"PLAYGROUND_CLASSROOM": "1", "PLAYGROUND_RUNS_DIR": str(runs_dir), "PLAYGROUND_DATA_DIR": str(data_dir),
           "PLAYGROUND_MAX_RUNS": str(args.max_runs), "TMPDIR": str(tmp_dir),
           "PLAYGROUND_TRAINING_NICE": str(nice)}  # fmt: skip
    sems_before = shm_semaphores()
    spare_before = set(Path(tempfile.gettempdir()).glob("cnnpg-runs-*"))  # start_server makes one we do not use
    rows: list[tuple[str, str]] = []
    ok = True
    proc, url = start_server(env=env)
    server_tree: list = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            lecturer = browser.new_context(viewport={"width": 1600, "height": 1200}).new_page()
            first = load(lecturer, url, left_ms())
            lecturer.context.close()
            pages, idle = [], []
            for _ in range(args.sessions):
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                idle.append(load(page, url, left_ms()))
                pages.append(page)
            memory = [pss_mb(tree(proc.pid))]
            print(f"{args.sessions} sessions open; server PSS {memory[0]:,.0f} MB", flush=True)

            trainers, others = pages[: args.train], pages[args.train :] or pages[:1]
            buttons = [page.locator(TRAIN).element_handle(timeout=left_ms()) for page in trainers]
            clicked = time.time()
            for button in buttons:  # a click in the page itself: Playwright's own checks took ~0.2 s a click here
                button.evaluate("b => b.click()")
            spread = time.time() - clicked
            busy, zombie_seen, worst_zombies, i = [], {}, 0, 0
            last_sample = 0.0
            while time.monotonic() < deadline:
                done = [r for r in records(runs_dir) if r["status"] not in ACTIVE]
                if len(done) >= args.train:
                    break
                page = others[i % len(others)]
                i += 1
                busy.append(load(page, url, left_ms()))
                time.sleep(args.pause)  # students look at a page before opening another: not back to back
                now_zombies, now = zombies(proc.pid), time.monotonic()
                worst_zombies = max(worst_zombies, len(now_zombies))
                for z in now_zombies:  # first and last time seen
                    zombie_seen.setdefault(z, [now, now])[1] = now
                if time.monotonic() - last_sample > 5:
                    memory.append(pss_mb(tree(proc.pid)))
                    last_sample = time.monotonic()
            ended = time.time()
            runs = records(runs_dir)
            finished = [r for r in runs if r["status"] == "finished"]
            ok &= len(finished) == args.train == len(runs)
            waits = [r["started"] - r["created"] for r in runs if r.get("started")]
            total = max((r["ended"] or ended) for r in runs) - clicked if runs else float("nan")
            rates = [r["images_per_sec"] for r in finished if r.get("images_per_sec")]
            accs = [r["accuracy"] for r in finished if r.get("accuracy") is not None]
            server_tree = descendants(proc.pid)
            for page in pages:
                page.context.close()
            browser.close()
        time.sleep(2)
        after_close = descendants(proc.pid)
        tmp_open = files_in(tmp_dir)
        peak = max(memory)
        longest = max((b - a for a, b in zombie_seen.values()), default=0.0)
        rows += [
            ("sessions (browser contexts), pressing Train", f"{args.sessions}, {args.train} (within {spread:.2f} s)"),
            ("data; runs at once (PLAYGROUND_MAX_RUNS)", f"{data_name}; {args.max_runs or os.cpu_count()}"),
            ("lecturer's first studio visit on a fresh server", f"{first:.1f} s"),
            ("studio load while idle: median, p95", f"{statistics.median(idle):.2f} s, {percentile(idle, 0.95):.2f} s"),
        ]
        if busy:
            rows.append(("studio load while runs train: median, p95 (count)",
                         f"{statistics.median(busy):.2f} s, {percentile(busy, 0.95):.2f} s ({len(busy)})"))  # fmt: skip
        rows += [
            ("runs finished / pressed (lost)", f"{len(finished)} / {args.train} ({args.train - len(finished)})"),
            ("last run's wait in the queue", f"{max(waits):.1f} s" if waits else "—"),
            ("first click → last run finished", f"{total:.1f} s"),
            ("training speed per run, median", f"{statistics.median(rates):,.0f} images/s" if rates else "—"),
            ("test accuracy, median (classroom preset)", f"{statistics.median(accs):.1%}" if accs else "—"),
            ("server memory, PSS summed over its processes: open, peak", f"{memory[0]:,.0f} MB, {peak:,.0f} MB"),
            ("zombies while runs trained: most at once, seen longest (0: in one sample only)",
             f"{worst_zombies}, {longest:.1f} s"),
            ("server's processes after the sessions closed", f"{len(after_close)}: {names(after_close)}"),
            ("temporary files after the sessions closed", f"{len(tmp_open)}: {', '.join(tmp_open[:5]) or 'none'}"),
        ]
    finally:
        stop_server(proc)
    gone_left = wait_all_gone(server_tree + descendants(proc.pid), 20)
    tmp_left = files_in(tmp_dir)
    sems_left = shm_semaphores() - sems_before
    ok &= not gone_left and not tmp_left
    rows += [
        ("processes left after the server stopped", f"{len(gone_left)}: {names(gone_left)}"),
        ("temporary files left after the server stopped", f"{len(tmp_left)}: {', '.join(tmp_left[:5]) or 'none'}"),
        ("new /dev/shm semaphores left (any process of the machine)", f"{len(sems_left)}"),
    ]
    for spare in set(Path(tempfile.gettempdir()).glob("cnnpg-runs-*")) - spare_before:
        if not any(spare.iterdir()):
            spare.rmdir()
    return rows, ok


if __name__ == "__main__":
    sys.exit(main())
