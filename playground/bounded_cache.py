"""A thread-safe cache bounded by total bytes and by age: what decoded uploads are kept in on a shared server.

``st.cache_data(max_entries=16)`` bounds a cache by count only, and every entry can be a 120 MB decoded
photo (16 of them left a server 2.6 GB larger for good). Here the least recently used entries go as soon
as the total passes ``max_bytes``, and entries older than ``max_age`` seconds go at the next access.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class BoundedCache(Generic[V]):
    """Least-recently-used entries, at most ``max_bytes`` in total (as ``size`` counts them), none older than
    ``max_age`` seconds. A value larger than ``max_bytes`` on its own is returned but not kept."""

    def __init__(self, max_bytes: int, max_age: float, size: Callable[[V], int], clock=time.monotonic):
        if max_bytes < 0 or max_age <= 0:
            raise ValueError("max_bytes must be at least 0 and max_age above 0.")
        self.max_bytes, self.max_age, self._size, self._clock = max_bytes, max_age, size, clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[V, int, float]] = OrderedDict()  # key → (value, bytes, created)
        self.bytes = 0

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value cached for ``key``, or ``compute()``'s (kept if it fits); ``compute``'s errors propagate."""
        with self._lock:
            self._expire()
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key][0]
        value = compute()  # outside the lock: two sessions decode different files at once
        nbytes = self._size(value)
        with self._lock:
            if key not in self._entries and nbytes <= self.max_bytes:
                self._entries[key] = (value, nbytes, self._clock())
                self.bytes += nbytes
                while self.bytes > self.max_bytes:
                    self._drop(next(iter(self._entries)))
        return value

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._entries)

    def _expire(self) -> None:
        now = self._clock()
        for key in [k for k, (_, _, created) in self._entries.items() if now - created > self.max_age]:
            self._drop(key)

    def _drop(self, key: Hashable) -> None:
        _, nbytes, _ = self._entries.pop(key)
        self.bytes -= nbytes
