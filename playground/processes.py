"""Child processes forked from a "forkserver" that has already imported torch, and talking back over a queue.

A training run (``playground.runs``) and the one-off reading of the dataset each get such a
process: it starts in a fraction of a second, shares torch's memory with the server and its
siblings, and never holds the server's interpreter lock.
"""

from __future__ import annotations

import io
import queue
from dataclasses import fields
from multiprocessing import spawn

import torch
import torch.multiprocessing as mp

from playground.data import DataLocation, DataNotFound, FashionMNIST, read_fashion_mnist

PROCESS_PREFIX = "cnn-playground-"  # our processes: named so, they leave the parent's __main__ alone
CTX = mp.get_context("forkserver")
CTX.set_forkserver_preload(["playground.train"])  # torch imported once, shared by every run
_preparation_data = spawn.get_preparation_data


def _without_main(name: str) -> dict:
    """multiprocessing's start-up data, minus the parent's ``__main__`` for our processes.

    A new process normally re-imports the parent's main script. Under Streamlit that is the page script
    (Streamlit installs each page as ``__main__``), so every training process would run the page.
    Ours need only ``playground``, so they are told to leave ``__main__`` alone.
    """
    data = _preparation_data(name)
    if name.startswith(PROCESS_PREFIX):
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
    return data


spawn.get_preparation_data = _without_main


class ChildFailed(RuntimeError):
    """A child process reported an error or ended without a result."""


def relay(process, events, on_event, task: str) -> bytes | BaseException:
    """Forward a child's events to ``on_event``; return its result bytes, or the reason there are none.

    ``task`` says what the child was doing, for the message when it dies without a word.
    """
    while True:
        try:
            kind, payload = events.get(timeout=0.5)
        except queue.Empty:
            if not process.is_alive():
                return ChildFailed(f"The process {task} ended unexpectedly (exit code {process.exitcode}).")
            continue
        if kind == "events":
            for event in payload:
                on_event(event)
        elif kind == "error":
            return ChildFailed(payload)
        else:
            return payload


def read_apart(location: DataLocation, download: bool = False) -> FashionMNIST:
    """``read_fashion_mnist`` in a short-lived process forked from the forkserver; the tensors come back as bytes.

    torchvision is needed only to read the files once, but importing it costs a process ~160 MB for good
    (this build's libraries): read in the server, it would stay there, beside every run, for the server's life.

    Raises:
        DataNotFound: as ``read_fashion_mnist``, or when the reading process failed.
    """
    out = CTX.Queue()
    process = CTX.Process(target=_read_child, args=(location, download, out), daemon=True,
                           name=PROCESS_PREFIX + "read-data")  # fmt: skip
    process.start()
    try:
        outcome = relay(process, out, on_event=None, task="reading the data")
    finally:
        process.join(timeout=10)
        process.kill()
        out.close()
    if isinstance(outcome, BaseException):
        raise DataNotFound(str(outcome)) from None
    return FashionMNIST(**torch.load(io.BytesIO(outcome), weights_only=True))


def _read_child(location: DataLocation, download: bool, out) -> None:
    try:
        data = read_fashion_mnist(location, download)
        buf = io.BytesIO()
        torch.save({f.name: getattr(data, f.name) for f in fields(data)}, buf)
        out.put(("result", buf.getvalue()))
    except DataNotFound as e:
        out.put(("error", str(e)))
    except Exception as e:
        out.put(("error", f"FashionMNIST could not be read: {type(e).__name__}: {e}"))
    out.close()
    out.join_thread()
