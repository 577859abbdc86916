"""AppTest: the Training studio and Inspect pages, on generated data read through the real loader."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page(f"pages/{name}").run()
    assert not at.exception, at.exception
    return at


def table(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("| # | layer"))


def test_studio_shows_the_network_table_and_lesson(fake_data):
    at = page("2_Training_studio.py")
    text = table(at)
    assert "16·(5·5·1) + 16 = 416" in text and "**29,034**" in text and "16×28×28" in text
    assert any("Parameter sharing" in i.value for i in at.info)
    assert not at.button(key="ts_train").disabled


@pytest.mark.parametrize("preset", ["Tiny (fast demo)", "Deeper (aims above 92%)", "Keras book"])
def test_presets_render(fake_data, preset):
    at = page("2_Training_studio.py")
    at.selectbox(key="ts_preset").set_value(preset).run()
    assert not at.exception and "**total**" in table(at)


def test_an_impossible_network_is_explained_and_train_is_disabled(fake_data):
    # The classic network with a typed Linear input count (1,568) and the second conv at stride 3: 14 → 4, so the
    # Linear's inputs no longer fit. The network comes in through a link.
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/2_Training_studio.py")
    at.query_params["layers"] = "conv16k5p2_bn_relu_max2_conv32k5s3p2_bn_relu_max2_flat_lin10i1568"
    at.run()
    assert not at.exception
    assert at.error and "Linear expects 1,568 inputs" in at.error[0].value
    assert "⚠️" in table(at)
    assert at.button(key="ts_train").disabled


def test_bad_settings_are_refused_with_a_message(fake_data):
    from tests.apptest import open_page

    at = open_page("pages/2_Training_studio.py", {"lr": "0", "epochs": "500"})  # a stale or crafted link
    notice = next(w.value for w in at.warning if "could not be used" in w.value)
    assert "lr=0 must be from" in notice.replace("\\", "") and "epochs=500 must be from 1 to 30" in notice
    assert at.number_input(key="ts_lr").value == 0.003 and at.number_input(key="ts_epochs").value == 3
    assert not at.button(key="ts_train").disabled  # the defaults stand, and train


def test_without_data_the_page_says_what_to_do(tmp_path, monkeypatch):
    import streamlit as st

    monkeypatch.delenv("PLAYGROUND_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("playground.train.data.DEBIAN_DIR", tmp_path / "none")
    st.cache_resource.clear()
    at = page("2_Training_studio.py")
    assert "apt-get install dataset-fashion-mnist" in at.error[0].value
    assert at.button(key="ts_train").disabled
    st.cache_resource.clear()


def test_train_then_inspect(fake_data):
    at = page("2_Training_studio.py")
    at.selectbox(key="ts_preset").set_value("Tiny (fast demo)").run()
    at.number_input(key="ts_epochs").set_value(2).run()
    at.button(key="ts_train").click().run()
    assert not at.exception
    deadline = time.monotonic() + 60
    while not at.success and time.monotonic() < deadline:  # fragments do not tick in AppTest: rerun by hand
        time.sleep(0.5)
        at.run()
    assert at.success and "test accuracy" in at.success[0].value
    spec = at.get("plotly_chart")[-1].proto.spec
    assert "Run 1" in spec
    at.switch_page("pages/3_Inspect_model.py").run()
    assert not at.exception
    assert at.radio(key="mi_source").value == "This browser's latest run"
    assert any(s.value.startswith("Test accuracy") for s in at.subheader)
    at.radio(key="mi_input").set_value("My own image").run()
    assert not at.exception
    at.radio(key="mi_source").set_value("Bundled pretrained model").run()
    at.selectbox(key="mi_layer").set_value(3).run()
    assert not at.exception


def test_live_curves_are_a_picture_unless_asked_for_the_interactive_chart(fake_data):
    at = page("2_Training_studio.py")
    at.selectbox(key="ts_preset").set_value("Tiny (fast demo)").run()
    at.number_input(key="ts_epochs").set_value(30).run()
    at.button(key="ts_train").click().run()
    deadline = time.monotonic() + 60
    while not any("epoch" in str(i.proto) for i in at.get("image")) and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
    assert at.get("image") and not at.get("plotly_chart")  # the picture, and its caption says where the run is
    assert any("Run 1: epoch" in str(i.proto) for i in at.get("image"))  # the curves' (watch-it-learn's follow)
    at.toggle(key="ts_interactive").set_value(True).run()
    assert at.get("plotly_chart") and "Run 1" in at.get("plotly_chart")[-1].proto.spec
    at.button(key="ts_stop").click().run()
    deadline = time.monotonic() + 30
    while not at.success and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
    at.toggle(key="ts_interactive").set_value(False).run()
    assert at.success and at.get("plotly_chart")  # a finished run always gets the interactive chart
    assert not at.exception


def test_the_receptive_fields_of_the_classic_network_are_written_out(fake_data):
    """Issue 10: each layer's field, jump and start, with the recurrence and the numbers, under the network table."""
    at = page("2_Training_studio.py")
    (box,) = [e for e in at.expander if e.label.startswith("Receptive fields")]
    table = box.markdown[-1].value
    assert "| 5 | Conv2d(16→32, 5×5, pad 2) | 14×14 px | 2 px | -6 | r = 6 + (5 − 1)·1·2 = 14, j = 2·1 = 2 |" in table
    assert "| 8 | MaxPool2d(2×2, stride 2) | 16×16 px | 4 px | -6 | r = 14 + (2 − 1)·1·2 = 16, j = 2·2 = 4 |" in table
    assert "| 9 | Flatten | the whole image |" in table
