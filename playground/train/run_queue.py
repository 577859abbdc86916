"""The fair queue's arithmetic: which waiting run starts next, and about when. Pure functions over plain values."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def fair_order(queue: Sequence[T], ahead: Callable[[T], int]) -> list[T]:
    """The waiting runs in the order they will start: fewest runs of the same owner ahead first, then first come.

    ``ahead(run)`` counts the owner's earlier runs that were still queued or training when ``run`` joined the
    queue: so everyone gets one run before anyone gets a second, and the order does not change as runs end.
    """
    return [queue[i] for i in sorted(range(len(queue)), key=lambda i: (ahead(queue[i]), i))]


def waits(work: Sequence[float], free_in: Sequence[float], slots: int, rate: float | None) -> list[float | None]:
    """Seconds until each waiting run starts, if every run trains at ``rate`` images/s (None: no estimate).

    Args:
        work: images each waiting run will train (the training set times the epochs), in ``fair_order``.
        free_in: seconds until each run training now ends.
        slots: how many runs train at once.
    """
    if not (rate and math.isfinite(rate) and rate > 0 and all(math.isfinite(t) for t in free_in)):
        return [None] * len(work)
    ends = sorted([max(0.0, t) for t in free_in] + [0.0] * max(0, slots - len(free_in)))
    starts = []
    for images in work:
        start = heapq.heappop(ends)  # the slot that frees first
        starts.append(start)
        heapq.heappush(ends, start + images / rate)
    return starts
