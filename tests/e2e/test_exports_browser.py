"""Exports in a real Chromium: the explorer's GIF, MP4 and code downloads, Inspect's confusion matrix and metrics."""

from __future__ import annotations

import csv
import subprocess
import sys

import av
from PIL import Image

from tests.e2e.browser import shot, wait_idle


def _download(page, key: str, folder) -> object:
    """Click the download button keyed ``key`` and save the file under ``folder``; its path."""
    with page.expect_download(timeout=120_000) as info:
        page.locator(f".st-key-{key} button").click()
    download = info.value
    path = folder / download.suggested_filename
    download.save_as(path)
    return path


def _ready(page, key: str, name: str, timeout: float = 120_000) -> None:
    """Wait for the element keyed ``key``, let the page settle, and screenshot it as ``name``."""
    page.locator(f".st-key-{key} button").wait_for(timeout=timeout)
    wait_idle(page)
    page.locator(f".st-key-{key}").scroll_into_view_if_needed()
    shot(page, name)


def test_explorer_gif_and_code_then_inspect_confusion_png(page, fake_server, console_errors, tmp_path):
    page.goto(f"{fake_server}/Convolution_explorer?src=grid&padding=same")
    page.locator(".st-key-cx_s_Convolution img").wait_for(timeout=90_000)
    wait_idle(page)
    page.locator(".st-key-cx_export summary").click()
    page.locator(".st-key-cx_gif_make button").click()
    _ready(page, "cx_gif_dl", "exports-explorer")
    gif_path = _download(page, "cx_gif_dl", tmp_path)
    gif = Image.open(gif_path)
    assert gif_path.name == "cnn-playground-convolution.gif" and gif.format == "GIF" and gif.n_frames == 36
    gif.seek(0)
    gif.convert("RGB").save(tmp_path / "first.png")
    page.locator(".st-key-cx_mp4_make button").click()
    _ready(page, "cx_mp4_dl", "exports-explorer-mp4")
    mp4_path = _download(page, "cx_mp4_dl", tmp_path)
    with av.open(str(mp4_path)) as box:
        assert mp4_path.name == "cnn-playground-convolution.mp4" and box.streams.video[0].codec_context.name == "h264"
        assert sum(1 for _ in box.decode(video=0)) == 36 + 2  # a frame a cell, the last one held
    code_path = _download(page, "cx_code_dl", tmp_path)
    assert code_path.suffix == ".py"
    compile(code_path.read_text(), str(code_path), "exec")
    out = subprocess.run([sys.executable, str(code_path)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "conv: (1, 6, 6)" in out.stdout  # "same" padding keeps the 6×6 grid's size

    page.goto(f"{fake_server}/Inspect_model")
    _ready(page, "mi_confusion_dl", "exports-inspect")
    png_path = _download(page, "mi_confusion_dl", tmp_path)
    png = Image.open(png_path)
    assert png_path.name == "confusion-matrix.png" and png.format == "PNG" and png.width >= 1000
    assert page.locator("[data-testid='stException']").count() == 0
    assert not console_errors, console_errors


def test_studio_metrics_csv_after_a_run(page, fake_server, console_errors, tmp_path):
    page.goto(f"{fake_server}/Training_studio?net=tiny&epochs=1")
    page.locator(".st-key-ts_train button").wait_for(timeout=90_000)
    wait_idle(page)
    page.locator(".st-key-ts_train button").click()
    _ready(page, "ts_metrics_dl", "exports-studio", timeout=180_000)
    path = _download(page, "ts_metrics_dl", tmp_path)
    rows = list(csv.DictReader(path.open()))
    assert path.name == "training-metrics.csv"
    assert [r for r in rows if r["kind"] == "train"] and [r for r in rows if r["kind"] == "final"]
    curves = Image.open(_download(page, "ts_curves_dl", tmp_path))
    assert curves.format == "PNG" and curves.size == (1400, 470)
    assert not console_errors, console_errors
