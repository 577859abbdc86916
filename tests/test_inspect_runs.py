"""AppTest: the Inspect page shows a run's model from Run.checkpoint() and evaluates the test set once per run."""

import pytest
from streamlit.testing.v1 import AppTest

from playground.train.loop import TrainConfig
from playground.train.models import PRESETS, summarize
from playground.train.runs import RunManager, Status
from tests.test_page_training import ROOT
from tests.test_run_status import serve
from tests.test_runs import wait_for


@pytest.fixture
def trained(fake_data, tmp_path, monkeypatch):
    """A finished run of owner "me" in the manager the pages use."""
    from ui.server import dataset

    manager = RunManager(max_concurrent=1, runs_dir=tmp_path)
    serve(monkeypatch, manager)
    run = manager.submit("me", PRESETS["Tiny (fast demo)"], TrainConfig(epochs=1, batch_size=64), dataset())
    assert wait_for(lambda: run.status == Status.FINISHED, 60)
    return run


def test_the_test_set_is_evaluated_once_per_run_across_reruns_and_forgetting(trained, monkeypatch):
    import ui.inspect

    calls, evaluate = [], ui.inspect.evaluate_apart
    monkeypatch.setattr(ui.inspect, "evaluate_apart", lambda *a, **k: calls.append(1) or evaluate(*a, **k))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["browser_id"] = "me"  # this browser owns the run
    at.switch_page("pages/3_Inspect_model.py").run()
    assert at.radio(key="mi_source").value == "This browser's latest run"
    assert any(s.value.startswith("Test accuracy") for s in at.subheader)
    at.number_input(key="mi_idx").set_value(5).run()
    at.number_input(key="mi_idx").set_value(6).run()
    trained._forget()  # its owner was away: the weights are read back from disk, the evaluation is still cached
    at.run()
    assert not at.exception, at.exception
    assert "Inspecting run 1 of this browser: Tiny" in at.caption[0].value
    at.selectbox(key="mi_layer").set_value(1).run()
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)  # another tab of the same browser
    again.session_state["browser_id"] = "me"
    again.switch_page("pages/3_Inspect_model.py").run()
    assert not again.exception and any(s.value.startswith("Test accuracy") for s in again.subheader)
    assert len(calls) == 1  # six page runs, two sessions: one evaluation


def test_the_page_counts_parameters_and_converts_pixels_as_the_engine_does(trained):
    """The caption's count is the network table's; the test image reaches the model as training feeds it."""
    import ui.inspect
    from playground.train.evaluate import to_input
    from ui.server import dataset

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["browser_id"] = "me"
    at.switch_page("pages/3_Inspect_model.py").run()
    assert not at.exception, at.exception
    count = summarize(trained.spec).total_params
    assert count == sum(p.numel() for p in trained.checkpoint().model().parameters())
    assert f", {count:,} parameters." in at.caption[0].value
    seen = []
    real = ui.inspect.to_input
    ui.inspect.to_input = lambda images: seen.append(images) or real(images)
    try:
        at.number_input(key="mi_idx").set_value(7).run()
    finally:
        ui.inspect.to_input = real
    assert len(seen) == 1 and seen[0].dtype == dataset().test_images.dtype  # uint8 in: the engine divides by 255
    assert (to_input(seen[0])[0] * 255).round().to(dataset().test_images.dtype).equal(dataset().test_images[7][None])


def test_flatten_the_last_layer_and_softmax_are_written_out(trained):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["browser_id"] = "me"
    at.switch_page("pages/3_Inspect_model.py").run()
    assert not at.exception, at.exception
    (box,) = [e for e in at.expander if e.label.startswith("From features to a prediction")]
    text = "\n".join(m.value for m in box.markdown)
    flatten = next(r for r in summarize(trained.spec).rows if r.type == "flatten")
    assert f"one vector of {flatten.formula} numbers" in text
    (code,) = box.code
    assert code.value.startswith("z = (") and " + bias " in code.value
    assert "| sum | |" in text and text.count("\n| ") >= 11  # ten classes and the sum
