"""Output-size arithmetic for convolution and pooling: the one place every page asks.

The rules follow PyTorch exactly (``nn.Conv2d``, ``nn.MaxPool2d`` with ``ceil_mode``, ``F.pad``'s
limits), and every function raises ``ValueError`` with a sentence a student can act on, never a
bare assertion. A setting PyTorch refuses raises ``SizeError``, whose ``Failure`` also carries the
failing stage and axis and the formula with the user's numbers that shows why. Formulas are
returned as LaTeX so pages can show them with ``st.latex``.

>>> conv_output_size(28, 5, padding=2)
28
>>> pool_output_size(28, 2)
14
"""

from __future__ import annotations

from dataclasses import dataclass

from playground.explorer.failures import SIDES, SYMBOLS, Failure, SizeError, along, plural

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


def conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: Padding = 0, dilation: int = 1, *, axis: str | None = None
) -> int:
    """Output length of ``nn.Conv2d`` along one axis.

    Args:
        size: input length W.
        kernel: kernel length F.
        stride: step S between windows.
        padding: P on both sides, or a ``(before, after)`` pair.
        dilation: D, the spacing between kernel taps.
        axis: "height" or "width": names the axis (and its letter H or W) in a failure.

    Returns:
        ``⌊(W + P_before + P_after − D·(F−1) − 1) / S⌋ + 1``.

    Raises:
        SizeError: the kernel spans more than the padded input (stage "convolution").
        ValueError: an argument is out of range.
    """
    _check_int("input size", size, 1)
    _check_int("kernel size", kernel, 1)
    _check_int("stride", stride, 1)
    _check_int("dilation", dilation, 1)
    before, after = _split_padding(padding)
    padded = size + before + after
    span = effective_kernel(kernel, dilation)
    if span > padded:
        how = f" (dilation {dilation} × ({kernel} − 1) + 1)" if dilation > 1 else ""
        sum_ = f" ({size} + {before} + {after})" if before or after else ""
        raw = (padded - span) // stride + 1
        failed = AxisSize(size=size, kernel=kernel, stride=stride, pad_before=before, pad_after=after,
                          dilation=dilation, output=raw, ceil_mode=False, pool=False)  # fmt: skip
        raise _empty(
            failed,
            axis,
            f"the kernel spans {plural(span, 'pixel')}{how} but the padded input is only "
            f"{plural(padded, 'pixel')} long{sum_}, so no window fits",
            "Use a smaller kernel or dilation, or more padding.",
        )
    return (padded - span) // stride + 1


def _empty(failed: AxisSize, axis: str | None, why: str, fix: str) -> SizeError:
    """The error for an output of 0 or less: the stage's rule, worked with ``failed``'s numbers."""
    stage = "pooling" if failed.pool else "convolution"
    formula, rule = failed.failed(SYMBOLS[axis]), failed.symbolic(SYMBOLS[axis])
    return SizeError(Failure(stage, axis, formula, rule, along(axis) + why, fix))


def pool_output_size(
    size: int,
    kernel: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
    *,
    axis: str | None = None,
) -> int:
    """Output length of ``nn.MaxPool2d`` along one axis, ``ceil_mode`` included.

    ``stride`` defaults to ``kernel`` as in PyTorch. With ``ceil_mode`` the division rounds up,
    but a window that would start in the right padding is dropped (PyTorch's rule).

    Raises:
        SizeError: (stage "pooling", ``axis``) the padding is more than half the window, which
            PyTorch refuses, or the output would be empty.
        ValueError: an argument is out of range.
    """
    _check_int("input size", size, 1)
    _check_int("pooling size", kernel, 1)
    stride = kernel if stride is None else _check_int("pooling stride", stride, 1)
    _check_int("pooling dilation", dilation, 1)
    _check_int("pooling padding", padding, 0)
    span = effective_kernel(kernel, dilation)
    if padding > kernel // 2:  # PyTorch also checks span // 2, which is never smaller
        raise SizeError(
            Failure(
                "pooling",
                axis,
                rf"P = {padding} > \left\lfloor\frac{{F}}{{2}}\right\rfloor = "
                rf"\left\lfloor\frac{{{kernel}}}{{2}}\right\rfloor = {kernel // 2}",
                r"P \le \left\lfloor\frac{F}{2}\right\rfloor",
                f"{along(axis)}pooling padding {padding} is more than half the pooling window "
                f"({kernel} // 2 = {kernel // 2}), so a window could hold nothing but padding",
                f"PyTorch refuses this: use a padding of at most {kernel // 2}, or a larger pooling window.",
            )
        )
    numerator = size + 2 * padding - span + (stride - 1 if ceil_mode else 0)
    if numerator < 0:
        n = size + 2 * padding - span
        raw = -(-n // stride) + 1 if ceil_mode else n // stride + 1
        failed = AxisSize(size=size, kernel=kernel, stride=stride, pad_before=padding, pad_after=padding,
                          dilation=dilation, output=raw, ceil_mode=ceil_mode, pool=True)  # fmt: skip
        sum_ = f" with its padding ({size} + 2 × {padding})" if padding else ""
        raise _empty(
            failed,
            axis,
            f"the pooling window spans {plural(span, 'pixel')} but the map it pools is only "
            f"{plural(size + 2 * padding, 'pixel')} long{sum_}, so the output would be empty",
            "Use a smaller pooling window, or make the map before pooling larger "
            "(a smaller stride or kernel, or more padding).",
        )
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window would start inside the right padding: PyTorch drops it
    return out


def check_padding(size: int, before: int, after: int, mode: str, *, axis: str | None = None) -> None:
    """Check ``F.pad``'s limit on padding one axis of ``size`` pixels in ``mode``.

    Reflect mirrors without repeating the edge pixel, so each side adds at most ``size − 1``
    pixels; circular wraps around at most once, so at most ``size``; zeros and replicate: any.

    Raises:
        SizeError: (stage "padding", ``axis``) a side asks for more than the limit.
    """
    if mode not in ("reflect", "circular"):
        return
    reflect = mode == "reflect"
    limit = size - 1 if reflect else size
    pad = max(before, after)
    if pad <= limit:
        return
    side = SIDES[axis][0 if before >= after else 1]
    sym = SYMBOLS[axis]
    bound, worked = (f"{sym} - 1", f"{size} - 1 = {limit}") if reflect else (sym, str(size))
    does = "mirrors the image without repeating its edge pixel" if reflect else "wraps around the image at most once"
    raise SizeError(
        Failure(
            "padding",
            axis,
            rf"P_{{{side}}} = {pad} > {bound} = {worked}",
            rf"P \le {bound}",
            f"{mode} padding {does}, so it adds at most {plural(limit, 'pixel')} on each side of the "
            f"{size}-pixel {axis or 'side'}, but the {side} asks for {pad}",
            "Use less padding, or replicate or zeros mode." if reflect else "Use less padding.",
        )
    )


@dataclass(frozen=True, kw_only=True)
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
        return rf"{symbol}_{{out}} = {self._fraction()} + 1 = {self.output}"

    def failed(self, symbol: str = "W") -> str:
        """The rule with these numbers worked to an output of 0 or less, e.g. ``… = ⌊−2/1⌋ + 1 = −1``."""
        o, c = self._brackets()
        n = self.padded - effective_kernel(self.kernel, self.dilation)
        return rf"{symbol}_{{out}} = {self._fraction()} + 1 = {o}\frac{{{n}}}{{{self.stride}}}{c} + 1 = {self.output}"

    def _fraction(self) -> str:
        o, c = self._brackets()
        pads = f"2 \\cdot {self.pad_before}" if self.pool else f"{self.pad_before} + {self.pad_after}"
        num = rf"{self.size} + {pads} - {self.dilation}\cdot({self.kernel}-1) - 1"
        return rf"{o}\frac{{{num}}}{{{self.stride}}}{c}"

    def first_window(self, index: int) -> int | None:
        """The first window (output index) whose span covers input position ``index``, or None if none does.

        >>> pool_axis(6, 2, 2).first_window(3), conv_axis(5, 3, 2).first_window(4), pool_axis(5, 2, 2).first_window(4)
        (1, 1, None)
        """
        span = effective_kernel(self.kernel, self.dilation)
        start = max(0, -(-(index + self.pad_before - span + 1) // self.stride))  # ceil division
        return start if start < self.output and start * self.stride - self.pad_before <= index else None

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


def conv_axis(
    size: int, kernel: int, stride: int = 1, padding: Padding = 0, dilation: int = 1, *, axis: str | None = None
) -> AxisSize:
    """``conv_output_size`` with everything needed to explain it."""
    out = conv_output_size(size, kernel, stride, padding, dilation, axis=axis)
    before, after = _split_padding(padding)
    return AxisSize(size=size, kernel=kernel, stride=stride, pad_before=before, pad_after=after, dilation=dilation,
                    output=out, ceil_mode=False, pool=False)  # fmt: skip


def pool_axis(
    size: int,
    kernel: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
    *,
    axis: str | None = None,
) -> AxisSize:
    """``pool_output_size`` with everything needed to explain it."""
    out = pool_output_size(size, kernel, stride, padding, dilation, ceil_mode, axis=axis)
    stride = kernel if stride is None else stride
    return AxisSize(size=size, kernel=kernel, stride=stride, pad_before=padding, pad_after=padding, dilation=dilation,
                    output=out, ceil_mode=ceil_mode, pool=True)  # fmt: skip


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


@dataclass(frozen=True, kw_only=True)
class TransposedAxis:
    """One axis of a transposed convolution (``nn.ConvTranspose2d``): its numbers and how to write its rule out.

    Each input cell scatters a copy of the kernel, scaled by the cell, S pixels after the previous one's;
    the padding P then crops P pixels off each end, and output_padding adds OP at the end.
    """

    size: int
    kernel: int
    stride: int
    padding: int
    output_padding: int
    dilation: int
    output: int

    def symbolic(self, symbol: str = "W") -> str:
        return rf"{symbol}_{{out}} = ({symbol} - 1)\cdot S - 2P + D\cdot(F-1) + OP + 1"

    def substituted(self, symbol: str = "W") -> str:
        """The rule with these numbers, e.g. ``W_out = (7 − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1 = 14``."""
        return (rf"{symbol}_{{out}} = ({self.size} - 1)\cdot {self.stride} - 2\cdot {self.padding} + "
                rf"{self.dilation}\cdot({self.kernel}-1) + {self.output_padding} + 1 = {self.output}")  # fmt: skip


def conv_transpose_axis(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
    *,
    axis: str | None = None,
) -> TransposedAxis:
    """``nn.ConvTranspose2d``'s output length along one axis, with everything needed to explain it.

    >>> conv_transpose_axis(7, 3, stride=2, padding=1, output_padding=1).output  # 7 → 14: undoes a stride-2 conv
    14

    Raises:
        SizeError: output_padding is not smaller than the stride or the dilation (PyTorch's rule: the extra
            pixels would be a place no kernel copy reaches), or the padding crops the whole output away
            (stage "transposed convolution").
        ValueError: an argument is out of range.
    """
    for name, value, least in (("input size", size, 1), ("kernel size", kernel, 1), ("stride", stride, 1),
                               ("padding", padding, 0), ("output padding", output_padding, 0),
                               ("dilation", dilation, 1)):  # fmt: skip
        _check_int(name, value, least)
    out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    found = TransposedAxis(size=size, kernel=kernel, stride=stride, padding=padding, output_padding=output_padding,
                           dilation=dilation, output=out)  # fmt: skip
    letter = SYMBOLS[axis]
    if output_padding >= stride and output_padding >= dilation:
        why = (f"output padding {output_padding} must be smaller than the stride ({stride}) or the dilation "
               f"({dilation}), as PyTorch requires: the extra pixels at the end would lie where no copy of the "
               "kernel reaches")  # fmt: skip
        fix = f"Use an output padding below {max(stride, dilation)}, or a larger stride."
        worked = rf"OP = {output_padding} \ge \max(S, D) = \max({stride}, {dilation}) = {max(stride, dilation)}"
        raise SizeError(Failure("transposed convolution", axis, worked, r"OP < \max(S, D)", along(axis) + why, fix))
    if out < 1:
        raise SizeError(Failure("transposed convolution", axis, found.substituted(letter), found.symbolic(letter),
                                along(axis) + f"a padding of {padding} crops {plural(2 * padding, 'pixel')} off an "
                                f"output of only {plural(out + 2 * padding, 'pixel')}, leaving nothing",
                                "Use less padding, or a larger kernel or stride."))  # fmt: skip
    return found
