"""The sizes one student's upload or network may reach on a shared server, each with its reason, in one place.

Uploads: one limit for images and checkpoints, equal to Streamlit's ``server.maxUploadSize`` in
``.streamlit/config.toml`` (a test checks they agree). Networks: ``playground.train.models.summarize``
refuses a spec beyond these from its arithmetic alone, before any module or tensor is built, so a
small file describing an enormous network costs nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MAX_UPLOAD_MB = 25  # .streamlit/config.toml server.maxUploadSize
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 2**20  # Streamlit's server counts a megabyte as 2**20 bytes

MAX_LAYERS = 100  # the deepest preset has 20; each layer is a module and a row of the table
# Parameters plus BatchNorm's running statistics, 4 bytes each: the studio's largest network then saves a
# checkpoint under 25,000,000 bytes (a browser may count 25 MB so), its longest training history (~1.3 MB)
# included: ~23.3 MB. At 6,000,000 it came to 25.2 MB (tests/test_limits.py measures it).
MAX_WEIGHTS = 5_500_000
# Every layer's output for one image (4 bytes each: 16 MB), which the Inspect page's feature maps hold at once.
# A 1024-channel 3×3 conv + BatchNorm + ReLU at 28×28 makes 2.4 million.
MAX_ACTIVATIONS = 4_000_000
# Multiply-accumulates per image (the "Deeper" preset needs 18.7 million): a fraction of a second per image.
MAX_MACS = 1_000_000_000


def _n(x: int) -> str:
    return f"{x:,}"


def network_error(rows: Sequence, index: int) -> str | None:
    """Why the network made of ``rows`` (layers 0..``index``, each with ``type``, ``params``,
    ``output_shape`` and ``macs``) is over a limit, as a sentence; None when it is within all of them."""
    if index >= MAX_LAYERS:
        return f"a network may have at most {MAX_LAYERS} layers."
    weights = sum(r.params + (r.params if r.type == "batchnorm" else 0) for r in rows)  # BatchNorm: 2c more
    if weights > MAX_WEIGHTS:
        return (f"the network reaches {_n(weights)} weights here (parameters and BatchNorm statistics), over this "
                f"server's limit of {_n(MAX_WEIGHTS)}: its checkpoint must fit the {MAX_UPLOAD_MB} MB upload limit. "
                "Use fewer channels or units.")  # fmt: skip
    activations = sum(math.prod(r.output_shape) for r in rows)
    if activations > MAX_ACTIVATIONS:
        return (f"each image makes {_n(activations)} numbers in the layers up to here, over this server's limit of "
                f"{_n(MAX_ACTIVATIONS)} ({MAX_ACTIVATIONS * 4 / 1e6:.0f} MB per image). "
                "Use fewer channels, less padding, or pool earlier.")  # fmt: skip
    macs = sum(r.macs for r in rows)
    if macs > MAX_MACS:
        return (f"one image needs {_n(macs)} multiply-adds in the layers up to here, over this server's limit of "
                f"{_n(MAX_MACS)}. Use fewer channels, smaller kernels, or pool earlier.")  # fmt: skip
    return None


def run_size_error(epochs: int, train_size: int | None, n_train: int, max_epochs: int, max_images: int) -> str | None:
    """Why a run of ``epochs`` over ``train_size`` images (None: all ``n_train``) is over the lecturer's limits
    (``PLAYGROUND_MAX_EPOCHS``, ``PLAYGROUND_MAX_IMAGES``), as a sentence; None when it is within them."""
    images = min(train_size or n_train, n_train)
    if epochs > max_epochs:
        most = f"{max_epochs:,} epoch" + ("s" if max_epochs != 1 else "")
        return (f"This server trains at most {most} per run (PLAYGROUND_MAX_EPOCHS); this run asks "
                f"for {epochs:,}.")  # fmt: skip
    if images > max_images:
        return (f"This server trains on at most {max_images:,} images per run (PLAYGROUND_MAX_IMAGES); this run asks "
                f"for {images:,}.")  # fmt: skip
    return None
