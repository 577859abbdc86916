"""AppTest: the export controls of the explorer, the studio and Inspect (buttons, file names, MIME types, contents)."""

from __future__ import annotations

import csv
import io
import sys
import time

import pytest
from PIL import Image
from streamlit.runtime.media_file_manager import MediaFileManager

from tests.apptest import open_page
from ui import exports


@pytest.fixture
def files(monkeypatch):
    """Every file a download button hands to Streamlit, by file name: (mime, bytes or a callable making them)."""
    made: dict[str, tuple[str, object]] = {}
    add, add_deferred = MediaFileManager.add, MediaFileManager.add_deferred

    def record(self, data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        made[file_name] = (mimetype, data)
        return add(self, data, mimetype, coordinates, file_name, is_for_static_download)

    def record_deferred(self, callable_, mimetype, coordinates, file_name=None, **kw):
        made[file_name] = (mimetype, callable_)
        return add_deferred(self, callable_, mimetype, coordinates, file_name=file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add", record)
    monkeypatch.setattr(MediaFileManager, "add_deferred", record_deferred)
    return made


def _recording(monkeypatch, name: str) -> list[str]:
    """Record what ``ui.exports.<name>`` (the engine's code writer) returns on the page."""
    texts, engine = [], getattr(exports, name)
    monkeypatch.setattr(exports, name, lambda *a, **k: texts.append(engine(*a, **k)) or texts[-1])
    return texts


def _bytes(entry) -> bytes:
    data = entry[1]() if callable(entry[1]) else entry[1]
    return data.encode() if isinstance(data, str) else data


def test_explorer_shows_the_layer_code_and_offers_it_and_the_gif(files, monkeypatch):
    texts = _recording(monkeypatch, "layer_code")
    at = open_page("pages/1_Convolution_explorer.py", {"src": "grid"})
    code = next(c.value for c in at.code if "nn.Sequential(" in c.value)
    assert code == texts[-1].rstrip("\n")  # the block shows the engine's text (st.code drops the final newline)
    assert "x = torch.tensor(" in code and "nn.ReLU()" in code and "nn.MaxPool2d(" in code
    assert at.download_button(key="cx_code_dl").label == "Download the code (.py)"
    assert files[exports.LAYER_NAME] == ("text/x-python", texts[-1].encode())
    assert "one per output cell: the whole 4×4 output" in "\n".join(m.value for m in at.markdown)
    assert not [b for b in at.download_button if b.key == "cx_gif_dl"]  # made only on request
    at.button(key="cx_gif_make").click().run()
    assert not at.exception
    assert at.download_button(key="cx_gif_dl").label == "Download the GIF"
    mime, data = files[exports.GIF_NAME]
    gif = Image.open(io.BytesIO(data))
    assert mime == "image/gif" and gif.format == "GIF" and gif.n_frames == 16
    at.number_input(key="cx_stride_h").set_value(2).run()  # other settings: that GIF is not offered any more
    assert not [b for b in at.download_button if b.key == "cx_gif_dl"]
    assert any("make it again" in c.value for c in at.caption)


def test_the_transposed_kind_exports_its_own_layer_code_and_gif(files, monkeypatch):
    texts = _recording(monkeypatch, "transposed_code")
    at = open_page("pages/1_Convolution_explorer.py", {"src": "grid", "kind": "transposed", "stride": "2,1"})
    code = next(c.value for c in at.code if "nn.Sequential(" in c.value)
    assert code == texts[-1].rstrip("\n") and "nn.ConvTranspose2d(1, 1, (3, 3), stride=(2, 1)," in code
    assert "nn.Conv2d(" not in code and "x = torch.tensor(" in code
    assert files[exports.LAYER_NAME] == ("text/x-python", texts[-1].encode())
    words = "\n".join(m.value for m in at.markdown)
    assert "spread out with zeros" in words and "one per output cell: the whole 13×8 output" in words
    at.button(key="cx_gif_make").click().run()
    gif = Image.open(io.BytesIO(files[exports.GIF_NAME][1]))
    assert gif.n_frames == 13 * 8  # (6 − 1)·2 + 3 rows, (6 − 1)·1 + 3 columns: a frame each


def test_the_explorer_offers_an_mp4_of_the_same_frames(files):
    import av  # (in requirements.txt)

    at = open_page("pages/1_Convolution_explorer.py", {"src": "grid"})
    assert not [b for b in at.download_button if b.key == "cx_mp4_dl"]  # made only on request
    at.button(key="cx_mp4_make").click().run()
    assert not at.exception and not at.warning
    assert at.download_button(key="cx_mp4_dl").label == "Download the MP4"
    mime, data = files[exports.MP4_NAME]
    with av.open(io.BytesIO(data)) as box:
        assert mime == "video/mp4" and sum(1 for _ in box.decode(video=0)) == 16 + 2  # the last frame held


def test_without_pyav_the_mp4_button_says_what_to_install_and_the_gif_still_works(files, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # `import av` raises ImportError, as on a server without it
    at = open_page("pages/1_Convolution_explorer.py", {"src": "grid"})
    at.button(key="cx_mp4_make").click().run()
    assert not at.exception and "pip install av" in at.warning[0].value
    assert not [b for b in at.download_button if b.key == "cx_mp4_dl"]
    at.button(key="cx_gif_make").click().run()
    assert Image.open(io.BytesIO(files[exports.GIF_NAME][1])).n_frames == 16


def test_studio_shows_the_network_code_and_a_finished_runs_downloads(fake_data, files, monkeypatch):
    texts = _recording(monkeypatch, "network_code")
    at = open_page("pages/2_Training_studio.py")
    code = next(c.value for c in at.code if "nn.Sequential(" in c.value)
    assert code == texts[-1].rstrip("\n") and "if args.train:" in code
    assert files[exports.NETWORK_NAME] == ("text/x-python", texts[-1].encode())
    assert at.download_button(key="ts_code_dl").label == "Download the code (.py)"
    at.selectbox(key="ts_preset").set_value("Tiny (fast demo)").run()
    at.number_input(key="ts_epochs").set_value(1).run()
    at.button(key="ts_train").click().run()
    deadline = time.monotonic() + 90
    while not at.success and time.monotonic() < deadline:  # fragments do not tick in AppTest: rerun by hand
        time.sleep(0.5)
        at.run()
    assert at.success, "the run did not finish"
    at.run()
    assert at.download_button(key="ts_curves_dl").label == "Curves (.png)"
    mime, png = files[exports.CURVES_NAME]
    assert mime == "image/png" and Image.open(io.BytesIO(png)).size == (1400, 470)
    mime, text = files[exports.METRICS_NAME]
    rows = list(csv.DictReader(io.StringIO(_bytes((mime, text)).decode())))
    assert mime == "text/csv" and {r["kind"] for r in rows} == {"train", "eval", "final", "setting"}
    assert {r["name"]: r["value"] for r in rows if r["kind"] == "setting"}["epochs"] == "1"

    files.clear()
    at.switch_page("pages/3_Inspect_model.py").run()
    assert not at.exception
    assert at.download_button(key="mi_confusion_dl").label == "Confusion matrix (.png)"
    mime, made = files[exports.CONFUSION_NAME]
    assert mime == "image/png" and callable(made)  # drawn only when clicked
    assert Image.open(io.BytesIO(_bytes(files[exports.CONFUSION_NAME]))).format == "PNG"
    assert files[exports.METRICS_NAME][0] == "text/csv"
