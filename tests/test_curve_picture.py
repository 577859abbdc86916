"""The live curves picture: ticks, ranges, where each curve lands, log scale, and the caption in words."""

import io
import math

import numpy as np
import pytest
from PIL import Image

from playground.explorer.explain import fmt
from playground.render.colours import RUN_COLOURS as COLORS
from playground.render.curve_picture import HEIGHT, WIDTH, _Panel, curves_picture, log_ticks, nice_ticks, progress_text
from playground.render.train_figures import smooth


def history(steps: int, evals: int = 4, spe: float = 100.0) -> dict:
    step = list(range(1, steps + 1))
    eval_step = [round(steps * (i + 1) / evals) for i in range(evals)]
    return {"step": step, "loss": [2.3 * math.exp(-s / 60) + 0.2 for s in step], "eval_step": eval_step,
            "test_loss": [2.0 * math.exp(-s / 60) + 0.25 for s in eval_step],
            "test_acc": [0.5 + 0.4 * (i + 1) / evals for i in range(evals)], "steps_per_epoch": spe}  # fmt: skip


def pixels(picture) -> np.ndarray:
    image = Image.open(io.BytesIO(picture.data))
    assert image.format == picture.format == "PNG"
    return np.asarray(image.convert("RGB")).astype(int)


def has(rgb: np.ndarray, color: str, box=None) -> bool:
    target = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])
    if box is not None:
        rgb = rgb[box[1] : box[3], box[0] : box[2]]
    return bool((np.abs(rgb - target).sum(-1) < 10).any())


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [(0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1]), (0.23, 2.41, [0.5, 1, 1.5, 2]), (76.8, 91.6, [80, 85, 90]),
     (0, 3, [0, 1, 2, 3]), (-1, 1, [-1, -0.5, 0, 0.5, 1])],
)  # fmt: skip
def test_nice_ticks(lo, hi, expected):
    assert nice_ticks(lo, hi) == pytest.approx(expected)


def test_nice_ticks_of_an_empty_range_still_give_ticks():
    assert 1 in nice_ticks(1, 1)


def test_log_ticks():
    assert log_ticks(0.15, 2.6) == pytest.approx([0.2, 0.5, 1, 2])
    assert log_ticks(0.31, 0.45) == pytest.approx([0.35, 0.4, 0.45])  # inside one 1-2-5 step: round linear ticks


def test_panel_maps_data_to_pixels():
    p = _Panel((100, 50, 600, 350), (0.0, 2.0), (0.0, 1.0))
    assert p.point(0, 0) == (100, 350) and p.point(2, 1) == (600, 50) and p.point(1, 0.5) == (350, 200)
    log = _Panel((100, 50, 600, 350), (0.0, 2.0), (0.1, 10.0), log=True)
    assert log.point(0, 1.0) == pytest.approx((100, 200))  # 1 is halfway between 0.1 and 10 on a log axis


def test_runs_are_drawn_in_their_colours_in_both_panels():
    rgb = pixels(curves_picture([("run 1", history(300)), ("run 2", history(150))], epochs=3))
    assert rgb.shape == (HEIGHT, WIDTH, 3)
    loss_box, acc_box = (90, 60, 660, 350), (800, 60, 1370, 350)
    for color in COLORS[:2]:
        assert has(rgb, color, loss_box) and has(rgb, color, acc_box)
    assert not has(rgb, COLORS[2])


def test_the_x_axis_spans_the_planned_epochs_so_the_curve_grows_across_it():
    rgb = pixels(curves_picture([("run 1", history(100))], epochs=4))  # 1 of 4 epochs done
    left, right = (90, 60, 375, 350), (400, 60, 660, 350)
    assert has(rgb, COLORS[0], left) and not has(rgb, COLORS[0], right)


def test_log_scale_and_empty_runs_draw_without_error():
    assert len(curves_picture([("run 1", history(50))], log_loss=True).data) > 1000
    empty = {"step": [], "loss": [], "eval_step": [], "test_loss": [], "test_acc": [], "steps_per_epoch": 1.0}
    assert not has(pixels(curves_picture([("run 1", empty)], epochs=3)), COLORS[0], (90, 60, 1370, 350))
    assert pixels(curves_picture([])).shape == (HEIGHT, WIDTH, 3)


def test_progress_text_says_what_the_picture_shows():
    h = history(150)
    loss = fmt(smooth(h["loss"])[-1], 3)  # the smoothed loss, as in the picture's title
    assert progress_text("run 2", h, 3) == (
        f"run 2: epoch 1.5 of 3, training loss {loss} (smoothed), test accuracy 90.0% (on 2,000 test images)"
    )
    assert progress_text("run 1", {"step": [], "loss": [], "test_acc": []}, 3) == "run 1: starting…"
