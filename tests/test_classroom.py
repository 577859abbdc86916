"""A lecturer's limits on a run's size (PLAYGROUND_MAX_EPOCHS, PLAYGROUND_MAX_IMAGES) and the classroom preset:
the studio's inputs are bounded and say so, links above the limits are refused in words, the engine refuses too."""

import time

import pytest

from playground.settings import from_environ
from playground.train.loop import TrainConfig
from playground.train.models import PRESETS
from playground.train.presets import CLASSROOM
from playground.train.runs import RunError, RunManager, Status
from tests.apptest import open_page
from tests.test_run_status import serve
from tests.test_runs import data, wait_for  # noqa: F401 (data is a fixture)

STUDIO = "pages/2_Training_studio.py"
TINY = PRESETS["Tiny (fast demo)"]


def test_the_engine_refuses_a_run_over_the_limits_with_a_sentence(data):  # noqa: F811
    manager = RunManager(max_concurrent=1, max_epochs=2, max_images=300)
    with pytest.raises(RunError, match=r"at most 2 epochs per run \(PLAYGROUND_MAX_EPOCHS\); this run asks for 3\."):
        manager.submit("a", TINY, TrainConfig(epochs=3, train_size=100), data)
    with pytest.raises(RunError, match=r"at most 300 images per run \(PLAYGROUND_MAX_IMAGES\); this run asks for 640"):
        manager.submit("a", TINY, TrainConfig(epochs=1), data)  # all 640 images of the fake set
    assert manager.runs_for("a") == []  # nothing was queued
    run = manager.submit("a", TINY, TrainConfig(epochs=2, train_size=300, threads=1), data)
    assert wait_for(lambda: run.status == Status.FINISHED, 60)


def test_the_run_manager_takes_its_limits_from_the_settings(tmp_path):
    s = from_environ({"PLAYGROUND_MAX_EPOCHS": "4", "PLAYGROUND_MAX_IMAGES": "2000",
                      "PLAYGROUND_RUNS_DIR": str(tmp_path)})  # fmt: skip
    manager = RunManager.from_settings(s)
    assert (manager.max_epochs, manager.max_images) == (4, 2000)


@pytest.fixture
def limited(fake_data, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MAX_EPOCHS", "2")
    monkeypatch.setenv("PLAYGROUND_MAX_IMAGES", "5000")


def test_the_studio_inputs_are_bounded_and_say_the_limit(limited):
    at = open_page(STUDIO)
    epochs, size = at.number_input(key="ts_epochs"), at.select_slider(key="ts_size")
    assert epochs.max == 2 and epochs.value == 2 and epochs.label == "Epochs (1–2, this server's limit)"
    assert list(size.options) == ["1000", "5000"] and size.value == 5000
    assert size.label == "Training images (at most 5,000 on this server)"
    assert at.session_state["_url_studio"] == {}  # the bounded values are this server's defaults


def test_a_link_above_the_limits_is_refused_with_a_sentence(limited):
    at = open_page(STUDIO, {"epochs": "3", "images": "60000", "batch": "64"})
    notice = next(w.value for w in at.warning if "could not be used" in w.value).replace("\\", "").replace("\u200b", "")
    assert "epochs=3 must be from 1 to 2 on this server (PLAYGROUND_MAX_EPOCHS: at most 2 epochs per run)" in notice
    assert "images=60000 must be one of 1000, 5000 on this server (PLAYGROUND_MAX_IMAGES" in notice
    assert at.number_input(key="ts_epochs").value == 2 and at.select_slider(key="ts_size").value == 5000
    assert at.select_slider(key="ts_bs").value == 64  # the rest of the link stands


def test_a_run_over_the_engine_limits_is_refused_on_the_page(fake_data, monkeypatch, tmp_path):
    """The page's inputs allow 30 epochs, but the engine's manager allows 1: Train says why, nothing runs."""
    manager = RunManager(max_concurrent=1, runs_dir=tmp_path, max_epochs=1)
    serve(monkeypatch, manager)
    at = open_page(STUDIO)
    at.button(key="ts_train").click().run()
    assert any("at most 1 epoch per run (PLAYGROUND_MAX_EPOCHS); this run asks for 3." in w.value for w in at.warning)
    assert manager.runs_for(at.session_state["browser_id"]) == []


def test_the_classroom_preset_sets_bounded_settings_that_travel_in_the_link_and_train(fake_data, monkeypatch,
                                                                                     tmp_path):  # fmt: skip
    manager = RunManager(max_concurrent=1, runs_dir=tmp_path)
    serve(monkeypatch, manager)
    at = open_page(STUDIO)
    at.selectbox(key="ts_preset").set_value("Tiny (fast demo)").run()
    at.button(key="ts_classroom").click().run()
    assert at.number_input(key="ts_epochs").value == CLASSROOM["epochs"] == 1
    assert at.select_slider(key="ts_size").value == CLASSROOM["train_size"] == 5000
    assert at.select_slider(key="ts_bs").value == CLASSROOM["batch_size"]
    assert at.session_state["_url_studio"] == {"net": "tiny", "batch": "128", "epochs": "1", "images": "5000"}
    at.button(key="ts_train").click().run()
    run = manager.runs_for(at.session_state["browser_id"])[-1]
    assert (run.config.epochs, run.config.train_size, run.config.batch_size) == (1, 5000, 128)
    assert wait_for(lambda: run.status == Status.FINISHED, 60), run.status
    history = run.snapshot().history
    assert history["step"][-1] == history["steps_per_epoch"] == 5  # one epoch of the fake set's 600 images, by 128
    deadline = time.monotonic() + 10
    while not at.success and time.monotonic() < deadline:
        at.run()
    assert at.success and "test accuracy" in at.success[0].value


def test_the_classroom_preset_is_the_default_where_the_lecturer_says_so(fake_data, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_CLASSROOM", "1")
    at = open_page(STUDIO)
    values = (at.number_input(key="ts_epochs").value, at.select_slider(key="ts_size").value,
              at.select_slider(key="ts_bs").value)  # fmt: skip
    assert values == (1, 5000, 128) and at.session_state["_url_studio"] == {}
    at = open_page(STUDIO, {"epochs": "3", "images": "60000"})  # a link still says what it wants
    assert at.number_input(key="ts_epochs").value == 3 and at.select_slider(key="ts_size").value == 60000
    assert not at.warning


def test_the_classroom_preset_stays_within_the_limits(fake_data, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_CLASSROOM", "1")
    monkeypatch.setenv("PLAYGROUND_MAX_IMAGES", "2000")
    at = open_page(STUDIO)
    assert at.select_slider(key="ts_size").value == 2000 and list(at.select_slider(key="ts_size").options) == [
        "1000", "2000"]  # fmt: skip
    assert at.button(key="ts_classroom").label == "🎓 Classroom preset: 1 epoch on 2,000 images"
