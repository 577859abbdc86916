"""Checkpoints round-trip exactly and nothing but a CNN Playground checkpoint is ever accepted."""

import io
import os
import pickle
import zipfile

import pytest
import torch

from playground.train.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from playground.train.models import DEFAULT_SPEC, PRESETS, build_model
from tests.peak import load_apart


def test_round_trip_gives_identical_outputs():
    torch.manual_seed(0)
    model = build_model(DEFAULT_SPEC).eval()
    data = save_checkpoint(DEFAULT_SPEC, model, {"lr": 0.003}, {"loss": [2.3, 0.5]})
    assert set(torch.load(io.BytesIO(data), weights_only=True)) == {"spec", "state_dict", "config", "history"}
    ckpt = load_checkpoint(data)
    x = torch.rand(8, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(ckpt.model()(x), model(x))
    assert ckpt.config == {"lr": 0.003} and ckpt.history["loss"] == [2.3, 0.5]


def test_the_bundled_pretrained_model_loads():
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "assets" / "pretrained" / "model.pt"
    ckpt = load_checkpoint(path.read_bytes())
    # The default network, saved when its Linear layer's input count was written out (it is inferred now).
    typed = [dict(layer) for layer in DEFAULT_SPEC["layers"]]
    typed[-1]["in_features"] = 32 * 7 * 7
    assert ckpt.spec == {**DEFAULT_SPEC, "layers": typed}


class Exploit:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


MARKER = "/tmp/cnn-playground-pwned"


def _zip_not_torch() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    return buf.getvalue()


def _torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (os.urandom(2000), "not a PyTorch checkpoint"),
        (b"just some text\n" * 20, "not a PyTorch checkpoint"),
        (_zip_not_torch(), "not a readable PyTorch checkpoint"),
        (_torch_bytes({"weights": torch.zeros(3)}), "not a CNN Playground checkpoint"),
        (_torch_bytes({"spec": {"layers": []}, "state_dict": {}, "config": {}, "history": {}}), "cannot be built"),
        (
            _torch_bytes(
                {
                    "spec": PRESETS["Tiny (fast demo)"],
                    "state_dict": build_model(DEFAULT_SPEC).state_dict(),
                    "config": {},
                    "history": {},
                }
            ),
            "do not fit",
        ),
        (b"\x00" * (51 * 1024 * 1024), "limit"),
    ],
)
def test_refusals_say_why(data, words):
    with pytest.raises(CheckpointError, match=words):
        load_checkpoint(data)


@pytest.mark.parametrize("wrap", [pickle.dumps, _torch_bytes])
def test_a_pickle_that_would_run_code_is_refused_unread(wrap):
    if os.path.exists(MARKER):
        os.remove(MARKER)
    evil = wrap({"spec": DEFAULT_SPEC, "state_dict": {}, "config": Exploit(), "history": {}})
    with pytest.raises(CheckpointError):
        load_checkpoint(evil)
    assert not os.path.exists(MARKER)


def _recompress(data: bytes, big_only: bool = True) -> bytes:
    """The same torch.save zip, its large records deflated: what a zip bomb looks like."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            raw = src.read(info)
            deflate = len(raw) > 100_000 or not big_only
            dst.writestr(info.filename, raw, compress_type=zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED)
    return out.getvalue()


def test_a_zip_bomb_is_refused_before_inflating(tmp_path):
    """A ~300 KB checkpoint whose 400 MB storage record is deflated inside the zip: refused from the declared sizes."""

    state = build_model(DEFAULT_SPEC).state_dict()
    state["0.weight"] = torch.zeros(100_000_000)  # 400 MB of zeros: compresses to almost nothing
    bomb = _recompress(save_checkpoint(DEFAULT_SPEC, state, {}, {}))
    assert len(bomb) < 1_000_000
    path = tmp_path / "bomb.pt"
    path.write_bytes(bomb)
    message, grown_mb = load_apart(path)
    assert "compressed records" in message and "refused unread" in message
    assert grown_mb < 50  # inflating it would have cost 400 MB


def test_small_compressed_records_are_refused_too():
    data = _recompress(save_checkpoint(DEFAULT_SPEC, build_model(DEFAULT_SPEC), {}, {}), big_only=False)
    with pytest.raises(CheckpointError, match="compressed records"):
        load_checkpoint(data)


def test_records_claiming_more_bytes_than_the_file_are_refused():
    data = bytearray(save_checkpoint(DEFAULT_SPEC, build_model(DEFAULT_SPEC), {}, {}))
    biggest = max(zipfile.ZipFile(io.BytesIO(bytes(data))).infolist(), key=lambda i: i.file_size).filename
    entry = data.find(b"PK\x01\x02")  # the central directory's entries: rewrite the biggest record's declared sizes
    while entry != -1:
        name_len = int.from_bytes(data[entry + 28 : entry + 30], "little")
        if data[entry + 46 : entry + 46 + name_len].decode() == biggest:
            data[entry + 20 : entry + 28] = (2**31).to_bytes(4, "little") * 2  # compressed and uncompressed: 2 GB
        entry = data.find(b"PK\x01\x02", entry + 4)
    with pytest.raises(CheckpointError, match="claim more bytes"):
        load_checkpoint(bytes(data))


def test_a_pickle_over_its_limit_is_refused_unread():
    from playground.train.checkpoints import MAX_PICKLE_BYTES

    history = {"loss": [i / 3 for i in range(MAX_PICKLE_BYTES // 9 + 1000)]}  # 9 bytes a float when pickled
    with pytest.raises(CheckpointError, match="over 4 MB"):
        load_checkpoint(save_checkpoint(DEFAULT_SPEC, build_model(DEFAULT_SPEC), {}, history))


def test_the_legacy_format_is_refused():
    buf = io.BytesIO()
    torch.save({"spec": DEFAULT_SPEC}, buf, _use_new_zipfile_serialization=False)
    assert buf.getvalue().startswith(b"\x80")
    with pytest.raises(CheckpointError, match="old"):
        load_checkpoint(buf.getvalue())


GOOD = {"spec": DEFAULT_SPEC, "config": {}, "history": {}}


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"config": [("lr", 0.1)]}, "settings \\(config\\) should be a table of named values, but it is a list"),
        ({"config": [1, 2]}, "but it is a list"),
        ({"history": "abc"}, "history should be a table of named values, but it is a str"),
        ({"history": torch.zeros(3)}, "but it is a Tensor"),
        ({"history": {1: [0.5]}}, "other keys than names"),
        ({"spec": {**DEFAULT_SPEC, "name": ["x"]}}, "network name"),
        ({"spec": {**DEFAULT_SPEC, "name": "x" * 201}}, "network name"),
        ({"spec": {"layers": [{"type": ["conv"]}]}}, "Unknown layer type"),
        ({"spec": {"layers": [{"type": "flatten"}, {"type": "linear", "in_features": "x"}]}}, "in_features"),
        ({"state_dict": {1: torch.zeros(1)}}, "not a state_dict"),
    ],
)
def test_malformed_parts_are_refused_with_a_sentence(changes, words):
    obj = {**GOOD, "state_dict": build_model(DEFAULT_SPEC).state_dict(), **changes}
    with pytest.raises(CheckpointError, match=words):
        load_checkpoint(_torch_bytes(obj))


def test_a_network_without_conv_or_pool_loads():
    spec = {"name": "Flat", "layers": [{"type": "flatten"}, {"type": "linear", "out_features": 10}]}
    ckpt = load_checkpoint(save_checkpoint(spec, build_model(spec), {"lr": 0.1}, None))
    assert ckpt.history == {} and ckpt.model()(torch.rand(1, 1, 28, 28)).shape == (1, 10)
