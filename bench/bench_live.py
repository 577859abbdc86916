"""Live-UI overhead and server memory: training with the Training studio open in Chromium vs the engine alone.

Interleaved, same data, same settings, same thread count as the server gives a run. Needs
/usr/bin/chromium and FashionMNIST. Run: ``python -m bench.bench_live [--repeats N]``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from pathlib import Path

from playground.data import load_fashion_mnist
from playground.models import DEFAULT_SPEC
from playground.train import TrainConfig, default_threads, train, tune_allocator

ROOT = Path(__file__).resolve().parents[1]
IMAGES, EPOCHS = 10_000, 2  # the page's "Training images" and "Epochs" settings


def engine_alone(data) -> float:
    config = TrainConfig(epochs=EPOCHS, train_size=IMAGES, threads=default_threads())
    return train(DEFAULT_SPEC, data, config).images_per_sec


def with_page(page, run: int) -> float:
    """Press Train on the open page and read the run's images/s from its result line."""
    page.locator(".st-key-ts_train button").click()
    done = page.get_by_text(re.compile(rf"Run {run} finished"))
    done.wait_for(timeout=300_000)
    page.wait_for_timeout(1500)  # let the page settle so the next Train button is enabled
    return float(re.search(r"\(([\d,]+) images/s\)", done.inner_text()).group(1).replace(",", ""))


def vm_hwm_gb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import ARGS, CHROMIUM, start_server, stop_server

    tune_allocator()
    data = load_fashion_mnist()
    alone, live = [], []
    proc, url = start_server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.goto(f"{url}/Training_studio")
            page.get_by_text("1 · The network").wait_for(timeout=90_000)
            page.locator(".st-key-ts_size").get_by_role("slider").focus()
            page.keyboard.press("Home")
            for _ in range(2):  # 1000 → 5000 → 10000
                page.keyboard.press("ArrowRight")
            page.locator(".st-key-ts_epochs input").fill(str(EPOCHS))
            page.locator(".st-key-ts_epochs input").press("Enter")
            page.wait_for_timeout(1500)
            for i in range(args.repeats):
                alone.append(engine_alone(data))
                live.append(with_page(page, i + 1))
            browser.close()
        rss = vm_hwm_gb(proc.pid)
    finally:
        stop_server(proc)
    a, b = statistics.median(alone), statistics.median(live)
    print(
        f"| measure ({IMAGES:,} images × {EPOCHS} epochs, {default_threads()} thread(s)) | with the page open "
        f"| engine alone | difference | budget |"
    )
    print("|---|---|---|---|---|")
    print(
        f"| training throughput, median of {args.repeats} | {b:,.0f} images/s | {a:,.0f} images/s "
        f"| {(b - a) / a:+.1%} | ≥ −5% |"
    )
    print(f"| server peak memory (VmHWM) after {args.repeats} runs | {rss:.2f} GB | | | ≤ 1.4 GB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
