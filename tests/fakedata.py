"""A small, learnable FashionMNIST stand-in written in torchvision's on-disk layout.

Tests use it to drive the real loading code (``torchvision.datasets.FashionMNIST``) without
the 30 MB download: class ``k`` is a bright bar at a class-specific place plus noise.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np


def _idx(array: np.ndarray) -> bytes:
    magic = 0x0803 if array.ndim == 3 else 0x0801  # uint8 images (3 dims) or labels (1 dim)
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape) + array.tobytes()


def fake_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images (n, 28, 28) uint8 and labels (n,) uint8, classes balanced."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 10).astype(np.uint8)
    rng.shuffle(labels)
    images = rng.integers(0, 60, size=(n, 28, 28), dtype=np.uint8)
    for i, k in enumerate(labels):
        if k < 5:
            images[i, 3 + 5 * k : 6 + 5 * k, 4:24] = 230  # horizontal bar
        else:
            images[i, 4:24, 3 + 5 * (k - 5) : 6 + 5 * (k - 5)] = 230  # vertical bar
    return images, labels


def write_fake_fashion_mnist(root: Path, n_train: int = 600, n_test: int = 200, seed: int = 0) -> Path:
    """Write ``root/FashionMNIST/raw/*-ubyte`` and return ``root`` (what torchvision's ``root=`` wants)."""
    raw = Path(root) / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n, s in (("train", n_train, seed), ("t10k", n_test, seed + 1)):
        images, labels = fake_split(n, s)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(_idx(images))
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(_idx(labels))
    return Path(root)
