"""The explorer's layer as a PyTorch script a student can run as it is: pad → conv → activation → pooling, or a
transposed convolution → activation.

The script builds the same layer as ``conv.run_stages`` computes, as an ``nn.Sequential`` with the
kernel weights and the bias as typed; a small input goes in as a literal tensor, a large one as a
stand-in of the same shape with a comment on loading an image. Run, it prints every stage's shape;
``--save PATH`` keeps the stages' tensors (``torch.save``), which the tests compare with the engine's.
"""

from __future__ import annotations

import numpy as np
import torch

from playground.explorer.conv import ActivationSpec, ConvSpec, PoolSpec
from playground.explorer.transposed import TransposedSpec

FILE_NAME = "cnn_playground_layer.py"
IMPORTS = ["import argparse", "", "import torch", "from torch import nn"]  # every generated script's
LITERAL_LIMIT = 1024  # inputs with at most this many numbers are written out in the script
PAD_MODULES = {"zeros": "ZeroPad2d", "reflect": "ReflectionPad2d", "replicate": "ReplicationPad2d",
               "circular": "CircularPad2d"}  # fmt: skip


def _num(v: float) -> str:
    """A float32 value in the fewest digits that read back to the same float32 (``0.1``, ``255.0``)."""
    return str(np.float32(v))


def _rows(values: torch.Tensor | list, indent: str) -> str:
    """A nested list literal of ``values`` (2-D or more), one innermost row per line."""
    if isinstance(values, torch.Tensor):
        values = values.tolist()
    if not isinstance(values[0], list):
        return "[" + ", ".join(_num(v) for v in values) + "]"
    inner = f",\n{indent} ".join(_rows(v, indent + " ") for v in values)
    return f"[{inner}]"


def _activation(act: ActivationSpec) -> str:
    return {
        "None": "nn.Identity()",
        "ReLU": "nn.ReLU()",
        "Leaky ReLU": f"nn.LeakyReLU({act.slope!r})",
        "ELU": f"nn.ELU({act.alpha!r})",
        "GELU": "nn.GELU()",
        "Tanh": "nn.Tanh()",
        "Sigmoid": "nn.Sigmoid()",
    }[act.name]


def _pooling(pool: PoolSpec) -> str | None:
    k, s, p, ceil = pool.kernel, pool.stride, pool.padding, pool.ceil_mode
    return {
        "None": None,
        "Max": f"nn.MaxPool2d({k}, stride={s}, padding={p}, ceil_mode={ceil})",
        "Average": f"nn.AvgPool2d({k}, stride={s}, padding={p}, ceil_mode={ceil})",
        "LP (L2)": f"nn.LPPool2d(2, {k}, stride={s}, ceil_mode={ceil})",
    }[pool.kind]


def _input_lines(image: torch.Tensor, source: str, literal_limit: int) -> list[str]:
    c, h, w = image.shape
    if image.numel() <= literal_limit:
        return [f"# The input, (C, H, W) = ({c}, {h}, {w}): {source}, as the explorer used it.",
                f"x = torch.tensor({_rows(image, '                 ')})"]  # fmt: skip
    gray = "GRAY" if c == 1 else "RGB"
    return [
        f"# The explorer used {source}, (C, H, W) = ({c}, {h}, {w}): too many numbers to write out here.",
        "# Load your own image instead, e.g.:",
        "#   from torchvision.io import ImageReadMode, read_image",
        f'#   x = read_image("photo.png", ImageReadMode.{gray}).float()  # (C, H, W), values 0..255',
        f"x = torch.zeros({c}, {h}, {w})  # a stand-in of the same shape",
    ]


def layer_code(
    image: torch.Tensor,
    conv: ConvSpec,
    act: ActivationSpec,
    pool: PoolSpec,
    source: str = "the explorer's image",
    literal_limit: int = LITERAL_LIMIT,
) -> str:
    """A runnable script for the explorer's layer on ``image`` (C, H, W).

    Args:
        image: the input as ``run_stages`` receives it.
        conv, act, pool: the explorer's settings (already checked by ``run_stages``).
        source: the input's name, for a comment (e.g. "Sample: Shapes").
        literal_limit: inputs with at most this many numbers are written out; larger ones get a loader comment.

    Returns:
        Python source that prints each stage's shape and, with ``--save PATH``, saves them as a dict of
        (C, H, W) tensors: input, padded, conv, activated and (with pooling) pooled.
    """
    c = image.shape[0]
    (kh, kw), top, bottom, left, right = conv.kernel_size, *conv.padding
    n_out, groups, kernels, why, weight = _filters(conv, c)
    modules = [
        ("padded", f"nn.{PAD_MODULES[conv.padding_mode]}(({left}, {right}, {top}, {bottom})),"
                   "  # (left, right, top, bottom)"),
        ("conv", f"nn.Conv2d({c}, {n_out}, ({kh}, {kw}), stride={conv.stride}, dilation={conv.dilation}, "
                 f"groups={groups}),"),
        ("activated", f"{_activation(act)},"),
    ]  # fmt: skip
    if (pooling := _pooling(pool)) is not None:
        modules.append(("pooled", f"{pooling},"))
    title = "One convolution layer as the CNN Playground explorer set it up: pad, convolve, activate, pool."
    lines = _head(title, image, source, literal_limit, kernels, conv.flip)
    lines += [
        "",
        "layer = nn.Sequential(",
        *(f"    {text}" for _, text in modules),
        ")",
        "with torch.no_grad():",
        f"    # {why}",
        f"    layer[1].weight.copy_({weight})",
        f"    layer[1].bias.fill_({conv.bias!r})",
        "",
        *_run_lines([name for name, _ in modules]),
    ]
    return "\n".join(lines)


def _filters(conv: ConvSpec, c: int, transposed: bool = False) -> tuple[int, int, list, str, str]:
    """How the typed filters become the layer's weight on ``c`` input channels: (output channels, groups, the kernels
    the script writes out, why, in words, and the expression that fills the weight).

    ``Conv2d``'s weight is (C_out, C_in / groups, kH, kW), ``ConvTranspose2d``'s (C_in, C_out / groups, kH, kW).
    """
    (kh, kw) = conv.kernel_size
    if conv.per_channel:
        verb = "spreads each" if transposed else "slides over each"
        why = "one input channel, one kernel" if c == 1 else (
            f"the same kernel {verb} of the {c} input channels on its own (groups = {c})")
        return c, c, list(conv.filters[:1]), why, f"kernels.expand({c}, 1, {kh}, {kw})"
    if transposed:
        why = "each filter spans every input channel: (C_in, C_out, kH, kW), its kernel repeated on each channel"
        return len(conv.filters), 1, list(conv.filters), why, f"kernels[None].expand({c}, -1, -1, -1)"
    why = "each filter spans every input channel: its kernel repeated on each channel"
    return len(conv.filters), 1, list(conv.filters), why, f"kernels[:, None].expand(-1, {c}, -1, -1)"


def _head(title: str, image: torch.Tensor, source: str, literal_limit: int, kernels: list, flip: bool) -> list[str]:
    """A script's docstring, imports, arguments, input and kernels (as typed, flipped for a true convolution)."""
    return [
        f'"""{title}',
        "",
        f"python {FILE_NAME}               prints every stage's shape",
        f"python {FILE_NAME} --save out.pt  also saves the stages' tensors (a dict of (C, H, W) tensors)",
        '"""',
        "",
        *IMPORTS,
        "",
        "parser = argparse.ArgumentParser()",
        'parser.add_argument("--save", help="save the stages to this path with torch.save")',
        "args = parser.parse_args()",
        "",
        *_input_lines(image, " ".join(str(source).split()), literal_limit),  # a file name in a comment: one line
        "",
        f"# The kernel{'s' if len(kernels) > 1 else ''} as typed, (filters, kH, kW).",
        f"kernels = torch.tensor({_rows([list(map(list, k)) for k in kernels], '                       ')})",
        *(["kernels = kernels.flip(-1, -2)  # true convolution: the kernel rotated 180°"] if flip else []),
    ]


def _run_lines(names: list[str]) -> list[str]:
    """Run ``layer`` (an ``nn.Sequential`` of the stages ``names``) on ``x``; print each stage's shape, or save."""
    return [
        "names = [" + ", ".join(f'"{name}"' for name in names) + "]",
        'stages = {"input": x}',
        "y = x[None]  # a batch of one image: (1, C, H, W)",
        "with torch.no_grad():",
        "    for name, module in zip(names, layer):",
        "        y = module(y)",
        "        stages[name] = y[0]",
        "for name, t in stages.items():",
        '    print(f"{name}: {tuple(t.shape)}")',
        "if args.save:",
        "    torch.save(stages, args.save)",
        "",
    ]


def transposed_code(
    image: torch.Tensor,
    spec: TransposedSpec,
    act: ActivationSpec,
    source: str = "the explorer's image",
    literal_limit: int = LITERAL_LIMIT,
) -> str:
    """A runnable script for the explorer's transposed-convolution layer on ``image`` (C, H, W): ``layer_code``'s
    twin, saving the stages input, transposed and activated (as ``transposed.run_transposed`` computes them)."""
    c = image.shape[0]
    (kh, kw) = spec.kernels.kernel_size
    n_out, groups, kernels, why, weight = _filters(spec.kernels, c, transposed=True)
    layer = (f"nn.ConvTranspose2d({c}, {n_out}, ({kh}, {kw}), stride={spec.stride}, padding={spec.padding}, "
             f"output_padding={spec.output_padding}, groups={groups}, dilation={spec.dilation}),")  # fmt: skip
    title = "One transposed-convolution layer as the CNN Playground explorer set it up: spread, then activate."
    return "\n".join([
        *_head(title, image, source, literal_limit, kernels, spec.flip),
        "",
        "layer = nn.Sequential(",
        f"    {layer}",
        f"    {_activation(act)},",
        ")",
        "with torch.no_grad():",
        f"    # {why}",
        f"    layer[0].weight.copy_({weight})",
        f"    layer[0].bias.fill_({spec.bias!r})",
        "",
        *_run_lines(["transposed", "activated"]),
    ])
