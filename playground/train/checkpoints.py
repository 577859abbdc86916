"""Checkpoints: a ``torch.save``d dict of spec, weights, config and history, loaded with weights_only=True only.

Nothing else is ever unpickled, so an uploaded file cannot run code; the zip's declared sizes are checked
before ``torch.load`` reads a byte, and the network's size (``playground.limits``) before it is built.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch

from playground.limits import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB
from playground.train.models import SpecError, build_model

KEYS = ("spec", "state_dict", "config", "history")
MAX_BYTES = MAX_UPLOAD_BYTES
# The pickled part (spec, config, history and the tensors' descriptions): the studio's longest history
# (30 epochs of batches of 32) pickles to ~1.5 MB. Unpickling can multiply bytes in memory (an empty
# list costs one byte in the file and 56 in memory), so this bounds what it can cost.
MAX_PICKLE_BYTES = 4 * 2**20
MAX_NAME = 200  # characters of a network's name
HELP = "Upload a .pt file saved by CNN Playground (the Download button or python -m playground.train)."


class CheckpointError(ValueError):
    """Not a usable CNN Playground checkpoint; the message says why."""


@dataclass(frozen=True, eq=False)
class Checkpoint:
    spec: dict
    state_dict: dict
    config: dict
    history: dict

    def model(self) -> torch.nn.Module:
        """The network with these weights, in eval mode."""
        model = build_model(self.spec)
        model.load_state_dict(self.state_dict)
        return model.eval()


def save_checkpoint(
    spec: dict, model_or_state_dict, config: dict, history: dict, path: str | Path | None = None
) -> bytes:
    """Serialise a checkpoint (and write it to ``path`` if given); returns the bytes."""
    state = (
        model_or_state_dict.state_dict() if isinstance(model_or_state_dict, torch.nn.Module) else model_or_state_dict
    )
    state = {k: v.detach().cpu().contiguous() for k, v in state.items()}  # channels_last weights saved plainly
    buf = io.BytesIO()
    torch.save({"spec": spec, "state_dict": state, "config": config, "history": history}, buf)
    data = buf.getvalue()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(data)
    return data


def load_checkpoint(data: bytes) -> Checkpoint:
    """Load and check a checkpoint.

    Raises:
        CheckpointError: empty, too large, not a torch file (or in the legacy format), compressed records
            (a zip bomb), a pickle with code or foreign objects, missing keys, a config or history that is
            not a table, an impossible spec or one over ``playground.limits``, or weights that do not fit it.
    """
    if not data:
        raise CheckpointError(f"The file is empty. {HELP}")
    if len(data) > MAX_BYTES:
        raise CheckpointError(f"The file is {len(data) / 1e6:.0f} MB, over the {MAX_UPLOAD_MB} MB limit. {HELP}")
    if data.startswith(b"\x80"):  # the legacy format declares its storages' sizes unchecked: never read it
        raise CheckpointError(f"This is a PyTorch file in the old (before 1.6) format, which is not accepted. {HELP}")
    if not data.startswith(b"PK\x03\x04"):  # torch.save's zip format
        raise CheckpointError(f"This is not a PyTorch checkpoint. {HELP}")
    _check_zip(data)
    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(
            f"The file holds Python objects other than weights; it was refused unread. {HELP}"
        ) from None
    except Exception as e:  # corrupt files fail in many ways (BadZipFile, KeyError, RuntimeError, EOFError …)
        raise CheckpointError(f"This is not a readable PyTorch checkpoint ({type(e).__name__}). {HELP}") from None
    if not isinstance(obj, dict) or set(KEYS) - set(obj):
        raise CheckpointError(
            f"This PyTorch file is not a CNN Playground checkpoint (it needs {', '.join(KEYS)}). {HELP}"
        )
    spec, state = obj["spec"], obj["state_dict"]
    config, history = ({} if obj[k] is None else obj[k] for k in ("config", "history"))
    for what, value in (("settings (config)", config), ("history", history)):
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            kind = "a table with other keys than names" if isinstance(value, dict) else f"a {type(value).__name__}"
            raise CheckpointError(f"The checkpoint's {what} should be a table of named values, but it is {kind}. "
                                  f"{HELP}")  # fmt: skip
    name = spec.get("name", "") if isinstance(spec, dict) else ""
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise CheckpointError(f"The checkpoint's network name should be a text of at most {MAX_NAME} characters.")
    try:
        model = build_model(spec)
    except (SpecError, TypeError, AttributeError, KeyError) as e:
        raise CheckpointError(f"The checkpoint's network cannot be built: {e}") from None
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        raise CheckpointError("The checkpoint's weights are not a state_dict (a table of named tensors).")
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as e:
        raise CheckpointError(f"The weights do not fit the network described in the checkpoint: {e}") from None
    return Checkpoint(spec, state, dict(config), dict(history))


def _check_zip(data: bytes) -> None:
    """Refuse a zip whose records are compressed or claim more bytes than the file holds, before any is read.

    ``torch.save`` stores every record uncompressed; a compressed one could inflate a small upload into
    gigabytes inside ``torch.load`` (a zip bomb), so only the declared sizes are looked at here.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as e:
        raise CheckpointError(f"This is not a readable PyTorch checkpoint ({type(e).__name__}). {HELP}") from None
    if any(i.compress_type != zipfile.ZIP_STORED or i.file_size != i.compress_size for i in infos):
        raise CheckpointError(f"The file holds compressed records, which torch.save never writes: it was refused "
                              f"unread, as it could unpack to far more than its size. {HELP}")  # fmt: skip
    if sum(i.file_size for i in infos) > len(data):
        raise CheckpointError(f"The file's records claim more bytes than the file holds: it was refused unread. {HELP}")
    if any(i.filename.endswith("data.pkl") and i.file_size > MAX_PICKLE_BYTES for i in infos):
        raise CheckpointError(f"The checkpoint's description (its pickle) is over {MAX_PICKLE_BYTES // 2**20} MB: "
                              f"it was refused unread. {HELP}")  # fmt: skip
