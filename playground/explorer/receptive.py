"""Receptive fields across a network's layers: how many input pixels one unit sees, and where.

Along one axis, a layer of kernel k, stride s, padding p and dilation d turns the field of its input's
units (size r, jump j between neighbours, start of unit 0) into its own:

    r_out = r_in + (k − 1)·d·j_in      j_out = j_in·s      start_out = start_in − p·j_in

Layers that keep the shape (activations, batch norm, dropout) keep the field; after Flatten every unit
sees the whole image, so there is no field to write. The image's pixels are the start: r = 1, j = 1,
start = 0. A start below 0 means unit 0's field begins in the padding.

>>> [(f.size, f.jump, f.start) for f in receptive_fields(DEFAULT_SPEC)[:8]]  # the classic network
[(5, 1, -2), (5, 1, -2), (5, 1, -2), (6, 2, -2), (14, 2, -6), (14, 2, -6), (14, 2, -6), (16, 4, -6)]
"""

from __future__ import annotations

from dataclasses import dataclass

from playground.train.layers import layer_params
from playground.train.presets import DEFAULT_SPEC  # noqa: F401 (the doctest's)


@dataclass(frozen=True, kw_only=True)
class Field:
    """The receptive field of a layer's units along one axis (square images and kernels: both axes)."""

    size: int  # r: input pixels one unit sees, end to end
    jump: int  # j: input pixels between the fields of neighbouring units
    start: int  # the input coordinate where unit 0's field begins

    def span(self, unit: int) -> tuple[int, int]:
        """First and last input coordinate of unit ``unit``'s field (may reach into the padding)."""
        first = self.start + unit * self.jump
        return first, first + self.size - 1

    def within(self, unit: int, length: int) -> tuple[int, int]:
        """``span(unit)`` inside an input of ``length`` pixels: the pixels of the image the unit sees (the padding
        holds no pixels)."""
        first, last = self.span(unit)
        return max(0, first), min(length - 1, last)

    def recurrence(self, kernel: int, stride: int, padding: int, dilation: int, before: Field) -> str:
        """The rule with the numbers, e.g. ``r = 5 + (5 − 1)·1·2 = 13, j = 2·2 = 4``."""
        return (f"r = {before.size} + ({kernel} − 1)·{dilation}·{before.jump} = {self.size}, "
                f"j = {before.jump}·{stride} = {self.jump}")  # fmt: skip


def receptive_fields(spec: dict) -> list[Field | None]:
    """Each layer's field, in order; None from the first Flatten on (every unit sees the whole image).

    Raises:
        SpecError: a layer that cannot be read (``models.summarize`` says which, in words).
    """
    field, fields = Field(size=1, jump=1, start=0), []
    for layer in spec["layers"]:
        kind, q = layer_params(layer)
        if field is None or kind in ("flatten", "linear"):
            field = None
        elif kind in ("conv", "maxpool", "avgpool"):
            k, s, d = q["kernel"], q["stride"], q.get("dilation", 1)
            p = q.get("padding", 0)
            field = Field(size=field.size + (k - 1) * d * field.jump, jump=field.jump * s,
                          start=field.start - p * field.jump)  # fmt: skip
        fields.append(field)
    return fields
