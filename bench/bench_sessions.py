"""What one student's session costs the server, before and after the cuts, side by side in one run.

Server time (AppTest runs the page scripts as a server does) of:

1. the Convolution explorer and the Training studio: a new session's first visit, and a rerun (a changed
   setting);
2. the Inspect page on a finished run of the session's browser: a new session's first visit, a rerun (another
   test image), and how many times the 10,000 test images were evaluated in all.

"Before" patches the earlier code back in: the studio's sample images found (a scan of the 60,000 labels per
class) and encoded, and the finished runs' curves figure built, on every rerun; the Inspect page's evaluation
cached on ``id(ckpt)`` of a checkpoint made afresh on every rerun (issue 9: one evaluation per rerun), its
confusion and filter figures built and its checkpoint serialised for the download button on every rerun.
"After" is the code as it is. ``--profile`` prints the top of cProfile for one rerun of each page (run in the
script's thread), which is where the cuts came from.

Run: ``python -m bench.bench_sessions [--repeats 5] [--profile]`` (FashionMNIST from PLAYGROUND_DATA_DIR, else
a generated stand-in of the same size).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.runtime.scriptrunner import script_runner  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

STUDIO, INSPECT = "pages/2_Training_studio.py", "pages/3_Inspect_model.py"
EXPLORER = "pages/1_Convolution_explorer.py"
OWNER = "bench-browser"
_profiler: list[cProfile.Profile] = []  # when set, the script thread's runs are profiled into it


def _profiled_run_script(real):
    def run(self, rerun_data):
        if not _profiler:
            return real(self, rerun_data)
        _profiler[0].enable()
        try:
            return real(self, rerun_data)
        finally:
            _profiler[0].disable()

    return run


def session(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["browser_id"] = OWNER
    at.switch_page(page)
    return at


def timed(at: AppTest, change=None) -> float:
    t = time.perf_counter()
    (change(at) if change else at).run()
    seconds = time.perf_counter() - t
    assert not at.exception, at.exception
    return seconds


# ---- the earlier code, patched back in for "before" ------------------------------------------------------


def _old_samples_grid(data) -> None:
    import streamlit as st

    from playground.train.data import CLASSES

    firsts = [int((data.train_labels == c).nonzero()[0]) for c in range(10)]
    st.image([data.train_images[i].numpy() for i in firsts], caption=list(CLASSES), width=84)


def _old_download_button(name, ckpt) -> None:
    import streamlit as st

    from playground.train.checkpoints import save_checkpoint

    data = save_checkpoint(ckpt.spec, ckpt.state_dict, ckpt.config, ckpt.history)
    st.download_button("Download this model (.pt)", data, file_name="cnn-playground-model.pt", key="mi_dl")


def before_patches() -> list:
    import dataclasses

    import ui.inspect
    import ui.training

    real_choose, kept = ui.inspect.choose_model, []

    def choose_model():  # a new Checkpoint each rerun, keyed on its id (kept alive, so no id is reused)
        chosen = real_choose()
        if chosen is None:
            return None
        name, ckpt, _ = chosen
        kept.append(dataclasses.replace(ckpt))
        return name, kept[-1], name + str(id(kept[-1]))

    return [mock.patch.object(ui.training, "samples_grid", _old_samples_grid),
            mock.patch.object(ui.training, "ended_curves", ui.training.ended_curves.__wrapped__),  # uncached
            mock.patch.object(ui.inspect, "model_figures", ui.inspect.model_figures.__wrapped__),
            mock.patch.object(ui.inspect, "download_button", _old_download_button),
            mock.patch.object(ui.inspect, "choose_model", choose_model)]  # fmt: skip


# ---- measures --------------------------------------------------------------------------------------------


def measure(repeats: int, before: bool, evaluations: list) -> dict[str, list[float]]:
    import streamlit as st

    st.cache_data.clear()  # the Inspect page's evaluations: none kept from the other variant
    patches = before_patches() if before else []
    out: dict[str, list[float]] = {k: [] for k in ("explorer first", "explorer rerun", "studio first", "studio rerun",
                                                   "inspect first", "inspect rerun")}  # fmt: skip
    n0 = len(evaluations)
    with contextlib.ExitStack() as stack:
        for p in patches:
            stack.enter_context(p)
        for i in range(repeats):
            at = session(EXPLORER)
            out["explorer first"].append(timed(at))
            out["explorer rerun"].append(timed(at, lambda at, i=i: at.number_input(key="cx_bias").set_value(i + 1.5)))
        for i in range(repeats):
            at = session(STUDIO)
            out["studio first"].append(timed(at))
            out["studio rerun"].append(timed(at, lambda at, i=i: at.number_input(key="ts_seed").set_value(100 + i)))
        for i in range(repeats):
            at = session(INSPECT)
            out["inspect first"].append(timed(at))
            assert any(s.value.startswith("Test accuracy") for s in at.subheader)
            out["inspect rerun"].append(timed(at, lambda at, i=i: at.number_input(key="mi_idx").set_value(10 + i)))
    out["evaluations"] = [len(evaluations) - n0]
    return out


def profile(page: str, change) -> str:
    at = session(page)
    at.run()
    _profiler.append(cProfile.Profile())
    try:
        change(at).run()
    finally:
        prof = _profiler.pop()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(r"(wt-|/work/|ui/|playground/|pages/)", 15)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="cnnpg-bench-sessions-"))
    os.environ["PLAYGROUND_RUNS_DIR"] = str(work / "runs")
    if not os.environ.get("PLAYGROUND_DATA_DIR"):
        from tests.fakedata import write_fake_fashion_mnist

        os.environ["PLAYGROUND_DATA_DIR"] = str(write_fake_fashion_mnist(work / "data", 60_000, 10_000))
    script_runner.ScriptRunner._run_script = _profiled_run_script(script_runner.ScriptRunner._run_script)

    import ui.inspect
    from playground.train.loop import TrainConfig
    from playground.train.models import PRESETS
    from playground.train.presets import CLASSROOM
    from playground.train.runs import RunManager, Status

    evaluations: list[int] = []
    real_evaluate = ui.inspect.evaluate_apart
    ui.inspect.evaluate_apart = lambda *a, **k: evaluations.append(1) or real_evaluate(*a, **k)
    cold = session(STUDIO)
    cold_seconds = timed(cold)  # torch, the dataset, the run manager: once per server
    warm = session(EXPLORER)  # the explorer's own first use (its imports, the sample pictures): once per server
    timed(warm)
    timed(warm, lambda at: at.number_input(key="cx_bias").set_value(0.5))
    from ui.server import dataset, run_manager

    manager: RunManager = run_manager()
    run = manager.submit(OWNER, PRESETS["Classic (default)"], TrainConfig(**CLASSROOM), dataset())
    end = time.monotonic() + 600
    while run.status != Status.FINISHED and time.monotonic() < end:
        time.sleep(0.5)
    assert run.status == Status.FINISHED, run.status
    after = measure(args.repeats, before=False, evaluations=evaluations)
    before = measure(args.repeats, before=True, evaluations=evaluations)
    after2 = measure(args.repeats, before=False, evaluations=evaluations)  # interleaved: drift shows
    for k in after:
        after[k] += after2[k]
    load = os.getloadavg()[0]
    n = args.repeats
    print(f"\n`python -m bench.bench_sessions --repeats {n}`, {time.strftime('%Y-%m-%d')}, load average {load:.1f}, "
          f"a run of the classic network with the classroom preset\n")  # fmt: skip
    print(f"| server time, median of {n} (after: of {2 * n}, before and after it) | before | after | ratio |")
    print("|---|---|---|---|")
    rows = (("explorer first", "explorer, a new session's first visit (no cut: for comparison)"),
            ("explorer rerun", "explorer, a rerun (a changed bias)"),
            ("studio first", f"studio, a new session's first visit (the server's very first: {cold_seconds:.1f} s)"),
            ("studio rerun", "studio, a rerun (a changed setting)"),
            ("inspect first", "Inspect, a new session's first visit (its browser's finished run)"),
            ("inspect rerun", "Inspect, a rerun (another test image)"))  # fmt: skip
    for key, label in rows:
        b, a = statistics.median(before[key]), statistics.median(after[key])
        print(f"| {label} | {_ms(b)} | {_ms(a)} | {b / a:.1f}× |")
    evals = after["evaluations"][0] + after2["evaluations"][0]
    print(f"| evaluations of the test images in {2 * n} page runs (after: {4 * n}) | {before['evaluations'][0]} "
          f"| {evals} | |")  # fmt: skip
    if args.profile:
        studio = profile(STUDIO, lambda at: at.number_input(key="ts_seed").set_value(7))
        inspect = profile(INSPECT, lambda at: at.number_input(key="mi_idx").set_value(3))
        print(f"\nProfile of one studio rerun (after):\n{studio}\nProfile of one Inspect rerun (after):\n{inspect}")
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    return 0


def _ms(m: float) -> str:
    return f"{m * 1000:,.0f} ms" if m < 10 else f"{m:,.1f} s"


if __name__ == "__main__":
    sys.exit(main())
