"""A class through the replica recipe: 2 Streamlit replicas behind HAProxy, a local Ray head training every run.

``deploy/replicas/up.sh 2 --ray`` on loopback with the classroom preset (``PLAYGROUND_CLASSROOM=1``), one runs
folder, then in one headless Chromium (a browser context per student, so each has its own cookie, replica and runs):

1. every student opens the explorer through the proxy, uploads an image of their own and waits for it and every
   picture of the page (uploads and ``/media/…`` must reach the replica holding the session), then opens the studio;
2. ``--train`` students press Train within about a second; while the runs wait in Ray's queue and train, the other
   students' studio pages are reloaded one after another (page loads while runs train);
3. with ``--kill``, once a run trains, the replica holding the most students who pressed Train gets ``kill -9``:
   each of its students' open tabs is watched until it says what became of the run by itself (the proxy moves the
   session to the other replica), and its other students reload;
4. every run must end: finished, or interrupted by the kill (read from the runs folder: none lost);
5. ``down.sh`` stops it all: nothing may be left (the recipe's processes, the Ray head's daemons and workers).

Bounded: ``--timeout`` seconds for the whole (default 1200); it stops by itself and cleans up.

Run: ``python -m bench.bench_replicas [--sessions 16] [--train 6] [--kill] [--no-ray] [--data-dir DIR | --fake]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_classroom import TRAIN, load, names, percentile, pss_mb, records, tree  # noqa: E402
from playground.train.status import ACTIVE  # noqa: E402
from tests.e2e.browser import ARGS, CHROMIUM, free_port  # noqa: E402
from tests.e2e.test_replicas_browser import ray_processes  # noqa: E402
from tests.proctree import descendants, process, wait_all_gone  # noqa: E402
from tests.replica_recipe import HAPROXY, RECIPE, free_ports  # noqa: E402

FATE = re.compile(r"Run \d+ (was interrupted|finished|failed|stopped)[^.]*\.")


def png(i: int) -> bytes:
    """A 96×64 picture of its own colour for student ``i``."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (96, 64), ((40 * i) % 256, (90 + 17 * i) % 256, (200 - 13 * i) % 256)).save(buf, "PNG")
    return buf.getvalue()


def replica_of(page) -> str:
    return next((c["value"] for c in page.context.cookies() if c["name"] == "CNNPG_REPLICA"), "?")


def upload(page, url: str, i: int, timeout_ms: float) -> float:
    """Open the explorer, upload student ``i``'s picture; seconds until it and every picture of the page arrived."""
    t = time.perf_counter()
    page.goto(f"{url}/Convolution_explorer", wait_until="commit", timeout=timeout_ms)
    page.locator(".st-key-cx_source label", has_text="Upload").click(timeout=timeout_ms)
    page.locator(".st-key-cx_upload input[type=file]").set_input_files(
        files=[{"name": f"student-{i}.png", "mimeType": "image/png", "buffer": png(i)}], timeout=timeout_ms
    )
    page.get_by_text(f"Input: student-{i}.png, 96×64 px").wait_for(timeout=timeout_ms)
    page.wait_for_function("() => [...document.images].length > 0 && [...document.images].every("
                           "i => i.complete && i.naturalWidth > 0)", timeout=timeout_ms)  # fmt: skip
    return time.perf_counter() - t


def recipe_pids(state: Path) -> list[int]:
    pids = []
    for pidfile in state.glob("*.pid"):
        with contextlib.suppress(ValueError, OSError):
            pids += tree(int(pidfile.read_text()))
    return pids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=16, help="browser sessions (students), 2–40")
    parser.add_argument("--train", type=int, default=6, help="of them, how many press Train")
    parser.add_argument("--kill", action="store_true", help="kill -9 one replica while runs train")
    parser.add_argument("--no-ray", action="store_true", help="without --ray: each replica trains its own runs")
    parser.add_argument("--data-dir", default=os.environ.get("PLAYGROUND_DATA_DIR"), help="real FashionMNIST")
    parser.add_argument("--fake", action="store_true", help="a generated stand-in (60,000 + 10,000 images)")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds for everything")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between page loads while runs train")
    args = parser.parse_args(argv)
    if not 2 <= args.sessions <= 40 or not 1 <= args.train <= args.sessions:
        parser.error("need 1 ≤ --train ≤ --sessions, 2 ≤ --sessions ≤ 40")
    for need in (CHROMIUM, HAPROXY):
        if not Path(need).exists():
            print(f"{need} not found: apt-get install chromium haproxy curl")
            return 2
    from playwright.sync_api import sync_playwright

    deadline = time.monotonic() + args.timeout
    left_ms = lambda: max(1.0, deadline - time.monotonic()) * 1000  # noqa: E731
    work = Path(tempfile.mkdtemp(prefix="cnnpg-bench-replicas-"))
    if args.fake or not args.data_dir:
        from tests.fakedata import write_fake_fashion_mnist

        data_dir, data_name = write_fake_fashion_mnist(work / "data", 60_000, 10_000), "generated stand-in"
    else:
        data_dir, data_name = Path(args.data_dir), "FashionMNIST"
    runs_dir, state, proxy = work / "runs", work / "state", free_port()
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "REPLICAS_STATE_DIR": str(state), "REPLICAS_PROXY_PORT": str(proxy),
           "REPLICAS_FIRST_PORT": str(free_ports(2)), "REPLICAS_RAY_PORT": str(free_port()),
           "STREAMLIT": str(bin_dir / "streamlit"), "RAY": str(bin_dir / "ray"), "HAPROXY": HAPROXY,
           "PLAYGROUND_CLASSROOM": "1", "PLAYGROUND_DATA_DIR": str(data_dir), "PLAYGROUND_RUNS_DIR": str(runs_dir),
           "PLAYGROUND_MAX_RUNS": "2"}  # fmt: skip
    url, ray = f"http://127.0.0.1:{proxy}", not args.no_ray
    t_up = time.monotonic()
    up = subprocess.run([RECIPE / "up.sh", "2", *(["--ray"] if ray else [])], env=env, capture_output=True,
                        text=True, timeout=300)  # fmt: skip
    rows: list[tuple[str, str]] = [("up.sh 2" + (" --ray" if ray else ""), f"{time.monotonic() - t_up:.1f} s")]
    ray_tmp = (state / "ray.tmpdir").read_text().strip() if (state / "ray.tmpdir").exists() else ""
    ok, everything = up.returncode == 0, []
    try:
        if not ok:
            print(up.stdout + up.stderr)
            return 1
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            pages, uploads, idle, where = [], [], [], {}
            for i in range(args.sessions):
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                try:
                    uploads.append(upload(page, url, i, min(left_ms(), 90_000)))
                except Exception as e:  # counted below: an upload that failed through the proxy
                    print(f"student {i}: upload failed: {type(e).__name__}: {str(e).splitlines()[0]}")
                idle.append(load(page, url, left_ms()))
                pages.append(page)
                where[page] = replica_of(page)
            memory = [pss_mb(recipe_pids(state) + ray_processes(ray_tmp))]
            print(f"{args.sessions} sessions open: {sorted(where.values()).count('r1')} on r1, "
                  f"{sorted(where.values()).count('r2')} on r2; PSS {memory[0]:,.0f} MB", flush=True)  # fmt: skip

            trainers, others = pages[: args.train], pages[args.train :] or pages[:1]
            buttons = [page.locator(TRAIN).element_handle(timeout=left_ms()) for page in trainers]
            clicked = time.time()
            for button in buttons:
                button.evaluate("b => b.click()")
            busy, i, killed, victim, fates = [], 0, None, "", []
            while time.monotonic() < deadline:
                runs = records(runs_dir)
                if len(runs) >= args.train and all(r["status"] not in ACTIVE for r in runs):
                    break
                if args.kill and killed is None and any(r["status"] == "running" for r in runs):
                    time.sleep(2)  # well into training
                    victim = max(("r1", "r2"), key=lambda r: sum(where[t] == r for t in trainers))
                    pid = int((state / f"replica-{victim}.pid").read_text())
                    killed = time.monotonic()
                    os.kill(pid, signal.SIGKILL)
                    for page in [t for t in trainers if where[t] == victim]:  # the open tab, no reload
                        try:
                            said = page.get_by_text(FATE).first
                            said.wait_for(timeout=min(left_ms(), 120_000))
                            fates.append((time.monotonic() - killed, FATE.search(said.inner_text())[0]))
                        except Exception as e:
                            fates.append((time.monotonic() - killed, f"nothing ({type(e).__name__})"))
                    moved = [load(page, url, left_ms()) for page in others if where[page] == victim]
                    continue
                page = others[i % len(others)]
                i += 1
                busy.append(load(page, url, left_ms()))
                time.sleep(args.pause)
                memory.append(pss_mb(recipe_pids(state) + ray_processes(ray_tmp)))
            ended = time.time()
            runs = records(runs_dir)
            statuses = [r["status"] for r in runs]
            nodes = {r.get("node") for r in runs if r.get("node")}
            rates = [r["images_per_sec"] for r in runs if r["status"] == "finished" and r.get("images_per_sec")]
            ok &= len(runs) == args.train and not any(s in ACTIVE for s in statuses)
            ok &= len(uploads) == args.sessions and (args.kill or statuses.count("finished") == args.train)
            total = max((r["ended"] or ended) for r in runs) - clicked if runs else float("nan")
            rows += [
                ("data; sessions on r1, r2; pressing Train", f"{data_name}; {list(where.values()).count('r1')}, "
                 f"{list(where.values()).count('r2')}; {args.train}"),
                ("uploads through the proxy that arrived with every picture", f"{len(uploads)} / {args.sessions}"),
                ("explorer + upload + pictures: median, p95", f"{statistics.median(uploads):.2f} s, "
                 f"{percentile(uploads, 0.95):.2f} s" if uploads else "—"),
                ("studio load while idle: median, p95", f"{statistics.median(idle):.2f} s, "
                 f"{percentile(idle, 0.95):.2f} s"),
            ]  # fmt: skip
            if busy:
                rows.append(("studio load while runs train: median, p95 (count)", f"{statistics.median(busy):.2f} s, "
                             f"{percentile(busy, 0.95):.2f} s ({len(busy)})"))  # fmt: skip
            rows += [
                ("runs: " + ", ".join(f"{s}" for s in sorted(set(statuses))), ", ".join(
                    str(statuses.count(s)) for s in sorted(set(statuses))) + f" (lost: {args.train - len(runs)})"),
                ("trained where", f"Ray, {len(nodes)} node(s)" if ray else "each replica's own processes"),
                ("first click → last run ended", f"{total:.1f} s"),
                ("training speed per run, median", f"{statistics.median(rates):,.0f} images/s" if rates else "—"),
                ("memory, PSS summed (replicas, proxy, Ray): open, peak",
                 f"{memory[0]:,.0f} MB, {max(memory):,.0f} MB"),
            ]  # fmt: skip
            if killed is not None:
                said = "; ".join(f"{t:.1f} s: “{text}”" for t, text in fates) or "no student of it had pressed Train"
                rows += [
                    (f"replica {victim} killed (kill -9) mid-run: its students' open tabs said, by themselves", said),
                    (f"its other students reloading: studio load on {'r2' if victim == 'r1' else 'r1'}",
                     f"median {statistics.median(moved):.2f} s ({len(moved)})" if moved else "—"),
                ]  # fmt: skip
            for page in pages:
                page.context.close()
            browser.close()
    finally:
        everything = [p for pid in recipe_pids(state) if (p := process(pid)) is not None]
        down = subprocess.run([RECIPE / "down.sh"], env=env, capture_output=True, text=True, timeout=180)
        left = wait_all_gone(everything + [q for p in everything for q in descendants(p.pid)], 30)
        ray_left = ray_processes(ray_tmp) if ray_tmp else []
        end = time.monotonic() + 30
        while ray_left and time.monotonic() < end:
            time.sleep(0.5)
            ray_left = ray_processes(ray_tmp)
        ok &= down.returncode == 0 and not left and not ray_left
        rows += [("processes left after down.sh (recipe; Ray head)", f"{len(left)}: {names(left)}; {len(ray_left)}")]
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n`python -m bench.bench_replicas --sessions {args.sessions} --train {args.train}"
          f"{' --kill' if args.kill else ''}{' --no-ray' if args.no_ray else ''}`, {time.strftime('%Y-%m-%d')}, "
          f"load average at the end {os.getloadavg()[0]:.1f}\n")  # fmt: skip
    print("| measure | 2 replicas + HAProxy" + (" + Ray" if ray else "") + " |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    if not ok:
        print("\nNOT OK: an upload or a run was lost, or something was left behind.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
