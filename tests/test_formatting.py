"""Every number formatter of the studio and inspect pages takes any float: NaN, ±inf, 1e308, 5e-324, -0.0 (fuzzed)."""

import io
import math

from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image

from playground.explorer.explain import fmt
from playground.render.curve_picture import HEIGHT, WIDTH, curves_picture, log_ticks, nice_ticks, progress_text
from playground.render.train_figures import curves_figure
from playground.train.status import RunSnapshot, Status
from ui.run_status import describe

ODD = [math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, -0.0]
anything = st.floats(allow_nan=True, allow_infinity=True)
few = st.lists(anything, min_size=0, max_size=6)


def oddly(f):
    """Each odd value as an explicit example, so they are always tried whatever hypothesis draws."""
    for v in ODD:
        f = example(v, 3)(f)
    return f


@given(anything, st.integers(0, 6))
@oddly
def test_fmt_writes_any_float(x, digits):
    text = fmt(x, digits)
    assert text and "-" not in text  # a real minus
    if math.isnan(x):
        assert text == "NaN"
    elif math.isinf(x):
        assert text == ("∞" if x > 0 else "−∞")
    else:  # the text reads back as the number, to the precision shown
        back = float(text.replace("−", "-"))
        if math.isinf(back):  # 1.5e308 to one digit is 2e+308, which no float holds
            assert abs(x) > 1e307
        else:
            assert math.isclose(back, x, rel_tol=10 ** -max(1, digits) * 5, abs_tol=10**-digits)


def history(values: list[float]) -> dict:
    n = len(values)
    return {"step": list(range(1, n + 1)), "loss": values, "eval_step": list(range(1, n + 1)), "test_loss": values,
            "test_acc": values, "steps_per_epoch": 2.0}  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(few, st.booleans())
@example([math.nan, math.inf, -math.inf], False)
@example([1e308, -1e308, 5e-324, -0.0], True)
@example([2.5, 1e308], True)
def test_the_live_picture_and_its_caption_take_any_loss(values, log):
    h = history(values)
    picture = curves_picture([("run 1", history([2.0, 1.0])), ("run 2", h)], log, 3)
    assert Image.open(io.BytesIO(picture.data)).size == (WIDTH, HEIGHT)
    text = progress_text("run 2", h, 3)
    assert text.startswith("run 2: ") and "nan" not in text and "inf" not in text
    assert curves_figure([("run 2", h)], log).to_json().startswith("{")


@given(anything, anything)
@example(math.nan, 1.0)
@example(0.0, math.inf)
@example(-1e308, 1e308)
@example(5e-324, 1e-323)
@example(-0.0, 0.0)
def test_ticks_are_finite_and_ordered_for_any_range(lo, hi):
    for ticks in (nice_ticks(lo, hi), log_ticks(lo, hi)):
        assert all(math.isfinite(t) for t in ticks)
        assert ticks == sorted(ticks)


maybe = st.one_of(st.none(), anything)


@given(st.sampled_from(list(Status)), anything, anything, maybe, maybe)
@example(Status.RUNNING, math.nan, math.inf, math.inf, None)
@example(Status.FINISHED, 1e308, -math.inf, None, math.nan)
@example(Status.INTERRUPTED, -0.0, 5e-324, -1.0, 5e-324)
def test_the_status_line_takes_any_numbers(status, progress, rate, eta, accuracy):
    now = RunSnapshot("r", status, 1, progress, rate, eta, {}, "Something went wrong.", accuracy)
    line = describe(now, 3, 10_000)
    assert line.text and "nan" not in line.text.lower() and "inf" not in line.text.lower()
    if line.kind == "progress":
        assert 0.0 <= line.progress <= 1.0
