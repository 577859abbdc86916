"""Exports: the GIF decoded with Pillow, the generated code run in a subprocess and compared with the engine,
the metrics CSV read back, the confusion matrix picture."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from playground.explorer.code import layer_code, transposed_code
from playground.explorer.conv import ActivationSpec, ConvSpec, PoolSpec, run_stages
from playground.explorer.transposed import TransposedSpec, run_transposed
from playground.render.animation import HATCH, MAX_FRAMES, conv_animation, conv_video, plan, sliding
from playground.render.confusion_picture import confusion_picture
from playground.render.marks import FIELD
from playground.train import loop, models
from playground.train.code import OPTIMIZER_CODE, network_code
from playground.train.metrics import metrics_csv

SOBEL = ((1.0, 0.0, -1.0), (2.0, 0.0, -2.0), (1.0, 0.0, -1.0))


def _frames(data: bytes) -> list[np.ndarray]:
    gif = Image.open(io.BytesIO(data))
    out = []
    for i in range(gif.n_frames):
        gif.seek(i)
        out.append(np.asarray(gif.convert("RGB")))
    return out


def _near(rgb: np.ndarray, colour: tuple[int, int, int], tol: int = 40) -> np.ndarray:
    return (np.abs(rgb.astype(int) - np.array(colour)).sum(-1) < tol)


@pytest.mark.parametrize("stride", [1, 2])
def test_gif_has_one_frame_per_output_cell_window_first_at_top_left_and_padding_hatched(stride):
    image = torch.arange(36.0).reshape(1, 6, 6)
    stages = run_stages(image, ConvSpec((SOBEL,), stride=(stride, stride), padding=(1, 1, 1, 1)), ActivationSpec(),
                        PoolSpec())  # fmt: skip
    frames = _frames(conv_animation(stages))
    _, h, w = stages.conv.shape
    assert len(frames) == h * w
    first, last = frames[0], frames[-1]
    panel = first.shape[1] // 2
    left = first[:, :panel]
    ys, xs = np.nonzero(_near(left, FIELD.rgb))  # the yellow window: 3 of the 8 padded cells from the top-left
    cells = np.nonzero(_near(left, HATCH).any(0))[0]  # columns with hatching: where the padded map lies
    x0, x1 = cells.min(), cells.max()
    cell = (x1 - x0) / 8
    assert xs.min() <= x0 + cell / 2 and xs.max() <= x0 + 3.5 * cell
    rows = np.nonzero(_near(left, HATCH).any(1))[0]
    assert ys.min() <= rows.min() + cell / 2 and ys.max() <= rows.min() + 3.5 * cell
    # the last frame's window is at the bottom-right of the covered area
    ys, xs = np.nonzero(_near(last[:, :panel], FIELD.rgb))
    assert xs.max() >= x0 + ((w - 1) * stride + 2.5) * cell


def test_gif_without_padding_has_no_hatching():
    stages = run_stages(torch.rand(1, 5, 5), ConvSpec((SOBEL,)), ActivationSpec(), PoolSpec())
    first = _frames(conv_animation(stages))[0]
    assert not _near(first[:, : first.shape[1] // 2], HATCH, 20).any()


def test_a_large_output_is_animated_over_a_corner_within_the_limit():
    stages = run_stages(torch.rand(1, 40, 40) * 255, ConvSpec((SOBEL,), padding=(1, 1, 1, 1)), ActivationSpec(),
                        PoolSpec())  # fmt: skip
    p = plan(stages)
    assert p.cropped and p.frames <= MAX_FRAMES and (p.rows, p.cols) == (20, 20) and (p.in_rows, p.in_cols) == (22, 22)
    assert "top-left 20×20 corner of the 40×40 output" in p.words()
    small = plan(stages, max_frames=9)
    assert (small.rows, small.cols) == (3, 3)
    assert len(_frames(conv_animation(stages, max_frames=9))) == 9


def _run(code: str, tmp_path, *args: str) -> str:
    path = tmp_path / "script.py"
    path.write_text(code)
    done = subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


LAYERS = [
    (torch.arange(30.0).reshape(1, 5, 6) - 7.5,
     ConvSpec((SOBEL,), padding=(1, 0, 2, 1), padding_mode="reflect", flip=True, bias=0.25),
     ActivationSpec("Leaky ReLU", 0.1), PoolSpec.square("Max", 2)),
    (torch.rand(3, 7, 7) * 255, ConvSpec((SOBEL,), stride=(2, 1), padding=(1, 1, 1, 1), padding_mode="circular"),
     ActivationSpec("ELU"), PoolSpec.square("Average", 2, 1, 1, ceil_mode=True)),
    (torch.rand(3, 8, 8), ConvSpec((SOBEL, ((0.1,) * 3,) * 3), per_channel=False, dilation=(2, 2),
                                   padding=(2, 2, 2, 2), padding_mode="replicate", bias=-1.5),
     ActivationSpec("GELU"), PoolSpec.square("LP (L2)", 2)),
    (torch.rand(1, 6, 6), ConvSpec((((0.1, -0.7), (1e-3, 3.0)),)), ActivationSpec("Sigmoid"), PoolSpec()),
]  # fmt: skip


@pytest.mark.parametrize("case", range(len(LAYERS)))
def test_layer_code_runs_and_matches_run_stages(case, tmp_path):
    image, conv, act, pool = LAYERS[case]
    stages = run_stages(image, conv, act, pool)
    out = _run(layer_code(image, conv, act, pool, "a test\nimage"), tmp_path, "--save", "stages.pt")
    saved = torch.load(tmp_path / "stages.pt")
    expected = {"input": image, "padded": stages.padded, "conv": stages.conv, "activated": stages.activated}
    if stages.pooled is not None:
        expected["pooled"] = stages.pooled
    assert list(saved) == list(expected)
    for name, t in expected.items():
        assert f"{name}: {tuple(t.shape)}" in out
        torch.testing.assert_close(saved[name], t, rtol=1e-5, atol=1e-5)


def test_a_large_input_gets_a_loader_comment_and_a_stand_in_of_its_shape(tmp_path):
    image = torch.rand(1, 40, 40) * 255
    conv = ConvSpec((SOBEL,), stride=(2, 2))
    code = layer_code(image, conv, ActivationSpec("ReLU"), PoolSpec.square("Max", 2), "Sample: Shapes")
    assert "read_image(" in code and "torch.zeros(1, 40, 40)" in code and "Sample: Shapes" in code
    stages = run_stages(image, conv, ActivationSpec("ReLU"), PoolSpec.square("Max", 2))
    out = _run(code, tmp_path)
    assert f"conv: {tuple(stages.conv.shape)}" in out and f"pooled: {tuple(stages.pooled.shape)}" in out


TRANSPOSED = [
    (torch.arange(30.0).reshape(1, 5, 6) - 7.5,
     TransposedSpec((SOBEL,), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), dilation=(1, 2), flip=True,
                    bias=0.25), ActivationSpec("Leaky ReLU", 0.1)),
    (torch.rand(3, 4, 5) * 255, TransposedSpec((SOBEL,), stride=(2, 2), padding=(2, 1)), ActivationSpec("ReLU")),
    (torch.rand(3, 4, 4), TransposedSpec((SOBEL, ((0.1,) * 3,) * 3), per_channel=False, stride=(1, 2), dilation=(2, 2),
                                         output_padding=(1, 1), bias=-1.5), ActivationSpec("GELU")),
    (torch.rand(2, 3, 3), TransposedSpec((((0.1, -0.7), (1e-3, 3.0)), ((1.0, 2.0), (3.0, 4.0))), per_channel=False),
     ActivationSpec("None")),
]  # fmt: skip


@pytest.mark.parametrize("case", range(len(TRANSPOSED)))
def test_transposed_code_runs_and_matches_run_transposed(case, tmp_path):
    image, spec, act = TRANSPOSED[case]
    stages = run_transposed(image, spec, act)
    out = _run(transposed_code(image, spec, act, "a test image"), tmp_path, "--save", "stages.pt")
    saved = torch.load(tmp_path / "stages.pt")
    expected = {"input": image, "transposed": stages.output, "activated": stages.activated}
    assert list(saved) == list(expected)
    for name, t in expected.items():
        assert f"{name}: {tuple(t.shape)}" in out
        torch.testing.assert_close(saved[name], t, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("case", range(len(TRANSPOSED)))
def test_the_transposed_gif_slides_a_direct_convolution_over_the_input_spread_with_zeros(case):
    """conv_arithmetic's picture of a transposed convolution, checked: the kernel rotated 180° sliding at stride 1 over
    the spread-out input gives PyTorch's output, the hatched cells are the zeros, and there is a frame a cell."""
    image, spec, act = TRANSPOSED[case]
    stages = run_transposed(image, spec, act)
    for channel in range(stages.output.shape[0]):
        story = sliding(stages, channel)
        c = story.input_channel
        weight = stages.weight[c, channel % stages.weight.shape[1]]
        alone = F.conv_transpose2d(image[c][None, None], weight[None, None], None, spec.stride, spec.padding,
                                   spec.output_padding, 1, spec.dilation)[0, 0]  # that input channel's share
        direct = F.conv2d(story.grid[None, None], weight.flip(0, 1)[None, None], stride=story.stride,
                          dilation=story.dilation)[0, 0]  # fmt: skip
        torch.testing.assert_close(direct, alone, rtol=1e-5, atol=1e-4)
        assert story.stride == (1, 1) and not story.grid[story.filler].any()  # hatched: zeros, and only zeros
        assert (~story.filler).sum() <= image[c].numel()
    out_h, out_w = stages.output.shape[1:]
    gif = Image.open(io.BytesIO(conv_animation(stages)))
    assert gif.n_frames == plan(stages).frames == min(out_h * out_w, plan(stages).frames)


def _video(data: bytes) -> tuple[str, list[np.ndarray], float]:
    """An MP4's codec, its frames (RGB) and its length in seconds, decoded with PyAV."""
    import av

    with av.open(io.BytesIO(data)) as box:
        stream = box.streams.video[0]
        frames = [np.asarray(f.to_image()) for f in box.decode(stream)]
        return stream.codec_context.name, frames, float(stream.duration * stream.time_base)


@pytest.mark.parametrize("kind", ["convolution", "transposed"])
def test_the_mp4_shows_the_gifs_frames_and_holds_the_last(kind):
    """The MP4 is the GIF's animation: a frame per output cell, the same pictures (within H.264's loss), the last
    one held three times as long, even sides for the players that need them."""
    image = torch.arange(25.0).reshape(1, 5, 5)
    if kind == "convolution":
        stages = run_stages(image, ConvSpec((SOBEL,), stride=(2, 2), padding=(1, 1, 1, 1)), ActivationSpec(),
                            PoolSpec())  # fmt: skip
    else:
        stages = run_transposed(image, TransposedSpec((SOBEL,), stride=(2, 2), padding=(1, 1)), ActivationSpec())
    seen: list[tuple[int, int]] = []
    codec, frames, seconds = _video(conv_video(stages, frame_ms=200, on_frame=lambda *n: seen.append(n)))
    gif = _frames(conv_animation(stages, frame_ms=200))
    n = plan(stages).frames
    assert codec == "h264" and len(gif) == n and len(frames) == n + 2 and seen[-1] == (n, n)
    assert seconds == pytest.approx((n + 2) * 0.2, abs=0.01)
    h, w = gif[0].shape[:2]
    assert frames[0].shape == (h + h % 2, w + w % 2, 3)
    for i, frame in enumerate(frames[:n]):  # frame for frame the GIF's picture (H.264 blurs colour a little) …
        error = [np.abs(frame[:h, :w].astype(int) - g).mean() for g in gif]
        assert int(np.argmin(error)) == i and error[i] < 8, (i, error)  # … and no other frame's
    assert np.abs(frames[-1].astype(int) - frames[n - 1]).mean() < 1  # the last, held


EVERY_KIND = {"name": "every kind", "layers": [
    {"type": "conv", "out_channels": 4, "kernel": 3, "stride": 2, "padding": 1, "dilation": 2},
    {"type": "batchnorm"}, {"type": "leaky_relu", "slope": 0.2}, {"type": "elu"}, {"type": "gelu"},
    {"type": "avgpool", "kernel": 2}, {"type": "tanh"}, {"type": "maxpool", "kernel": 2, "stride": 1},
    {"type": "dropout", "p": 0.3}, {"type": "flatten"}, {"type": "linear", "out_features": 12}, {"type": "sigmoid"},
    {"type": "relu"}, {"type": "linear", "out_features": 10},
]}  # fmt: skip


@pytest.mark.parametrize("spec", [*models.PRESETS.values(), EVERY_KIND], ids=[*models.PRESETS, "every kind"])
def test_network_code_prints_the_shapes_summarize_gives(spec, tmp_path):
    out = _run(network_code(spec, loop.TrainConfig(optimizer="sgd_momentum", schedule="constant", train_size=500)),
               tmp_path)  # fmt: skip
    printed = [tuple(int(n) for n in re.findall(r"\d+", line.split(" ", 2)[2]))
               for line in out.splitlines() if line[0].isdigit()]  # fmt: skip
    assert printed == [row.output_shape for row in models.summarize(spec).rows]
    names = [line.split(" ")[1] for line in out.splitlines() if line[0].isdigit()]
    assert names == [type(m).__name__ for n, m in models.build_model(spec).named_children() if n != "normalize"]


def test_network_code_carries_the_config_and_guards_training():
    config = loop.TrainConfig(optimizer="adam", lr=0.0123, batch_size=64, epochs=7, augment="flip", dropout=0.4)
    code = network_code(models.PRESETS[next(iter(models.PRESETS))], config)
    compile(code, "network.py", "exec")
    assert "LR = 0.0123" in code and "BATCH_SIZE = 64" in code and "EPOCHS = 7" in code
    assert "torch.optim.Adam(" in code and "OneCycleLR" in code and "augmentation (flip)" in code
    assert "if args.train:" in code and "download=True" in code


@pytest.mark.parametrize("name", loop.OPTIMIZERS)
def test_the_optimizer_written_out_is_the_one_training_makes(name):
    model, config = torch.nn.Linear(3, 2), loop.TrainConfig(optimizer=name, lr=0.02, weight_decay=0.05)
    made = eval(OPTIMIZER_CODE[name], {"torch": torch, "model": model, "LR": 0.02, "WEIGHT_DECAY": 0.05})
    theirs = loop._optimizer(model, config)
    assert type(made) is type(theirs)
    assert made.defaults == theirs.defaults


def test_metrics_csv_reads_back_as_the_history():
    history = {"step": [1, 2, 3], "loss": [2.3, 1.1, 0.1 + 0.2], "eval_step": [2, 3], "test_loss": [1.2, 0.9],
               "test_acc": [0.5, 0.625], "steps_per_epoch": 2.0, "final_accuracy": 0.71}  # fmt: skip
    config = loop.TrainConfig(lr=0.001)
    rows = list(csv.DictReader(io.StringIO(metrics_csv(history, dataclasses.asdict(config)))))
    train = [r for r in rows if r["kind"] == "train"]
    assert [int(r["step"]) for r in train] == history["step"]
    assert [float(r["loss"]) for r in train] == history["loss"]
    assert [float(r["epoch"]) for r in train] == [0.5, 1.0, 1.5]
    evals = [r for r in rows if r["kind"] == "eval"]
    assert [int(r["step"]) for r in evals] == history["eval_step"]
    assert [float(r["test_loss"]) for r in evals] == history["test_loss"]
    assert [float(r["test_accuracy"]) for r in evals] == history["test_acc"]
    assert [float(r["test_accuracy"]) for r in rows if r["kind"] == "final"] == [0.71]
    settings = {r["name"]: r["value"] for r in rows if r["kind"] == "setting"}
    assert settings["lr"] == "0.001" and settings["optimizer"] == "adamw" and settings["train_size"] == ""


def test_confusion_picture_is_darker_where_more_images_fall():
    counts = torch.full((3, 3), 2) + torch.diag(torch.tensor([90, 50, 70]))
    picture = confusion_picture(counts, ["a", "bb", "ccc"])
    image = np.asarray(Image.open(io.BytesIO(picture.data)).convert("L"))
    assert picture.format == "PNG" and image.shape[1] >= 1000
    dark = (image < 60).sum()  # the three diagonal cells (the darkest) fill about a ninth of the map
    assert dark > 0.05 * image.size
