"""Output-size arithmetic for convolution and pooling: the one place every page asks.

The rules follow PyTorch exactly (``nn.Conv2d``, ``nn.MaxPool2d`` with ``ceil_mode``), and
every function raises ``ValueError`` with a sentence a student can act on, never a bare
assertion. Formulas are returned as LaTeX so pages can show them with ``st.latex``.

>>> conv_output_size(28, 5, padding=2)
28
>>> pool_output_size(28, 2)
14
"""

from __future__ import annotations

from dataclasses import dataclass

Padding = int | tuple[int, int]


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}.")
    return value


def _split_padding(padding: Padding) -> tuple[int, int]:
    if isinstance(padding, tuple | list):
        if len(padding) != 2:
            raise ValueError(f"padding must be one number or a (before, after) pair, got {padding!r}.")
        before, after = padding
    else:
        before = after = padding
    return _check_int("padding", before, 0), _check_int("padding", after, 0)


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """Span of a dilated kernel: ``D·(F−1) + 1`` pixels."""
    return dilation * (kernel - 1) + 1


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: Padding = 0, dilation: int = 1) -> int:
    """Output length of ``nn.Conv2d`` along one axis.

    Args:
        size: input length W.
        kernel: kernel length F.
        stride: step S between windows.
        padding: P on both sides, or a ``(before, after)`` pair.
        dilation: D, the spacing between kernel taps.

    Returns:
        ``⌊(W + P_before + P_after − D·(F−1) − 1) / S⌋ + 1``.

    Raises:
        ValueError: an argument is out of range, or the kernel does not fit the padded input.
    """
    _check_int("input size", size, 1)
    _check_int("kernel size", kernel, 1)
    _check_int("stride", stride, 1)
    _check_int("dilation", dilation, 1)
    before, after = _split_padding(padding)
    padded = size + before + after
    span = effective_kernel(kernel, dilation)
    if span > padded:
        raise ValueError(
            f"The kernel spans {span} pixels (dilation {dilation} × ({kernel} − 1) + 1) but the padded "
            f"input is only {padded} pixels long ({size} + {before} + {after}), so no window fits. "
            "Use a smaller kernel or dilation, or more padding."
        )
    return (padded - span) // stride + 1


def pool_output_size(
    size: int,
    kernel: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length of ``nn.MaxPool2d`` along one axis, ``ceil_mode`` included.

    ``stride`` defaults to ``kernel`` as in PyTorch. With ``ceil_mode`` the division rounds up,
    but a window that would start in the right padding is dropped (PyTorch's rule).

    Raises:
        ValueError: an argument is out of range, the padding is more than half the kernel
            (PyTorch refuses it), or the output would be empty.
    """
    _check_int("input size", size, 1)
    _check_int("pooling size", kernel, 1)
    stride = kernel if stride is None else _check_int("pooling stride", stride, 1)
    _check_int("pooling dilation", dilation, 1)
    _check_int("pooling padding", padding, 0)
    span = effective_kernel(kernel, dilation)
    if padding > kernel // 2 or padding > span // 2:
        raise ValueError(
            f"Pooling padding {padding} is more than half the pooling window ({kernel} // 2 = {kernel // 2}); "
            "PyTorch refuses this because a window could then hold nothing but padding."
        )
    numerator = size + 2 * padding - span + (stride - 1 if ceil_mode else 0)
    if numerator < 0:
        raise ValueError(
            f"The pooling window spans {span} pixels but the input is only {size + 2 * padding} "
            f"pixels long (with padding), so the output would be empty. Use a smaller pooling window."
        )
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window would start inside the right padding: PyTorch drops it
    return out


@dataclass(frozen=True)
class AxisSize:
    """One axis of one stage: its numbers, its output length and how to write it out."""

    size: int
    kernel: int
    stride: int
    pad_before: int
    pad_after: int
    dilation: int
    output: int
    ceil_mode: bool
    pool: bool

    @property
    def padded(self) -> int:
        return self.size + self.pad_before + self.pad_after

    @property
    def uncovered(self) -> int:
        """Pixels at the end of the padded input that no window reaches (0 when exact)."""
        reach = (self.output - 1) * self.stride + effective_kernel(self.kernel, self.dilation)
        return max(0, self.padded - reach)

    @property
    def exact(self) -> bool:
        return (self.padded - effective_kernel(self.kernel, self.dilation)) % self.stride == 0

    def symbolic(self, symbol: str = "W") -> str:
        """The rule in symbols, e.g. ``W_out = ⌊(W + P_before + P_after − D(F−1) − 1)/S⌋ + 1``."""
        o, c = self._brackets()
        pads = "2P" if self.pool else "P_{before} + P_{after}"
        return rf"{symbol}_{{out}} = {o}\frac{{{symbol} + {pads} - D(F-1) - 1}}{{S}}{c} + 1"

    def substituted(self, symbol: str = "W") -> str:
        """The rule with these numbers, e.g. ``W_out = ⌊(28 + 2 + 2 − 1·(5−1) − 1)/1⌋ + 1 = 28``."""
        o, c = self._brackets()
        pads = f"2 \\cdot {self.pad_before}" if self.pool else f"{self.pad_before} + {self.pad_after}"
        num = rf"{self.size} + {pads} - {self.dilation}\cdot({self.kernel}-1) - 1"
        return rf"{symbol}_{{out}} = {o}\frac{{{num}}}{{{self.stride}}}{c} + 1 = {self.output}"

    @property
    def dropped_last(self) -> bool:
        """ceil_mode rounded up to a window that would start in the padding, which PyTorch drops."""
        return self.ceil_mode and self.output != pool_raw_ceil(self)

    def latex(self, symbol: str = "W") -> str:
        """Symbolic rule, then the same rule with these numbers."""
        return rf"{self.symbolic(symbol)} \;\Rightarrow\; {self.substituted(symbol)}"

    def _brackets(self) -> tuple[str, str]:
        if self.ceil_mode:
            return r"\left\lceil", r"\right\rceil"
        return r"\left\lfloor", r"\right\rfloor"


def pool_raw_ceil(axis: AxisSize) -> int:
    """Ceil-mode output before PyTorch drops a window that starts in the padding."""
    span = effective_kernel(axis.kernel, axis.dilation)
    return (axis.padded - span + axis.stride - 1) // axis.stride + 1


def conv_axis(size: int, kernel: int, stride: int = 1, padding: Padding = 0, dilation: int = 1) -> AxisSize:
    """``conv_output_size`` with everything needed to explain it."""
    out = conv_output_size(size, kernel, stride, padding, dilation)
    before, after = _split_padding(padding)
    return AxisSize(size, kernel, stride, before, after, dilation, out, False, False)


def pool_axis(
    size: int, kernel: int, stride: int | None = None, padding: int = 0, dilation: int = 1, ceil_mode: bool = False
) -> AxisSize:
    """``pool_output_size`` with everything needed to explain it."""
    out = pool_output_size(size, kernel, stride, padding, dilation, ceil_mode)
    stride = kernel if stride is None else stride
    return AxisSize(size, kernel, stride, padding, padding, dilation, out, ceil_mode, True)


def same_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding that keeps the size at stride 1; the extra pixel goes after, as in PyTorch."""
    total = effective_kernel(kernel, dilation) - 1
    return total // 2, total - total // 2


def full_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding where every window overlaps the input by at least one pixel."""
    total = effective_kernel(kernel, dilation) - 1
    return total, total


def shortcut_padding(name: str, kernel: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding for a named shortcut: "valid" (none), "same" or "full".

    Raises:
        ValueError: an unknown name.
    """
    if name == "valid":
        return 0, 0
    if name == "same":
        return same_padding(kernel, dilation)
    if name == "full":
        return full_padding(kernel, dilation)
    raise ValueError(f"Padding shortcut must be valid, same or full, got {name!r}.")
