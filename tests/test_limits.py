"""Network size limits: refused from the spec's arithmetic alone, on the row where they break, before anything is built;
and one upload limit, Streamlit's own, that the studio's largest checkpoint fits."""

import io
import tomllib
from pathlib import Path

import pytest
import torch

from playground import limits
from playground.train.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from playground.train.models import PRESETS, SpecError, build_model, summarize
from tests.peak import load_apart

ROOT = Path(__file__).resolve().parents[1]
FLAT = {"type": "flatten"}


def conv(c: int, **kw) -> dict:
    return {"type": "conv", "out_channels": c, "kernel": 3, "padding": 1, **kw}


HUGE = {
    "5e7 channels": {"layers": [conv(5 * 10**7), FLAT, {"type": "linear", "out_features": 10}]},
    "1e9 channels": {"layers": [{"type": "relu"}, conv(10**9), FLAT, {"type": "linear", "out_features": 10}]},
    "Linear 784→600,000": {"layers": [FLAT, {"type": "linear", "out_features": 600_000}]},
}


def test_the_presets_are_well_within_every_limit():
    for spec in PRESETS.values():
        s = summarize(spec)
        assert s.ok and s.total_params < limits.MAX_WEIGHTS / 10 and s.activations < limits.MAX_ACTIVATIONS / 10
        assert s.total_macs < limits.MAX_MACS / 10


@pytest.mark.parametrize(
    ("spec", "row", "words"),
    [
        (HUGE["5e7 channels"], 0, "500,000,000 weights"),
        (HUGE["1e9 channels"], 1, "10,000,000,000 weights"),
        (HUGE["Linear 784→600,000"], 1, "471,000,000 weights"),
        ({"layers": [conv(64), conv(16_384)]}, 1, "9,454,208 weights"),
        ({"layers": [conv(16, padding=5000)]}, 0, "numbers in the layers up to here"),  # 16×10,026² per image
        ({"layers": [conv(2048), {"type": "batchnorm"}, {"type": "relu"}, conv(8)]}, 2, "4,816,896 numbers"),
        ({"layers": [conv(64, kernel=11, padding=5), conv(1000, kernel=5, padding=2)]}, 1, "multiply-adds"),
        ({"layers": [{"type": "relu"}] * 10**6}, 100, "at most 100 layers"),
    ],
)
def test_over_a_limit_is_refused_on_its_row(spec, row, words):
    s = summarize(spec)
    assert not s.ok and s.error_row == row and words in s.error
    assert s.error.startswith(f"Layer {row + 1}: ") and len(s.rows) == row  # rows up to the broken one
    with pytest.raises(SpecError, match=words):
        build_model(spec)


def test_at_the_limit_is_accepted():
    # 5,500,000 weights: Linear 784→7,006 has 784·7,006 + 7,006 = 5,499,710; one more unit passes the limit
    assert summarize({"layers": [FLAT, {"type": "linear", "out_features": 7_006}]}, classes=None).ok
    assert not summarize({"layers": [FLAT, {"type": "linear", "out_features": 7_007}]}, classes=None).ok


def _spec_file(spec: dict) -> bytes:
    buf = io.BytesIO()
    torch.save({"spec": spec, "state_dict": {}, "config": {}, "history": {}}, buf)
    return buf.getvalue()


@pytest.mark.parametrize("name", list(HUGE))
def test_a_small_file_describing_a_huge_network_allocates_nothing(name, tmp_path):
    """The red team's 1.45 KB files allocated 1.8-1.9 GB (or raised RuntimeError): now refused with a sentence."""
    path = tmp_path / "huge.pt"
    path.write_bytes(_spec_file(HUGE[name]))
    assert path.stat().st_size < 2000
    message, grown_mb = load_apart(path)
    assert "cannot be built" in message and "over this server's limit" in message
    assert grown_mb < 50  # the peak resident memory grew by less than 50 MB


def test_the_upload_limit_is_streamlits():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == limits.MAX_UPLOAD_MB
    assert limits.MAX_UPLOAD_BYTES == limits.MAX_UPLOAD_MB * 2**20  # as Streamlit's server counts it
    from playground import images
    from playground.train import checkpoints

    assert checkpoints.MAX_BYTES == images.MAX_BYTES == limits.MAX_UPLOAD_BYTES
    with pytest.raises(CheckpointError, match=f"over the {limits.MAX_UPLOAD_MB} MB limit"):
        load_checkpoint(b"PK\x03\x04" + b"\x00" * limits.MAX_UPLOAD_BYTES)


def test_the_studios_largest_checkpoint_fits_the_upload_limit():
    """The largest network the limits allow, with the longest history the studio can make (30 epochs of batches
    of 32 over 60,000 images), saves under 25,000,000 bytes: under the limit however a browser counts a MB."""
    # Conv + BatchNorm pairs (their statistics count, as summarize counts them), then a Linear as wide as the limit
    # allows: one unit more and summarize refuses it.
    bn = {"type": "batchnorm"}
    head = [conv(96), bn, conv(96), bn, {"type": "maxpool", "kernel": 4}, FLAT]
    def weights(s) -> int:
        return s.total_params + sum(r.params for r in s.rows if r.type == "batchnorm")

    units = (limits.MAX_WEIGHTS - weights(summarize({"layers": head})) - 10) // (96 * 7 * 7 + 1 + 10)
    spec = {"layers": [*head, {"type": "linear", "out_features": units}, {"type": "linear", "out_features": 10}]}
    s = summarize(spec)
    assert s.ok and weights(s) > limits.MAX_WEIGHTS - 5_000  # at the limit
    spec["layers"][-2]["out_features"] += 1
    assert not summarize(spec).ok
    spec["layers"][-2]["out_features"] -= 1
    steps = 30 * (60_000 // 32 + 1)
    history = {"step": list(range(1, steps + 1)), "loss": [2.302585] * steps, "lr": [0.0030001] * steps,
               "eval_step": list(range(120)), "test_loss": [0.5] * 120, "test_acc": [0.9] * 120,
               "final_accuracy": 0.9}  # fmt: skip
    history["loss"], history["lr"] = [i / 7 for i in range(steps)], [i / 11 for i in range(steps)]  # all distinct
    config = {"optimizer": "adamw", "lr": 0.003, "batch_size": 32, "epochs": 30}
    data = save_checkpoint(spec, build_model(spec), config, history)
    assert len(data) < 25_000_000 <= limits.MAX_UPLOAD_BYTES
    assert load_checkpoint(data).history["step"][-1] == steps
