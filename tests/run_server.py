"""A stand-in for the web server, for tests that kill it: ``python -m tests.run_server RUNS_DIR``.

It starts one long training run through ``RunManager`` and prints ``READY <training pid>`` once the run
has evaluated (so it has weights on disk) and its curve has been written to its record.
"""

import sys
import time

import torch

from playground.train.data import FashionMNIST
from playground.train.loop import TrainConfig
from playground.train.models import PRESETS
from playground.train.runs import RunManager
from tests.fakedata import fake_split

if __name__ == "__main__":
    (xa, ya), (xb, yb) = fake_split(3000, 0), fake_split(200, 1)  # 100 epochs of it: minutes, if nothing stops it
    data = FashionMNIST(*(torch.from_numpy(a).long() if a.ndim == 1 else torch.from_numpy(a)
                          for a in (xa, ya, xb, yb)), "fake")  # fmt: skip
    manager = RunManager(max_concurrent=1, runs_dir=sys.argv[1])
    run = manager.submit("owner", PRESETS["Tiny (fast demo)"], TrainConfig(epochs=100, batch_size=32, threads=1), data)
    store = manager._store
    while not (run.snapshot().history["eval_step"] and store.has_model(run.id)
               and (store.load_record(run.id) or {}).get("history", {}).get("eval_step")):  # fmt: skip
        time.sleep(0.1)
    print("READY", run._child.process.pid, flush=True)
    time.sleep(3600)
