"""Loading a checkpoint file in a fresh Python, to see what it costs: the refusal (or "accepted") and the peak RSS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import resource, sys
from playground.train.checkpoints import CheckpointError, load_checkpoint
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    load_checkpoint(data)
    print("accepted")
except CheckpointError as e:
    print(str(e).replace(chr(10), " "))
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def load_apart(path: Path) -> tuple[str, int]:
    """(what load_checkpoint said, how many MB the process's peak RSS grew while it said it)."""
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True, cwd=ROOT,
                         timeout=120, check=True)  # fmt: skip
    message, grew = out.stdout.strip().rsplit("\n", 1)
    return message, int(grew)
