"""AppTest: the limits as the pages show them: names as plain text, refusals as sentences, the studio's budget,
the upload limit beside each uploader, a network without conv layers, the data's fallback explained."""

import io
import re
from pathlib import Path

import torch
from streamlit.testing.v1 import AppTest

from playground.limits import MAX_UPLOAD_MB
from playground.train.checkpoints import save_checkpoint
from playground.train.models import DEFAULT_SPEC, build_model
from tests.fakedata import write_fake_fashion_mnist

ROOT = Path(__file__).resolve().parents[1]
EVIL = "![x](http://example.invalid/a.png)"


def page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page(f"pages/{name}").run()
    assert not at.exception, at.exception
    return at


def shown_literally(source: str, name: str) -> bool:
    """Markdown ``source`` shows ``name`` as its characters: no image or link syntax survives unescaped, and
    undoing CommonMark's backslash escapes (and our zero-width spaces) gives the name back."""
    unescaped = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", source).replace("\u200b", "")
    return name in unescaped and "![" not in source and "](" not in source and "://" not in source


def upload_checkpoint(at: AppTest, filename: str, data: bytes) -> AppTest:
    at.radio(key="mi_source").set_value("Upload a checkpoint").run()
    at.file_uploader(key="mi_upload").set_value((filename, data, "application/octet-stream")).run()
    assert not at.exception, at.exception
    return at


def checkpoint(spec: dict) -> bytes:
    return save_checkpoint(spec, build_model(spec), {}, {})


def test_file_and_network_names_show_as_plain_text(fake_data):
    spec = {**DEFAULT_SPEC, "name": "![y](http://example.invalid/b.png) :material/home:"}
    at = upload_checkpoint(page("3_Inspect_model.py"), f"{EVIL}.pt", checkpoint(spec))
    caption = next(c.value for c in at.caption if c.value.startswith("Inspecting"))
    assert shown_literally(caption, f"{EVIL}.pt") and shown_literally(caption, spec["name"])
    assert ":material" not in caption  # a zero-width space breaks Streamlit's icon directive


def test_an_uploaded_image_name_shows_as_plain_text(fake_data):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (40, 30), 128).save(buf, "PNG")
    at = page("1_Convolution_explorer.py")
    at.radio(key="cx_source").set_value("Upload").run()
    at.file_uploader(key="cx_upload").set_value((f"{EVIL}.png", buf.getvalue(), "image/png")).run()
    assert not at.exception
    note = next(m.value for m in at.markdown if "40×30 px" in m.value)
    assert shown_literally(note, f"{EVIL}.png")


def test_a_refusal_quoting_the_file_shows_it_as_plain_text(fake_data):
    spec = {"layers": [{"type": EVIL}]}
    buf = io.BytesIO()
    torch.save({"spec": spec, "state_dict": {}, "config": {}, "history": {}}, buf)
    at = upload_checkpoint(page("3_Inspect_model.py"), "evil.pt", buf.getvalue())
    assert "Unknown layer type" in at.error[0].value and shown_literally(at.error[0].value, EVIL)


def test_each_uploader_states_the_one_upload_limit(fake_data):
    at = page("3_Inspect_model.py")
    at.radio(key="mi_source").set_value("Upload a checkpoint").run()
    assert f"up to {MAX_UPLOAD_MB} MB" in at.file_uploader(key="mi_upload").label
    at = page("1_Convolution_explorer.py")
    at.radio(key="cx_source").set_value("Upload").run()
    assert f"up to {MAX_UPLOAD_MB} MB" in at.file_uploader(key="cx_upload").label


def test_a_network_without_conv_or_pool_layers_shows_what_it_can(fake_data):
    spec = {"name": "Flat", "layers": [{"type": "flatten"}, {"type": "linear", "out_features": 10}]}
    at = upload_checkpoint(page("3_Inspect_model.py"), "flat.pt", checkpoint(spec))
    assert not at.error
    infos = " ".join(i.value for i in at.info)
    assert "no convolution layer, so there are no learned filters" in infos
    assert "no convolution or pooling layer, so there are no feature maps" in infos
    assert any(s.value.startswith("Test accuracy") for s in at.subheader)
    assert not any(s.value.startswith("Learned filters") for s in at.subheader)
    assert len(at.get("plotly_chart")) == 3  # confusion, what the model sees, probabilities
    assert not [s for s in at.selectbox if s.key == "mi_layer"]


def test_an_evaluation_over_its_budget_is_a_sentence_and_the_rest_still_shows(fake_data, monkeypatch):
    from playground.train import budget
    from tests.test_sandbox import PADDED

    monkeypatch.setenv("PLAYGROUND_EVAL_SECONDS", "5")
    monkeypatch.setattr(budget, "EVAL_SECONDS_PER_MAC", 1e-6)  # as if this server were slow: the 100 fake images
    at = upload_checkpoint(page("3_Inspect_model.py"), "padded.pt", checkpoint(PADDED))
    assert "over this server's limit of 5 s" in at.error[0].value
    assert not any(s.value.startswith("Test accuracy") for s in at.subheader)
    assert any(s.value.startswith("Learned filters") for s in at.subheader)


def test_the_studio_shows_estimates_and_refuses_over_the_budget(fake_data, monkeypatch):
    at = page("2_Training_studio.py")
    table = next(m.value for m in at.markdown if m.value.startswith("| # | layer"))
    assert re.search(r"training estimate \(batch 256, 60,000 images\) \| \| \| ~[\d,]+ MB peak \| ~[\d,]+ s per", table)
    assert any("Estimated for this network and these settings" in c.value for c in at.caption)
    assert not at.button(key="ts_train").disabled
    monkeypatch.setenv("PLAYGROUND_MAX_NETWORK_MB", "500")
    at = page("2_Training_studio.py")
    assert "over this server's budget of 500 MB (PLAYGROUND_MAX_NETWORK_MB)" in at.error[0].value
    assert at.button(key="ts_train").disabled


def test_the_studio_says_which_data_copy_it_used_and_why(tmp_path, monkeypatch):
    import streamlit as st

    write_fake_fashion_mnist(tmp_path / "data", n_train=300, n_test=100)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "missing"))
    st.cache_resource.clear()
    at = page("2_Training_studio.py")
    st.cache_resource.clear()
    assert any(f"{tmp_path / 'missing'}, which does not exist" in w.value and "using ./data" in w.value
               for w in at.warning)  # fmt: skip


def test_an_uploaded_checkpoint_is_evaluated_once_not_on_every_rerun(fake_data, monkeypatch):
    """Each evaluation is a worker process that may take up to PLAYGROUND_EVAL_SECONDS: once per upload."""
    import ui.inspect

    calls = []
    real = ui.inspect.evaluate_apart
    monkeypatch.setattr(ui.inspect, "evaluate_apart", lambda *a, **k: calls.append(1) or real(*a, **k))
    at = upload_checkpoint(page("3_Inspect_model.py"), "mine.pt", checkpoint(DEFAULT_SPEC))
    assert len(calls) == 2  # the bundled model the page opens with, then the upload
    at.number_input(key="mi_idx").set_value(5).run()
    at.radio(key="mi_input").set_value("My own image").run()
    assert not at.exception and any(s.value.startswith("Test accuracy") for s in at.subheader)
    assert len(calls) == 2
