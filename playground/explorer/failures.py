"""Why a setting cannot be computed, as facts a page can lay out: stage, axis, formula and words.

``playground.explorer.shapes`` raises ``SizeError`` when an output-size or padding rule PyTorch enforces is
broken; the two checks here cover what PyTorch refuses beyond sizes (filters of one layer of
different sizes, LP pooling with padding). The explorer's ``ConfigError`` carries the same ``Failure``.
"""

from __future__ import annotations

from dataclasses import dataclass

SYMBOLS = {"height": "H", "width": "W", None: "W"}  # the letter of an axis in formulas
SIDES = {"height": ("top", "bottom"), "width": ("left", "right"), None: ("before", "after")}


def plural(count: int, word: str, many: str | None = None) -> str:
    """The count with its word in the right number: ``plural(1, "pixel")`` is ``"1 pixel"``, 2 gives ``"2 pixels"``."""
    return f"{count} {word if count == 1 else many or word + 's'}"


@dataclass(frozen=True)
class Failure:
    """Why a setting cannot be computed, as facts a page can lay out.

    Attributes:
        stage: the failing stage: "padding", "convolution", "pooling" or "transposed convolution".
        axis: "height" or "width", or None when the failure is not along one axis.
        formula: LaTeX with the user's numbers showing the failure (e.g. an output size ≤ 0); "" if none.
        rule: the failing stage's rule in symbols, as LaTeX; "" if none.
        why: what does not fit, with the numbers, as a clause (no final full stop).
        fix: what to change, as sentences.
    """

    stage: str
    axis: str | None
    formula: str
    rule: str
    why: str
    fix: str = ""

    @property
    def message(self) -> str:
        """``why`` then ``fix`` as sentences, e.g. "Along the width, the kernel spans 5 pixels … Use …"."""
        return f"{self.why[0].upper()}{self.why[1:]}." + (f" {self.fix}" if self.fix else "")


class SizeError(ValueError):
    """A size rule PyTorch enforces is broken; ``failure`` says where and why, ``str()`` in words."""

    def __init__(self, failure: Failure):
        super().__init__(failure.message)
        self.failure = failure


def along(axis: str | None) -> str:
    """``"along the width, "`` to begin a clause about one axis; ``""`` for no axis."""
    return f"along the {axis}, " if axis else ""


def check_filter_sizes(sizes: list[tuple[int, int]]) -> None:
    """Check that the filters of one layer, (kH, kW) each, have one size (their weights form one tensor).

    Raises:
        SizeError: (stage "convolution") two sizes differ; the axis is the one where they differ, or None for both.
    """
    other = next((i for i, size in enumerate(sizes) if size != sizes[0]), None)
    if other is None:
        return
    (h0, w0), (h1, w1) = sizes[0], sizes[other]
    axis = None if h0 != h1 and w0 != w1 else "height" if h0 != h1 else "width"
    raise SizeError(
        Failure(
            "convolution",
            axis,
            rf"F_{{1}} = {h0} \times {w0} \neq F_{{{other + 1}}} = {h1} \times {w1}",
            r"F_{1} = F_{2} = \dots",
            f"all filters of one layer must have the same size, but filter 1 is {h0}×{w0} "
            f"and filter {other + 1} is {h1}×{w1}",
            "Give every filter the same size.",
        )
    )


def check_lp_padding(padding: tuple[int, int]) -> None:
    """Check that LP pooling's (height, width) padding is 0: ``F.lp_pool2d`` and ``nn.LPPool2d`` have none.

    Raises:
        SizeError: (stage "pooling") padding is set; the axis is the padded one, or None for both.
    """
    if not any(padding):
        return
    axis = None if all(padding) else "height" if padding[0] else "width"
    sym = SYMBOLS[axis] if axis else ""
    p = padding[0] if padding[0] else padding[1]
    formula = rf"P_{{H}} = {padding[0]},\; P_{{W}} = {padding[1]}" if axis is None else rf"P_{{{sym}}} = {p}"
    raise SizeError(
        Failure(
            "pooling",
            axis,
            formula + r" \neq 0",
            "P = 0",
            f"LP pooling has no padding in PyTorch (F.lp_pool2d), but the pooling padding is {p} "
            + (f"along the {axis}" if axis else f"along the height and {padding[1]} along the width"),
            "Set the pooling padding to 0.",
        )
    )
