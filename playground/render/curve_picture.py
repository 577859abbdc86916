"""The Training studio's live curves as a picture, drawn with Pillow in a few milliseconds.

While a run trains, the page redraws its curves every few seconds. With a plotly chart Chromium
spent ~10% of a core on the page (measured during a run), and on a laptop that CPU is taken from
the run (−10% images/s in ``bench.bench_live``); with this picture it spends ~4.5%, most of it
Streamlit's own work, and the run keeps its speed. Drawing it takes the server ~25 ms
(matplotlib would take ~85 ms). The picture shows what ``train_figures.curves_figure``
shows, in the same colours, plus the latest values written out (a picture has no hover); the
interactive chart takes over when the run ends.
"""

from __future__ import annotations

import io
import itertools
import math
from dataclasses import dataclass

from PIL import Image, ImageDraw

from playground.explorer.explain import fmt
from playground.render.colours import RUN_COLOURS
from playground.render.pictures import Picture
from playground.render.pictures import font as _font  # a local name: "font" is a variable here
from playground.render.train_figures import smooth, thin

WIDTH, HEIGHT = 1400, 470
TEXT, SMALL = 26, 22
AXIS, GRID, INK = (120, 120, 120), (228, 228, 228), (40, 40, 40)
LIMIT = 1e300  # values drawn beyond it are clamped: an axis to 10³⁰⁸ and back overflows float arithmetic


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values (steps of 1, 2, 2.5 or 5 × 10^k) covering [lo, hi]; just the ends of a range
    too wide or too narrow for float arithmetic, none for a range that is not finite."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    raw = (hi - lo) / n
    if not (math.isfinite(raw) and raw > 1e-300 and hi > lo):
        return sorted({lo, hi})
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * 0.999)
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + i * step, 12) for i in range(int((hi - first) / step + 1e-9) + 1)]


def log_ticks(lo: float, hi: float) -> list[float]:
    """1, 2 and 5 × 10^k inside [lo, hi] (lo > 0); round linear ticks when fewer than two fall inside."""
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        return [t for t in nice_ticks(lo, hi, 3) if t > 0]
    first, last = max(math.floor(math.log10(lo)), -307), min(math.ceil(math.log10(hi)), 307)  # 10.0**309 overflows
    ticks = [m * 10.0**k for k in range(first, last + 1) for m in (1, 2, 5)]
    inside = [t for t in ticks if lo <= t <= hi]
    return inside if len(inside) >= 2 else [t for t in nice_ticks(lo, hi, 3) if t > 0]


@dataclass(frozen=True)
class _Panel:
    """A plot area on the canvas and the data ranges it shows."""

    box: tuple[int, int, int, int]  # left, top, right, bottom in pixels
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    log: bool = False

    def _y(self, y: float) -> float:
        return math.log10(max(y, 1e-12)) if self.log else y

    def point(self, x: float, y: float) -> tuple[float, float]:
        (left, top, right, bottom), (x0, x1) = self.box, self.x_range
        y0, y1 = (self._y(v) for v in self.y_range)
        fx, fy = (x - x0) / (x1 - x0), (self._y(y) - y0) / ((y1 - y0) or 1)
        return left + fx * (right - left), bottom - fy * (bottom - top)


def _range(values: list[float], log: bool = False, limits: tuple[float, float] = (-math.inf, math.inf)):
    """The data's range with a 6% margin (in log space for a log axis), kept within ``limits``.

    ``values`` are finite and within ±``LIMIT`` (``_Curve.of`` sees to it), so the margin cannot overflow.
    """
    lo, hi = min(values), max(values)
    if log:
        lo, hi = math.log10(max(lo, 1e-6)), math.log10(max(hi, 1e-6))
    margin = (hi - lo) * 0.06 or 0.5
    if log:  # powers of ten beyond ±300 overflow (or vanish) in floats
        lo, hi = 10 ** max(lo - margin, -300.0), 10 ** min(hi + margin, 300.0)
    else:
        lo, hi = lo - margin, hi + margin
    lo, hi = max(lo, limits[0]), min(hi, limits[1])
    return (lo, hi) if hi > lo else (min(lo, hi), min(lo, hi) + 1.0)  # data outside the limits: an empty panel


def _draw_panel_frame(draw: ImageDraw.ImageDraw, panel: _Panel, title: str) -> None:
    """Grid lines, tick labels, the x label and the title of one panel."""
    left, top, right, bottom = panel.box
    font = _font(SMALL)
    ticks = log_ticks(*panel.y_range) if panel.log else nice_ticks(*panel.y_range)
    for v in ticks:
        y = panel.point(panel.x_range[0], v)[1]
        if top - 1 <= y <= bottom + 1:
            draw.line([(left, y), (right, y)], fill=GRID, width=1)
            draw.text((left - 8, y), fmt(v, 3), fill=INK, font=font, anchor="rm")
    for v in nice_ticks(*panel.x_range, 6):
        x = panel.point(v, panel.y_range[0])[0]
        if left - 1 <= x <= right + 1:
            draw.line([(x, top), (x, bottom)], fill=GRID, width=1)
            draw.text((x, bottom + 8), fmt(v, 2), fill=INK, font=font, anchor="mt")
    draw.rectangle(panel.box, outline=AXIS, width=1)
    draw.text(((left + right) / 2, bottom + 38), "epoch", fill=INK, font=font, anchor="mt")
    draw.text(((left + right) / 2, top - 14), title, fill=INK, font=_font(TEXT), anchor="mb")


def _clip(panel: _Panel, xs: list[float], ys: list[float]) -> list[tuple[float, float]]:
    left, top, right, bottom = panel.box
    points = (panel.point(x, y) for x, y in zip(xs, ys, strict=True))
    return [(min(max(x, left), right), min(max(y, top), bottom)) for x, y in points]


def _line(draw, panel, xs, ys, color, width: int, dashed: bool = False, markers: bool = False) -> None:
    pts = _clip(panel, xs, ys)
    if dashed:
        for (x0, y0), (x1, y1) in itertools.pairwise(pts):
            n = max(1, int(math.hypot(x1 - x0, y1 - y0) // 24))
            for i in range(n):  # 14 px dashes, 10 px gaps
                a, e = i / n, min(1.0, (i + 14 / 24) / n)
                draw.line([(x0 + a * (x1 - x0), y0 + a * (y1 - y0)), (x0 + e * (x1 - x0), y0 + e * (y1 - y0))],
                          fill=color, width=width)  # fmt: skip
    elif len(pts) > 1:
        draw.line(pts, fill=color, width=width, joint="curve")
    if markers or len(pts) == 1:
        for x, y in pts:
            draw.ellipse([x - 5, y - 5, x + 5, y + 5], fill=color)


def _faint(color: str, opacity: float) -> tuple[int, int, int]:
    """``color`` mixed with white, as plotly draws a line of that opacity on a white page."""
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    return tuple(round(255 - (255 - c) * opacity) for c in rgb)


@dataclass(frozen=True)
class _Curve:
    """One run's curves against epochs."""

    label: str
    color: str
    steps: list[float]  # in epochs
    loss: list[float]
    evals: list[float]  # in epochs
    acc: list[float]  # percent
    test_evals: list[float]  # in epochs (the evaluations whose test loss is plottable)
    test_loss: list[float]

    @classmethod
    def of(cls, label: str, h: dict, color: str) -> _Curve:
        """The curves of history ``h``, without points a picture cannot place (NaN, ±∞) and clamped to ±``LIMIT``."""
        spe = h.get("steps_per_epoch") or 1.0
        steps, loss = _plottable([s / spe for s in h["step"]], h["loss"])
        evals, acc = _plottable([s / spe for s in h["eval_step"]], [a * 100 for a in h["test_acc"]])
        test_evals, test_loss = _plottable([s / spe for s in h["eval_step"]], h.get("test_loss") or [])
        return cls(label, color, steps, loss, evals, acc, test_evals, test_loss)


def _plottable(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    pairs = [(x, max(-LIMIT, min(LIMIT, y))) for x, y in zip(xs, ys, strict=False)
             if math.isfinite(x) and math.isfinite(y)]  # fmt: skip
    return [x for x, _ in pairs], [y for _, y in pairs]


def curves_picture(runs: list[tuple[str, dict]], log_loss: bool = False, epochs: float | None = None) -> Picture:
    """Loss and test accuracy against epochs, one colour per run, newest last (as ``curves_figure``).

    Args:
        runs: (label, history) pairs; history has step, loss, eval_step, test_loss, test_acc, steps_per_epoch.
        log_loss: a log scale for the loss.
        epochs: the x axis runs to at least this many epochs (the newest run's plan, so its curve grows across it).
    """
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(canvas)
    curves = [_Curve.of(label, h, RUN_COLOURS[i % len(RUN_COLOURS)]) for i, (label, h) in enumerate(runs)]
    x_hi = max([epochs or 0.0] + [c.steps[-1] for c in curves if c.steps] + [c.evals[-1] for c in curves if c.evals])
    losses = [v for c in curves for v in (*c.loss, *c.test_loss)]
    accs = [v for c in curves for v in c.acc]
    newest = curves[-1] if curves else _Curve.of("", {"step": [], "loss": [], "eval_step": [], "test_acc": []}, "")
    loss_title, acc_title = "Loss", "Test accuracy"
    if newest.loss:  # the latest values written out: a picture has no hover
        loss_title += f": {fmt(smooth(newest.loss)[-1], 3)} training"
        if newest.test_loss:
            loss_title += f", {fmt(newest.test_loss[-1], 3)} test"
    if newest.acc and 0 <= newest.acc[-1] <= 100:
        acc_title += f": {newest.acc[-1]:.1f}%"
    loss_panel = _Panel((90, 60, 660, 350), (0.0, x_hi or 1.0), _range(losses or [0.1, 2.5], log_loss), log_loss)
    acc_panel = _Panel((800, 60, 1370, 350), (0.0, x_hi or 1.0), _range(accs or [0.0, 100.0], limits=(0, 100)))
    _draw_panel_frame(draw, loss_panel, loss_title)
    _draw_panel_frame(draw, acc_panel, acc_title)
    for c in curves:
        is_new = c is newest
        if is_new and c.loss:
            _line(draw, loss_panel, *thin(c.steps, c.loss), _faint(c.color, 0.35), 1)
        if c.loss:
            _line(draw, loss_panel, *thin(c.steps, smooth(c.loss)), c.color, 4 if is_new else 2)
        if c.test_loss:
            _line(draw, loss_panel, c.test_evals, c.test_loss, c.color, 3, dashed=True)
        if c.acc:
            _line(draw, acc_panel, c.evals, c.acc, c.color, 4 if is_new else 2, markers=True)
    x = 90
    for c in curves:  # the legend, under the panels
        draw.line([(x, 440), (x + 40, 440)], fill=c.color, width=4)
        draw.text((x + 50, 440), c.label, fill=INK, font=_font(SMALL), anchor="lm")
        x += 80 + int(_font(SMALL).getlength(c.label))
    key = "solid: training loss (smoothed) · dashed: test loss · dots: % right on 2,000 test images"
    draw.text((WIDTH - 30, 440), key, fill=AXIS, font=_font(SMALL), anchor="rm")
    if not newest.loss:
        draw.text((WIDTH / 2, 205), "waiting for the first training steps…", fill=AXIS, font=_font(TEXT), anchor="mm")
    buf = io.BytesIO()
    canvas.save(buf, "PNG", compress_level=1)
    return Picture(buf.getvalue(), "PNG")


def progress_text(label: str, h: dict, epochs: int) -> str:
    """Where a run is, in words: the picture's caption (and what a screen reader reads)."""
    if not h["step"]:
        return f"{label}: starting…"
    text = f"{label}: epoch {fmt(h['step'][-1] / (h.get('steps_per_epoch') or 1.0), 2)} of {epochs}"
    text += f", training loss {fmt(smooth(h['loss'])[-1], 3)} (smoothed)"
    if h["test_acc"] and 0 <= h["test_acc"][-1] <= 1:  # an accuracy, so never NaN; but say nothing odd if it were
        text += f", test accuracy {h['test_acc'][-1]:.1%} (on 2,000 test images)"
    return text
