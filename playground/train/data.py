"""FashionMNIST: find it (env var, ./data, Debian's package, download), load it as uint8 tensors, verify it.

Run ``python -m playground.train.data`` before class: it says where the data was found (and why there, when
``PLAYGROUND_DATA_DIR`` could not be used) and checks it.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from playground.settings import SettingsError, current

CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
# MD5 of the uncompressed files: the same whichever source they came from (Debian's .gz headers differ).
MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
HOW_TO_GET_IT = """FashionMNIST was not found. Any one of these fixes it:
  1. Point PLAYGROUND_DATA_DIR at a folder holding FashionMNIST/raw/ (torchvision's layout), or put that
     folder in ./data next to where you start the app.
  2. On Debian or Ubuntu: sudo apt-get install dataset-fashion-mnist
  3. When online: press "Download FashionMNIST" in the Training studio,
     or run: python -m playground.train.data --download"""


class DataNotFound(RuntimeError):
    """No usable copy of FashionMNIST; the message lists what to do."""


@dataclass(frozen=True)
class DataLocation:
    root: Path  # what torchvision.datasets.FashionMNIST(root=...) reads
    source: str
    note: str = ""  # why this copy, when PLAYGROUND_DATA_DIR was set but could not be used


@dataclass(frozen=True, eq=False)
class FashionMNIST:
    """The whole dataset in memory: images uint8 (N, 28, 28), labels int64 (N,)."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: str
    note: str = ""  # as DataLocation.note


def _complete(root: Path) -> bool:
    raw = root / "FashionMNIST" / "raw"
    return all((raw / f).is_file() for f in FILES)


def cache_dir() -> Path:
    return current().cache_dir


def _missing(root: Path) -> str:
    """Why ``root`` holds no usable copy, in words."""
    if not root.exists():
        return "which does not exist"
    if not root.is_dir():
        return "which is not a folder"
    raw = root / "FashionMNIST" / "raw"
    absent = [f for f in FILES if not (raw / f).is_file()]
    return f"where {raw} lacks {', '.join(absent)}"


def _from_debian(debian_dir: Path) -> Path | None:
    """Build torchvision's layout from Debian's .gz files once, in the cache; None if the package is absent."""
    if not all((debian_dir / f"{f}.gz").is_file() for f in FILES):
        return None
    root = cache_dir()
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for f in FILES:
        if (raw / f).is_file():
            continue
        with gzip.open(debian_dir / f"{f}.gz") as src, tempfile.NamedTemporaryFile(dir=raw, delete=False) as dst:
            shutil.copyfileobj(src, dst)
        os.replace(dst.name, raw / f)  # atomic: two processes building at once never see half a file
    return root


def find_data_root(debian_dir: Path | None = None) -> DataLocation | None:
    """Where the data is: PLAYGROUND_DATA_DIR, then ./data, then Debian's package (unpacked to the cache).

    When PLAYGROUND_DATA_DIR is set but holds no complete copy, the copy found next says so in its ``note``.
    """
    debian_dir = debian_dir or DEBIAN_DIR
    env = current().data_dir
    if env is not None and _complete(env):
        return DataLocation(env.resolve(), f"PLAYGROUND_DATA_DIR={env}")
    note = f"PLAYGROUND_DATA_DIR is {env}, {_missing(env)}, so it was not used" if env is not None else ""
    if _complete(Path("data")):
        return DataLocation(Path("data").resolve(), "./data", note and f"{note}: using ./data instead.")
    try:
        root = _from_debian(debian_dir)
    except OSError:
        root = None
    if root is not None:
        source = f"Debian package dataset-fashion-mnist ({debian_dir})"
        return DataLocation(root, source, note and f"{note}: using the {source} instead.")
    return None


def read_fashion_mnist(location: DataLocation, download: bool = False) -> FashionMNIST:
    """torchvision's FashionMNIST reads the files at ``location`` (downloading them there first if asked).

    Raises:
        DataNotFound: the download failed or the files could not be read; the message says what to do.
    """
    from torchvision.datasets import FashionMNIST as TV  # imported late: it costs a process seconds and memory for good

    if download:
        try:
            TV(str(location.root), train=True, download=True)
            TV(str(location.root), train=False, download=True)
        except Exception as e:  # network errors come in many types
            raise DataNotFound(f"{HOW_TO_GET_IT}\n\nThe download failed: {e}") from None
    try:
        train, test = TV(str(location.root), train=True), TV(str(location.root), train=False)
    except Exception as e:
        raise DataNotFound(f"{HOW_TO_GET_IT}\n\nThe copy at {location.root} could not be read: {e}") from None
    return FashionMNIST(train.data, train.targets.long(), test.data, test.targets.long(), location.source)


def load_fashion_mnist(
    download: bool = False,
    debian_dir: Path | None = None,
    read: Callable[[DataLocation, bool], FashionMNIST] = read_fashion_mnist,
) -> FashionMNIST:
    """All of FashionMNIST as tensors, with no per-sample transforms.

    Args:
        download: when no copy is found, download one into PLAYGROUND_DATA_DIR (else ./data).
        read: what reads (or downloads) the files: ``read_fashion_mnist``, or that in another process.

    Raises:
        DataNotFound: nothing found (and not downloaded); the message says what to do.
    """
    location = find_data_root(debian_dir)
    if location is not None:
        return replace(read(location, False), note=location.note)
    env = current().data_dir
    if not download:
        raise DataNotFound(HOW_TO_GET_IT + (f"\n\nPLAYGROUND_DATA_DIR is {env}, {_missing(env)}." if env else ""))
    target = (env or Path("data")).resolve()
    return read(DataLocation(target, f"downloaded to {target}"), True)


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    """Say where the data is, count it and check its checksums; exit 1 with what to do if anything is off."""
    parser = argparse.ArgumentParser(description="Check the FashionMNIST data the Training studio will use.")
    parser.add_argument("--download", action="store_true", help="download it with torchvision if not found")
    args = parser.parse_args(argv)
    try:
        current()
    except SettingsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        data = load_fashion_mnist(download=args.download)
    except DataNotFound as e:
        print(e)
        return 1
    location = find_data_root()
    print(f"FashionMNIST found: {data.source}")
    if data.note:
        print(f"  Note: {data.note}")
    ok = True
    for name, labels in (("train", data.train_labels), ("test", data.test_labels)):
        counts = torch.bincount(labels, minlength=10).tolist()
        per_class = ", ".join(f"{c}={n}" for c, n in zip(CLASSES, counts, strict=True))
        print(f"  {name}: {len(labels):,} images; per class: {per_class}")
    if location is not None:
        raw = location.root / "FashionMNIST" / "raw"
        for f in FILES:
            good = _md5(raw / f) == MD5[f]
            ok &= good
            print(f"  {f}: {'checksum OK' if good else 'CHECKSUM MISMATCH'}")
    expected = (len(data.train_labels), len(data.test_labels)) == (60_000, 10_000)
    if not (ok and expected):
        print("The data is not the complete, unmodified FashionMNIST. Remove it and fetch it again (see above).")
        return 1
    print("All good: the Training studio will use this data.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
