"""Kernel presets for the convolution explorer, as plain nested tuples of numbers."""

from __future__ import annotations

import math

import torch

Kernel = tuple[tuple[float, ...], ...]
# Typed weights and the bias stay within ±1,000: larger teach nothing more, and so every stage stays far inside
# float32 (11·11·3 products of 10,000 × 1,000 is 3.6·10^9; L2 pooling squares it: ~10^21 ≪ 3.4·10^38).
WEIGHT_LIMIT = 1000.0
BIAS_LIMIT = 1000.0

# Fixed 3×3 kernels from image processing. Each is written as the cross-correlation weights that
# deep-learning libraries apply (no flip), so Sobel x responds positively to dark→bright edges.
FIXED: dict[str, Kernel] = {
    "Sharpen": ((0, -1, 0), (-1, 5, -1), (0, -1, 0)),
    "Sobel x (vertical edges)": ((-1, 0, 1), (-2, 0, 2), (-1, 0, 1)),
    "Sobel y (horizontal edges)": ((-1, -2, -1), (0, 0, 0), (1, 2, 1)),
    "Prewitt x": ((-1, 0, 1), (-1, 0, 1), (-1, 0, 1)),
    "Prewitt y": ((-1, -1, -1), (0, 0, 0), (1, 1, 1)),
    "Laplacian (4-neighbour)": ((0, -1, 0), (-1, 4, -1), (0, -1, 0)),
    "Laplacian (8-neighbour)": ((-1, -1, -1), (-1, 8, -1), (-1, -1, -1)),
    "Emboss": ((-2, -1, 0), (-1, 1, 1), (0, 1, 2)),
    "Outline (diagonal edges)": ((1, 0, -1), (0, 0, 0), (-1, 0, 1)),
}

# Kernels that exist at any size.
SIZED = ("Identity", "Box blur", "Gaussian blur", "Random")

PRESET_NAMES: tuple[str, ...] = ("Identity", "Box blur", "Gaussian blur", *FIXED, "Random")

DESCRIPTIONS: dict[str, str] = {
    "Identity": "Copies the centre pixel: the output equals the input.",
    "Box blur": "Averages the window: every weight is 1/(F·F).",
    "Gaussian blur": "A weighted average that favours the centre (binomial weights, they sum to 1).",
    "Sharpen": "Centre minus its four neighbours: boosts local contrast.",
    "Sobel x (vertical edges)": "Right column minus left column: responds to vertical edges.",
    "Sobel y (horizontal edges)": "Bottom row minus top row: responds to horizontal edges.",
    "Prewitt x": "Like Sobel x without the extra weight on the middle row.",
    "Prewitt y": "Like Sobel y without the extra weight on the middle column.",
    "Laplacian (4-neighbour)": "Centre against its 4 neighbours: zero on flat areas, large at edges.",
    "Laplacian (8-neighbour)": "Centre against all 8 neighbours: finds edges in every direction.",
    "Emboss": "Bottom-right minus top-left: a relief effect.",
    "Outline (diagonal edges)": "Opposite corners against each other: diagonal edges.",
    "Random": "Weights drawn from a normal distribution, like an untrained CNN filter.",
}


def _binomial(n: int) -> list[float]:
    return [float(math.comb(n - 1, k)) for k in range(n)]


def preset_kernel(name: str, size: int = 3, seed: int = 0) -> Kernel:
    """The preset ``name`` as a (size × size) kernel.

    Args:
        name: one of ``PRESET_NAMES``.
        size: side F for the sized presets (identity, box, Gaussian, random); fixed presets are 3×3.
        seed: seed of the random kernel.

    Raises:
        KeyError: unknown preset.
        ValueError: a size outside 1..11.
    """
    if name in FIXED:
        return FIXED[name]
    if name not in SIZED:
        raise KeyError(f"Unknown kernel preset {name!r}; choose one of: {', '.join(PRESET_NAMES)}.")
    if not 1 <= size <= 11:
        raise ValueError(f"Kernel size must be between 1 and 11, got {size}.")
    if name == "Identity":
        # With an even size there is no centre pixel; PyTorch's 'same' padding puts the extra
        # pixel after, so the top-left of the middle four is the pixel that keeps the image in place.
        c = (size - 1) // 2
        return tuple(tuple(1.0 if (i, j) == (c, c) else 0.0 for j in range(size)) for i in range(size))
    if name == "Box blur":
        return tuple(tuple(1.0 / (size * size) for _ in range(size)) for _ in range(size))
    if name == "Gaussian blur":
        row = _binomial(size)
        total = sum(row) ** 2
        return tuple(tuple(a * b / total for b in row) for a in row)
    g = torch.Generator().manual_seed(seed)
    values = torch.randn(size, size, generator=g) / size  # He-like scale keeps outputs readable
    return tuple(tuple(round(float(v), 2) for v in r) for r in values)


def kernel_tensor(kernel: Kernel) -> torch.Tensor:
    """A kernel as a float32 tensor of shape (kH, kW)."""
    return torch.tensor(kernel, dtype=torch.float32)


def parse_kernel(rows: list[list[object]]) -> Kernel:
    """Validate typed values (a rectangular grid of numbers, sides 1..11) into a kernel.

    Raises:
        ValueError: ragged rows, empty cells, non-numbers, NaN/infinity, a value beyond ±WEIGHT_LIMIT or a side
            outside 1..11.
    """
    if not rows or not all(rows):
        raise ValueError("The kernel is empty: type at least one number.")
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise ValueError("Every kernel row needs the same number of values.")
    if not (1 <= len(rows) <= 11 and 1 <= width <= 11):
        raise ValueError(f"Kernels can be 1 to 11 cells on a side, this one is {len(rows)}×{width}.")
    out = []
    for i, r in enumerate(rows):
        parsed = []
        for j, v in enumerate(r):
            try:
                x = float(v)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise ValueError(f"Row {i + 1}, column {j + 1} holds {v!r}, which is not a number.") from None
            if not math.isfinite(x):
                raise ValueError(f"Row {i + 1}, column {j + 1} must be a finite number, got {v!r}.")
            if abs(x) > WEIGHT_LIMIT:
                raise ValueError(f"Row {i + 1}, column {j + 1} holds {v!r}: weights must lie between "
                                 f"−{WEIGHT_LIMIT:,.0f} and {WEIGHT_LIMIT:,.0f}.")  # fmt: skip
            parsed.append(x)
        out.append(tuple(parsed))
    return tuple(out)
