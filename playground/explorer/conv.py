"""The convolution explorer's pipeline: pad → convolve → activate → pool, all by torch.nn.functional.

Settings are small frozen dataclasses (hashable, so pages can cache on them); every size comes
from ``playground.explorer.shapes``; an impossible configuration raises ``ConfigError``, checked in
pipeline order (padding, convolution, pooling) before any tensor op can fail with a cryptic
message. It says why in a sentence and carries the facts a page lays out: the failing stage and
axis and the formula with the user's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from playground.explorer import shapes
from playground.explorer.failures import Failure, check_filter_sizes, check_lp_padding, plural
from playground.explorer.kernels import BIAS_LIMIT, Kernel, kernel_tensor

ACTIVATIONS = ("None", "ReLU", "Leaky ReLU", "ELU", "GELU", "Tanh", "Sigmoid")
POOLS = ("None", "Max", "Average", "LP (L2)")
PAD_MODES = ("zeros", "reflect", "replicate", "circular")


AXES = ("height", "width")


class ConfigError(ValueError):
    """A configuration that cannot be computed: ``str()`` says why in words; the attributes give the facts.

    Attributes:
        failure: the whole ``Failure``; ``stage``, ``axis``, ``formula``, ``rule`` and ``why`` are its fields.
        stage: "padding", "convolution" or "pooling" (or "input", "activation" for a bad image or name).
        axis: "height" or "width", or None when the failure is not along one axis.
        formula: LaTeX with the user's numbers showing why it fails ("" when no formula applies).
        rule: the failing stage's rule in symbols, LaTeX ("" when none).
    """

    def __init__(self, failure: Failure):
        super().__init__(failure.message)
        self.failure = failure
        self.stage, self.axis, self.why = failure.stage, failure.axis, failure.why
        self.formula, self.rule = failure.formula, failure.rule


def _refused(stage: str, why: str, fix: str = "") -> ConfigError:
    return ConfigError(Failure(stage, None, "", "", why, fix))


@dataclass(frozen=True)
class ConvSpec:
    """One convolution layer as the explorer sets it up.

    ``filters`` holds one 2-D kernel per output channel. With ``per_channel`` the single kernel
    ``filters[0]`` slides over each input channel separately (``groups = C_in``); otherwise each
    filter spans all input channels (its 2-D kernel repeated on every channel, so each output
    cell is the sum of C_in·kH·kW products, exactly as a ``Conv2d`` computes it).
    """

    filters: tuple[Kernel, ...]
    per_channel: bool = True
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)  # top, bottom, left, right
    padding_mode: str = "zeros"
    dilation: tuple[int, int] = (1, 1)
    flip: bool = False  # True: mathematical convolution (kernel rotated 180°)
    bias: float = 0.0

    @property
    def kernel_size(self) -> tuple[int, int]:
        return len(self.filters[0]), len(self.filters[0][0])


@dataclass(frozen=True)
class ActivationSpec:
    name: str = "None"
    slope: float = 0.01  # Leaky ReLU's negative slope
    alpha: float = 1.0  # ELU's alpha


@dataclass(frozen=True)
class PoolSpec:
    """Pooling along (height, width). ``stride`` defaults to ``kernel``, as in ``nn.MaxPool2d(k)``.

    ``PoolSpec("Max", (3, 3))`` has stride (3, 3); ``stride`` is always a pair once constructed.
    """

    kind: str = "None"
    kernel: tuple[int, int] = (2, 2)
    stride: tuple[int, int] | None = None
    padding: tuple[int, int] = (0, 0)
    ceil_mode: bool = False

    def __post_init__(self) -> None:
        if self.stride is None:  # frozen: set through object, once, before anyone can see the None
            object.__setattr__(self, "stride", self.kernel)

    @classmethod
    def square(
        cls, kind: str, size: int = 2, stride: int | None = None, padding: int = 0, ceil_mode: bool = False
    ) -> PoolSpec:
        """A ``size``×``size`` window with one stride and padding for both axes; ``stride`` defaults to ``size``."""
        s = size if stride is None else stride
        return cls(kind, (size, size), (s, s), (padding, padding), ceil_mode)


@dataclass(frozen=True, eq=False, kw_only=True)
class Stages:
    """Every stage of the pipeline, each (C, H, W), and the axis arithmetic behind each size."""

    input: torch.Tensor
    padded: torch.Tensor
    conv: torch.Tensor
    activated: torch.Tensor
    pooled: torch.Tensor | None
    weight: torch.Tensor  # (C_out, C_in / groups, kH, kW), flipped already for true convolution
    groups: int
    bias: float
    conv_axes: tuple[shapes.AxisSize, shapes.AxisSize]  # (height, width)
    pool_axes: tuple[shapes.AxisSize, shapes.AxisSize] | None
    notes: tuple[str, ...] = field(default=())
    padding_mode: str = "zeros"  # how ``padded`` was filled: which of its cells copy which input pixel


def weight_tensor(spec: ConvSpec, in_channels: int) -> tuple[torch.Tensor, int]:
    """The ``F.conv2d`` weight and groups for ``spec`` on ``in_channels`` channels.

    Returns:
        weight (C_out, C_in / groups, kH, kW) and groups.
    """
    try:
        check_filter_sizes([(len(k), len(k[0])) for k in spec.filters])
    except shapes.SizeError as e:
        raise ConfigError(e.failure) from None
    if spec.per_channel:
        k = applied_kernel(spec)
        weight = k.expand(in_channels, 1, *k.shape).clone()
        groups = in_channels
    else:
        ks = torch.stack([applied_kernel(spec, i) for i in range(len(spec.filters))])  # (C_out, kH, kW)
        weight = ks[:, None].expand(-1, in_channels, -1, -1)
        groups = 1
    return weight.contiguous(), groups


def applied_kernel(spec: ConvSpec, index: int = 0) -> torch.Tensor:
    """Filter ``index`` as the convolution slides it over the image: rotated 180° for a true convolution."""
    k = kernel_tensor(spec.filters[index])
    return k.flip(-1, -2) if spec.flip else k


def pad(image: torch.Tensor, spec: ConvSpec) -> torch.Tensor:
    """``F.pad`` of a (C, H, W) image by ``spec.padding`` in ``spec.padding_mode``."""
    top, bottom, left, right = spec.padding
    pads = ((top, bottom), (left, right))
    each_axis(lambda i: shapes.check_padding(image.shape[1 + i], *pads[i], spec.padding_mode, axis=AXES[i]), "padding")
    mode = "constant" if spec.padding_mode == "zeros" else spec.padding_mode
    return F.pad(image[None], (left, right, top, bottom), mode=mode)[0]


def activate(x: torch.Tensor, spec: ActivationSpec) -> torch.Tensor:
    """Apply the activation ``spec.name`` elementwise."""
    match spec.name:
        case "None":
            return x
        case "ReLU":
            return F.relu(x)
        case "Leaky ReLU":
            return F.leaky_relu(x, spec.slope)
        case "ELU":
            return F.elu(x, spec.alpha)
        case "GELU":
            return F.gelu(x)
        case "Tanh":
            return torch.tanh(x)
        case "Sigmoid":
            return torch.sigmoid(x)
    raise _refused("activation", f"unknown activation {spec.name!r}", f"Choose one of {', '.join(ACTIVATIONS)}.")


def pool(x: torch.Tensor, spec: PoolSpec) -> torch.Tensor | None:
    """Pool a (C, H, W) map; ``None`` when pooling is off."""
    k, s, p = spec.kernel, spec.stride, spec.padding
    match spec.kind:
        case "None":
            return None
        case "Max":
            return F.max_pool2d(x[None], k, s, p, ceil_mode=spec.ceil_mode)[0]
        case "Average":
            return F.avg_pool2d(x[None], k, s, p, ceil_mode=spec.ceil_mode)[0]
        case "LP (L2)":
            return F.lp_pool2d(x[None], 2.0, k, s, ceil_mode=spec.ceil_mode)[0]
    raise _refused("pooling", f"unknown pooling {spec.kind!r}", f"Choose one of {', '.join(POOLS)}.")


def each_axis(fn, stage: str):
    """Call ``fn(i)`` for i = 0 (height), 1 (width), turning a shapes error into a ConfigError of ``stage``."""
    out = []
    for i, axis in enumerate(AXES):
        try:
            out.append(fn(i))
        except shapes.SizeError as e:
            raise ConfigError(e.failure) from None
        except ValueError as e:  # an argument out of range, e.g. stride 0: no formula to show
            raise ConfigError(Failure(stage, axis, "", "", f"along the {axis}, {str(e).rstrip('.')}")) from None
    return tuple(out)


def conv_axes(shape: tuple[int, int], spec: ConvSpec) -> tuple[shapes.AxisSize, shapes.AxisSize]:
    """Size arithmetic of the convolution along (height, width)."""
    top, bottom, left, right = spec.padding
    pads = ((top, bottom), (left, right))
    k = spec.kernel_size
    return each_axis(
        lambda i: shapes.conv_axis(shape[i], k[i], spec.stride[i], pads[i], spec.dilation[i], axis=AXES[i]),
        "convolution",
    )


def pool_axes(shape: tuple[int, int], spec: PoolSpec) -> tuple[shapes.AxisSize, shapes.AxisSize] | None:
    """Size arithmetic of the pooling along (height, width); ``None`` when pooling is off."""
    if spec.kind == "None":
        return None
    if spec.kind == "LP (L2)":
        try:
            check_lp_padding(spec.padding)
        except shapes.SizeError as e:
            raise ConfigError(e.failure) from None
    k, s, p = spec.kernel, spec.stride, spec.padding
    return each_axis(
        lambda i: shapes.pool_axis(shape[i], k[i], s[i], p[i], 1, spec.ceil_mode, axis=AXES[i]), "pooling"
    )


def check_input(image: torch.Tensor, bias: float, stage: str = "convolution") -> None:
    """Refuse an image that is not (C, H, W) and a bias out of range (``stage`` names the layer).

    Raises:
        ConfigError: either is wrong.
    """
    if image.ndim != 3:
        raise _refused("input", f"expected an image of shape (C, H, W), got {tuple(image.shape)}")
    if not abs(bias) <= BIAS_LIMIT:  # NaN fails too
        raise _refused(stage, f"the bias must lie between −{BIAS_LIMIT:,.0f} and {BIAS_LIMIT:,.0f}, got {bias}")


def check_finite(named: tuple[tuple[str, torch.Tensor | None], ...]) -> None:
    """Refuse a stage that overflowed float32; ``named`` holds (stage name, tensor or None) in pipeline order.

    Raises:
        ConfigError: the first stage with a value beyond float32 (the message says which).
    """
    for stage, t in named:
        if t is not None and not bool(torch.isfinite(t).all()):
            raise _refused(stage.split()[0], f"the {stage} overflowed: some of its values are beyond what float32 "
                           "holds (±3.4·10^38)", "Use smaller kernel weights, bias or input values.")  # fmt: skip


def run_stages(image: torch.Tensor, conv: ConvSpec, act: ActivationSpec, pooling: PoolSpec) -> Stages:
    """Run every stage on a (C, H, W) float image.

    Raises:
        ConfigError: the configuration is impossible (the first failing stage in pipeline order), or a stage
            overflows float32 (the message says which).
    """
    check_input(image, conv.bias)
    padded = pad(image, conv)
    weight, groups = weight_tensor(conv, image.shape[0])
    c_axes = conv_axes(tuple(image.shape[1:]), conv)
    bias = torch.full((weight.shape[0],), float(conv.bias))
    out = F.conv2d(padded[None], weight, bias, conv.stride, 0, conv.dilation, groups)[0]
    activated = activate(out, act)
    p_axes = pool_axes(tuple(out.shape[1:]), pooling)
    pooled = pool(activated, pooling)
    check_finite((("padded input", padded), ("convolution", out), ("activation", activated), ("pooling", pooled)))
    notes = []
    for name, axis in zip(("row", "column"), c_axes, strict=True):
        if n := axis.uncovered:
            last = f"last padded {name} is" if n == 1 else f"last {plural(n, f'padded {name}')} are"
            notes.append(
                f"The stride does not divide evenly: the {last} never covered by a kernel window "
                f"({'it is' if n == 1 else 'they are'} ignored)."
            )
    return Stages(
        input=image,
        padded=padded,
        conv=out,
        activated=activated,
        pooled=pooled,
        weight=weight,
        groups=groups,
        bias=conv.bias,
        conv_axes=c_axes,
        pool_axes=p_axes,
        notes=tuple(notes),
        padding_mode=conv.padding_mode,
    )
