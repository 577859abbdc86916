"""The training engine on a small generated dataset read through the real loading path, and on the real data."""

import json
import os

import pytest
import torch

from playground.train.checkpoints import load_checkpoint
from playground.train.cli import main as train_cli
from playground.train.data import DataNotFound, load_fashion_mnist
from playground.train.loop import PRECISIONS, Done, Eval, Step, TrainConfig, resolve_precision, train
from playground.train.models import DEFAULT_SPEC, PRESETS
from tests.fakedata import write_fake_fashion_mnist

QUICK = TrainConfig(epochs=2, batch_size=64, lr=5e-3, evals_per_epoch=2, threads=1)


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    root = write_fake_fashion_mnist(tmp_path_factory.mktemp("data"), n_train=640, n_test=200)
    os.environ["PLAYGROUND_DATA_DIR"] = str(root)
    try:
        yield load_fashion_mnist()
    finally:
        del os.environ["PLAYGROUND_DATA_DIR"]


def test_loss_falls_and_events_arrive(fake):
    events = []
    result = train(PRESETS["Tiny (fast demo)"], fake, QUICK, on_event=events.append)
    steps = [e for e in events if isinstance(e, Step)]
    evals = [e for e in events if isinstance(e, Eval)]
    assert len(steps) == 20 and len(evals) == 4 and steps[-1].eta_seconds == 0
    assert events[-1] == Done("finished", 20)
    assert sum(e.loss for e in steps[-5:]) < sum(e.loss for e in steps[:5])
    assert result.status == "finished" and result.evaluation.accuracy > 0.5


def test_same_seed_same_curve(fake):
    a = train(PRESETS["Tiny (fast demo)"], fake, QUICK)
    b = train(PRESETS["Tiny (fast demo)"], fake, QUICK)
    assert a.history["loss"] == b.history["loss"]


def test_stop_keeps_what_was_learned(fake):
    seen = []

    def stop_after_8():
        return len(seen) >= 8

    config = TrainConfig(epochs=20, batch_size=64, lr=5e-3, threads=1, augment="shift")
    result = train(PRESETS["Tiny (fast demo)"], fake, config, on_event=lambda e: isinstance(e, Step) and seen.append(e),
                   should_stop=stop_after_8)  # fmt: skip
    assert result.status == "stopped" and len(result.history["loss"]) == 8
    assert result.evaluation.accuracy > 0.2  # better than chance after 8 steps on an easy task


def test_evaluation_is_consistent(fake):
    ev = train(PRESETS["Tiny (fast demo)"], fake, QUICK).evaluation
    assert ev.confusion.sum() == len(fake.test_labels)
    assert ev.accuracy == pytest.approx(float((ev.predictions == fake.test_labels).float().mean()))
    assert ev.accuracy == pytest.approx(float(ev.confusion.diag().sum()) / len(fake.test_labels))


@pytest.mark.parametrize("augment", ["flip", "crop"])
def test_augmentations_and_optimizers_run(fake, augment):
    for opt in ("sgd", "sgd_momentum", "adam"):
        config = TrainConfig(epochs=1, batch_size=128, optimizer=opt, augment=augment, l1=1e-5, dropout=0.1,
                             schedule="constant", threads=1, train_size=300)  # fmt: skip
        result = train(PRESETS["Deeper (aims above 92%)"] if opt == "adam" else DEFAULT_SPEC, fake, config)
        assert result.status == "finished" and torch.isfinite(torch.tensor(result.history["loss"])).all()


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [({"optimizer": "lbfgs"}, "optimizer"), ({"lr": 0}, "learning rate"), ({"batch_size": 0}, "batch size"),
     ({"dropout": 1.0}, "dropout"), ({"train_size": 5}, "subset"), ({"augment": "mixup"}, "augment"),
     ({"precision": "float16"}, "precision")],
)  # fmt: skip
def test_config_errors(kwargs, words):
    with pytest.raises(ValueError, match=f"(?i){words}"):
        TrainConfig(**kwargs)


def test_bfloat16_computes_the_forward_pass_and_keeps_float32_weights(fake):
    runs = {p: train(DEFAULT_SPEC, fake, TrainConfig(**{**QUICK.__dict__, "precision": p})) for p in PRECISIONS}
    f32, b16 = runs["float32"], runs["bfloat16"]
    assert f32.history["loss"] != b16.history["loss"]  # autocast really changed the arithmetic…
    assert b16.history["loss"][0] == pytest.approx(f32.history["loss"][0], rel=0.02)  # …by rounding only
    assert all(p.dtype == torch.float32 for p in b16.model.parameters())
    assert runs["auto"].history["loss"] == runs[resolve_precision("auto")].history["loss"]


def test_auto_precision_follows_the_cpu(monkeypatch):
    monkeypatch.setattr("playground.train.loop.native_bfloat16", lambda: True)
    assert resolve_precision("auto") == "bfloat16" and resolve_precision("float32") == "float32"
    monkeypatch.setattr("playground.train.loop.native_bfloat16", lambda: False)
    assert resolve_precision("auto") == "float32" and resolve_precision("bfloat16") == "bfloat16"


def test_cli_writes_a_checkpoint_and_metrics(fake, tmp_path, capsys):
    assert train_cli(["--epochs", "1", "--out", str(tmp_path), "--preset", "Tiny (fast demo)", "--threads", "1"]) == 0
    ckpt = load_checkpoint((tmp_path / "model.pt").read_bytes())
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert ckpt.spec == PRESETS["Tiny (fast demo)"] and metrics["test_accuracy"] > 0.3
    assert metrics["images_per_second"] > 0 and "seconds_total" in metrics
    assert metrics["precision"] == resolve_precision("auto")
    assert metrics["backend"] == "local" and "node" not in metrics  # tests/test_ray.py: "ray" and its node
    with torch.no_grad():
        x = fake.test_images[:4].unsqueeze(1).float() / 255
        assert ckpt.model()(x).shape == (4, 10)


def test_cli_without_data_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("playground.train.data.DEBIAN_DIR", tmp_path / "none")
    monkeypatch.delenv("PLAYGROUND_DATA_DIR", raising=False)
    assert train_cli(["--epochs", "1", "--out", str(tmp_path / "o")]) == 1
    assert "apt-get install dataset-fashion-mnist" in capsys.readouterr().err


@pytest.fixture(scope="module")
def real_data():
    """The real FashionMNIST: CI installs it, so there a missing copy fails; on a laptop it skips.

    Found as the app finds it, minus PLAYGROUND_DATA_DIR, which the ``fake`` fixture may be pointing at its
    small stand-in (on which any network scores over 90%).
    """
    fake_dir = os.environ.pop("PLAYGROUND_DATA_DIR", None)
    try:
        data = load_fashion_mnist()
    except DataNotFound:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("FashionMNIST not installed here (CI installs it)")
    finally:
        if fake_dir is not None:
            os.environ["PLAYGROUND_DATA_DIR"] = fake_dir
    assert (len(data.train_labels), len(data.test_labels)) == (60_000, 10_000)
    return data


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["auto", "float32"])  # what this CPU gets by default, and every CPU's fallback
def test_default_recipe_reaches_90_percent_on_the_real_data(precision, real_data):
    config = TrainConfig(threads=os.cpu_count(), precision=precision)
    assert config.epochs <= 4
    result = train(DEFAULT_SPEC, real_data, config)
    assert result.evaluation.accuracy >= 0.90, result.evaluation.accuracy


@pytest.mark.slow
def test_the_bundled_model_scores_what_its_metrics_say(real_data):
    """assets/pretrained/metrics.json is the record of the command that made model.pt (README)."""
    from pathlib import Path

    from playground.train.evaluate import evaluate

    folder = Path(__file__).resolve().parents[1] / "assets" / "pretrained"
    metrics = json.loads((folder / "metrics.json").read_text())
    model = load_checkpoint((folder / "model.pt").read_bytes()).model()
    assert metrics["command"] == "python -m playground.train --epochs 3 --out assets/pretrained"
    accuracy = evaluate(model, real_data.test_images, real_data.test_labels).accuracy
    assert accuracy == pytest.approx(metrics["test_accuracy"])
    assert metrics["test_accuracy"] >= 0.90
