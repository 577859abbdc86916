"""What the replica recipe's tests share: where deploy/replicas is, HAProxy, consecutive free ports."""

from __future__ import annotations

import contextlib
import shutil
import socket
from pathlib import Path

import pytest

from tests.e2e.browser import IN_CI, ROOT, free_port

RECIPE = ROOT / "deploy" / "replicas"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def need_haproxy() -> None:
    """Skip (locally) or fail (under CI=true) where Debian's haproxy is missing; up.sh also needs curl."""
    for tool, path in (("haproxy", HAPROXY), ("curl", shutil.which("curl") or "/usr/bin/curl")):
        if not Path(path).exists():
            message = f"{tool} not found at {path}: apt-get install {tool} (the replica recipe needs it)"
            if IN_CI:
                pytest.fail(message)
            pytest.skip(message)


def free_ports(n: int) -> int:
    """The first of ``n`` consecutive free loopback ports (up.sh numbers its replicas from one port)."""
    for _ in range(50):
        first = free_port()
        with contextlib.ExitStack() as held:
            try:
                for port in range(first, first + n):
                    held.enter_context(socket.socket()).bind(("127.0.0.1", port))
            except OSError:
                continue
        return first
    raise RuntimeError(f"no {n} consecutive free ports")
