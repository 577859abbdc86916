"""Checkpoints round-trip exactly and nothing but a CNN Playground checkpoint is ever accepted."""

import io
import os
import pickle
import zipfile

import pytest
import torch

from playground.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from playground.models import DEFAULT_SPEC, PRESETS, build_model


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
