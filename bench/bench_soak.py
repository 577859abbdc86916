"""Soak: 300 short runs through the run manager and 100 hostile uploads; does the server stay flat?

Thirty "students" each train ten tiny runs on fake data through ``playground.train.runs.RunManager`` (its
public API only, two at a time), then 100 hostile files go through ``playground.images.load_image`` and
``playground.train.checkpoints.load_checkpoint``. Before, during and after, it prints this process's open
descriptors, the semaphore files in /dev/shm, and memory (RSS and PSS) of this process and of its
descendants (the forkserver and whatever it left). Flat is the target.

Run: ``python -m bench.bench_soak [--runs 300] [--students 30] [--uploads 100]`` (a few minutes here).
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import struct
import sys
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from playground.images import ImageError, load_image
from playground.train.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from playground.train.data import FashionMNIST
from playground.train.loop import TrainConfig
from playground.train.models import DEFAULT_SPEC, PRESETS, build_model
from playground.train.runs import ACTIVE, RunManager
from tests.fakedata import fake_split

TINY = PRESETS["Tiny (fast demo)"]
CONFIG = TrainConfig(epochs=1, batch_size=64, train_size=320, evals_per_epoch=1, threads=1)


def _kb(path: str, field: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:  # the process has gone
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """Every living process below ``pid`` (children, grandchildren …), from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        kids = [p for p, parent in parents.items() if parent in frontier]
        found += kids
        frontier = kids
    return found


def sample() -> dict[str, float]:
    """Descriptors, semaphore files, and MB of RSS and PSS for this process and for its descendants."""
    me, kids = os.getpid(), descendants(os.getpid())
    ours = set()  # the /dev/shm files our processes map (the folder is shared with every user of the machine)
    for pid in (me, *kids):
        try:
            maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
            ours |= {line[line.index("/dev/shm/") :].removesuffix(" (deleted)") for line in maps if "/dev/shm/" in line}
        except OSError:
            continue
    return {
        "fds": len(os.listdir("/proc/self/fd")),
        "sem": sum(name.startswith("sem.") for name in os.listdir("/dev/shm")),
        "ours": len(ours),
        "rss": _kb(f"/proc/{me}/status", "VmRSS") / 1024,
        "pss": _kb(f"/proc/{me}/smaps_rollup", "Pss") / 1024,
        "kids": len(kids),
        "kids_rss": sum(_kb(f"/proc/{p}/status", "VmRSS") for p in kids) / 1024,
        "kids_pss": sum(_kb(f"/proc/{p}/smaps_rollup", "Pss") for p in kids) / 1024,
    }


def soak_runs(manager: RunManager, data: FashionMNIST, runs: int, students: int, log) -> tuple[int, int, float]:
    """``runs`` runs, each student one at a time; returns (finished, failed, seconds)."""
    start, done, statuses = time.perf_counter(), 0, {"finished": 0, "failed": 0}
    while done < runs:
        wave = [manager.submit(f"student-{s}", TINY, CONFIG, data) for s in range(min(students, runs - done))]
        while any(r.status in ACTIVE for r in wave):
            time.sleep(0.05)
        for r in wave:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        done += len(wave)
        if done == students:
            log(f"after the first {done} runs (warm)")
    return statuses["finished"], statuses["failed"], time.perf_counter() - start


def _encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny gray PNG whose header claims width × height (CRCs right, so Pillow trusts it)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


def _deflated(data: bytes) -> bytes:
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _torch(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


FLAT = {"type": "flatten"}
WIDE_LINEAR = {"type": "linear", "out_features": 600_000}


def _ckpt(spec: dict) -> dict:
    return {"spec": spec, "state_dict": {}, "config": {}, "history": {}}


def hostile_files() -> list[tuple[str, str, bytes]]:
    """(kind, what, bytes): image bombs and broken images, checkpoint bombs and malformed checkpoints."""
    bomb_state = build_model(DEFAULT_SPEC).state_dict()
    bomb_state["0.weight"] = torch.zeros(50_000_000)  # 200 MB of zeros, deflated to ~200 KB
    wide = np.zeros((5000, 7920), np.float32)
    wide[::97, ::89] = 7
    good = save_checkpoint(DEFAULT_SPEC, build_model(DEFAULT_SPEC), {}, {})
    return [
        ("image", "PNG declaring 100,000² pixels", _png_declaring(100_000, 100_000)),
        ("image", "float TIFF, 39.6 MP", _encode(Image.fromarray(wide, "F"), "TIFF", compression="tiff_adobe_deflate")),
        ("image", "truncated PNG", _encode(Image.new("RGB", (500, 500), (9, 9, 9)), "PNG")[:400]),
        ("image", "random bytes", os.urandom(50_000)),
        ("image", "a pickle", b"\x80\x04" + os.urandom(100)),
        ("checkpoint", "zip bomb (200 MB deflated)", _deflated(save_checkpoint(DEFAULT_SPEC, bomb_state, {}, {}))),
        ("checkpoint", "5·10^7 channels", _torch(_ckpt({"layers": [{"type": "conv", "out_channels": 5 * 10**7}]}))),
        ("checkpoint", "Linear 784→600,000", _torch(_ckpt({"layers": [FLAT, WIDE_LINEAR]}))),
        ("checkpoint", "config is a list", _torch({**_ckpt(DEFAULT_SPEC), "config": [1]})),
        ("checkpoint", "truncated", good[: len(good) // 2]),
    ]


def soak_uploads(count: int) -> dict[str, int]:
    """``count`` hostile uploads, cycling through ``hostile_files``; returns how each kind ended."""
    files, outcome = hostile_files(), {"refused": 0, "accepted": 0, "other error": 0}
    for i in range(count):
        kind, _, data = files[i % len(files)]
        try:
            load_image(data) if kind == "image" else load_checkpoint(data)
            outcome["accepted"] += 1
        except (ImageError, CheckpointError):
            outcome["refused"] += 1
        except Exception:  # a traceback on the page: what must never happen
            outcome["other error"] += 1
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--uploads", type=int, default=100)
    args = parser.parse_args(argv)
    (xa, ya), (xb, yb) = fake_split(640, 0), fake_split(200, 1)
    t = torch.from_numpy
    data = FashionMNIST(t(xa), t(ya).long(), t(xb), t(yb).long(), "fake")
    manager = RunManager(max_concurrent=2)
    rows: list[tuple[str, dict]] = []

    def log(label: str) -> None:
        gc.collect()
        rows.append((label, sample()))

    log("before")
    finished, failed, seconds = soak_runs(manager, data, args.runs, args.students, log)
    log(f"after {args.runs} runs")
    outcome = soak_uploads(args.uploads)
    log(f"after {args.uploads} hostile uploads")
    time.sleep(5)
    log("5 s later")
    print(f"Runs: {finished} finished, {failed} failed, in {seconds:.0f} s ({args.students} students, 2 at a time).")
    print(f"Uploads: {outcome['refused']} refused with a sentence, {outcome['accepted']} accepted, "
          f"{outcome['other error']} other errors.")  # fmt: skip
    print("| moment | open fds | /dev/shm sem.* (whole machine) | /dev/shm files our processes map | server RSS MB "
          "| server PSS MB | descendants | their RSS MB | their PSS MB |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for label, s in rows:
        print(f"| {label} | {s['fds']} | {s['sem']} | {s['ours']} | {s['rss']:.0f} | {s['pss']:.0f} | {s['kids']} "
              f"| {s['kids_rss']:.0f} | {s['kids_pss']:.0f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
