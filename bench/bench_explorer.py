"""Explorer budgets, each beside a baseline, in one run.

1. Server time of one rerun after a control change (512×512 RGB photo, 3×3 kernel), measured with
   AppTest, beside the same rerun with the naive rendering (every map as a JSON heatmap).
2. Bytes the rerun sends to the browser: the serialized elements plus the images they link to
   (counted even when unchanged, though the browser would reuse them), ours vs naive.
3. In Chromium: from a slider change to the updated output on screen (if /usr/bin/chromium exists).
4. ``streamlit run`` to the first rendered page.

Run: ``python -m bench.bench_explorer [--repeats N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/1_Convolution_explorer.py"
BENCH_PHOTO = "Photo: coffee cup, 512×512 (benchmark)"


def _naive_map_figure(values, title="", **_):
    """The baseline: every value shipped as JSON numbers in a plotly heatmap."""
    import plotly.graph_objects as go

    return go.Figure(go.Heatmap(z=values.detach().float().tolist(), colorscale="RdBu_r"), layout={"title": title})


def _naive_picture(values, title="", **_):
    return _naive_map_figure(values, title)


def _naive_show(picture, key):
    """Show the naive figure as a chart (RGB pictures stay pictures, as they always were)."""
    import plotly.graph_objects as go
    import streamlit as st

    if isinstance(picture, go.Figure):
        st.plotly_chart(picture, key=key)
    else:
        with st.container(key=key):
            st.image(picture.data, output_format=picture.format)


def _sent_bytes(at: AppTest, media: dict[str, int]) -> int:
    total = 0
    for kind in ("plotly_chart", "markdown", "latex", "code", "caption", "image"):
        total += sum(len(el.proto.SerializeToString()) for el in at.get(kind))
    for el in at.get("image"):  # the images themselves, fetched by URL
        total += sum(media[img.url.rsplit("/", 1)[-1].split(".")[0]] for img in el.proto.imgs)
    return total


def _record_media(media: dict[str, int]) -> mock._patch:
    """Record the size of every file st.image stores, by file id."""
    real = MemoryMediaFileStorage.load_and_get_id

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
        file_id = real(self, path_or_data, mimetype, kind, filename)
        media[file_id] = len(path_or_data)
        return file_id

    return mock.patch.object(MemoryMediaFileStorage, "load_and_get_id", load_and_get_id)


def rerun_times(repeats: int, naive: bool) -> tuple[list[float], int]:
    media: dict[str, int] = {}
    patches = [_record_media(media)]
    if naive:  # every module that draws maps, where it looks the names up
        import playground.render.figures as figs
        import ui.explorer_views
        import ui.pictures
        import ui.step_through

        patches += [mock.patch.object(figs, "HEATMAP_MAX", 10**9)]
        for module in (ui.pictures, ui.explorer_views, ui.step_through):
            patches += [
                mock.patch.object(module, "map_picture", _naive_picture),
                mock.patch.object(module, "show_picture", _naive_show),
            ]
    for p in patches:
        p.start()
    try:
        from playground.explorer import samples

        # The budget is for a 512×512 RGB input: the coffee photo, resized to that.
        samples.SAMPLES[BENCH_PHOTO] = lambda: samples.load_sample("Photo: coffee cup (CC0)").resize((512, 512))
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.switch_page(PAGE).run()
        at.radio(key="cx_color").set_value("RGB").run()
        at.select_slider(key="cx_res").set_value(512).run()
        at.selectbox(key="cx_sample").set_value(BENCH_PHOTO).run()
        assert "512×512 px" in "".join(m.value for m in at.markdown)
        assert not at.exception, at.exception
        times = []
        for i in range(repeats):
            # A new bias each time: cached pictures of earlier values must not flatter the figure.
            widget = at.number_input(key="cx_bias").set_value(float(i + 1))
            t = time.perf_counter()
            widget.run()
            times.append(time.perf_counter() - t)
        return times, _sent_bytes(at, media)
    finally:
        for p in patches:
            p.stop()


def browser_latency(repeats: int) -> tuple[float | None, float | None]:
    """(median slider→screen seconds, startup seconds) in Chromium, or (None, None) without it."""
    sys.path.insert(0, str(ROOT))
    from tests.e2e.browser import ARGS, CHROMIUM, start_server, stop_server, wait_idle

    if not Path(CHROMIUM).exists():
        return None, None
    from playwright.sync_api import sync_playwright

    t0 = time.perf_counter()
    proc, url = start_server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1400})
            page.goto(url)
            page.get_by_text("CNN Playground").first.wait_for(timeout=60_000)
            startup = time.perf_counter() - t0
            page.goto(f"{url}/Convolution_explorer")
            page.locator(".st-key-cx_s_Convolution").wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            samples = []
            for i in range(repeats):
                # Untimed: a new bias first, so the timed stride change meets no cached maps of its values.
                bias = page.locator(".st-key-cx_bias input")
                bias.fill(str(i + 1))
                bias.press("Enter")
                wait_idle(page)
                caption = page.locator("[data-testid='stCaptionContainer']", has_text="shape 1×").nth(2)
                before = caption.inner_text()
                box = page.locator(".st-key-cx_stride_w input")
                t = time.perf_counter()
                box.fill(str(2 if i % 2 == 0 else 1))
                box.press("Enter")
                page.wait_for_function(
                    "([sel, old]) => { const els = [...document.querySelectorAll(sel)].filter(e => "
                    "e.innerText.includes('shape 1×')); return els.length > 2 && els[2].innerText !== old; }",
                    arg=["[data-testid='stCaptionContainer']", before],
                    timeout=30_000,
                )
                samples.append(time.perf_counter() - t)
            browser.close()
        return statistics.median(samples), startup
    finally:
        stop_server(proc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    ours, ours_bytes = rerun_times(args.repeats, naive=False)
    naive, naive_bytes = rerun_times(args.repeats, naive=True)
    latency, startup = browser_latency(args.repeats)
    mo, mn = statistics.median(ours), statistics.median(naive)
    print("| measure (512×512 RGB photo, 3×3 kernel) | CNN Playground | naive JSON heatmaps | ratio | budget |")
    print("|---|---|---|---|---|")
    print(
        f"| server time of one rerun, median of {args.repeats} | {mo * 1000:.0f} ms | {mn * 1000:.0f} ms "
        f"| {mn / mo:.1f}× faster | ≤ 150 ms |"
    )
    print(
        f"| bytes sent for that rerun | {ours_bytes / 1e6:.2f} MB | {naive_bytes / 1e6:.2f} MB "
        f"| {naive_bytes / ours_bytes:.0f}× smaller | ≤ 1 MB |"
    )
    if latency is not None:
        print(f"| Chromium: control change → output on screen, median | {latency * 1000:.0f} ms | | | ≤ 600 ms |")
        print(f"| `streamlit run` → first rendered page | {startup:.1f} s | | | ≤ 5 s |")
    else:
        print("| Chromium measures | skipped: /usr/bin/chromium not found | | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
