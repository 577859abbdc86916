"""Checkpoints: a ``torch.save``d dict of spec, weights, config and history, loaded with weights_only=True only.

Nothing else is ever unpickled, so an uploaded file cannot run code.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from pathlib import Path

import torch

from playground.models import SpecError, build_model

KEYS = ("spec", "state_dict", "config", "history")
MAX_BYTES = 50 * 1024 * 1024
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
        CheckpointError: empty, too large, not a torch file, a pickle with code or foreign objects,
            missing keys, an impossible spec, or weights that do not fit the spec.
    """
    if not data:
        raise CheckpointError(f"The file is empty. {HELP}")
    if len(data) > MAX_BYTES:
        raise CheckpointError(f"The file is {len(data) / 1e6:.0f} MB, over the {MAX_BYTES // 2**20} MB limit. {HELP}")
    if not data.startswith((b"PK\x03\x04", b"\x80")):  # torch.save's zip format, or its legacy pickle format
        raise CheckpointError(f"This is not a PyTorch checkpoint. {HELP}")
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
    try:
        model = build_model(spec)
    except (SpecError, TypeError, AttributeError, KeyError) as e:
        raise CheckpointError(f"The checkpoint's network cannot be built: {e}") from None
    if not isinstance(state, dict):
        raise CheckpointError("The checkpoint's weights are not a state_dict.")
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError) as e:
        raise CheckpointError(f"The weights do not fit the network described in the checkpoint: {e}") from None
    return Checkpoint(spec, state, dict(obj["config"] or {}), dict(obj["history"] or {}))
