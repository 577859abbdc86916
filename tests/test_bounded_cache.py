"""The decoded-image cache: bounded by bytes (least recently used go first) and by age; errors are not kept."""

import threading

import pytest
from PIL import Image

from playground.bounded_cache import BoundedCache
from playground.images import CACHE_BYTES, decoded_bytes


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def sized(max_bytes=100, max_age=60.0, clock=None) -> BoundedCache:
    return BoundedCache(max_bytes, max_age, size=len, clock=clock or Clock())


def test_a_hit_does_not_compute_again():
    cache, calls = sized(), []
    for _ in range(3):
        assert cache.get("a", lambda: calls.append(1) or "x" * 10) == "x" * 10
    assert calls == [1] and cache.bytes == 10


def test_bytes_are_bounded_least_recently_used_first():
    cache = sized(max_bytes=100)
    cache.get("a", lambda: "a" * 40)
    cache.get("b", lambda: "b" * 40)
    cache.get("a", lambda: "never")  # "a" is now the most recent
    cache.get("c", lambda: "c" * 40)  # 120 bytes: "b" goes
    assert cache.bytes == 80 and len(cache) == 2
    assert cache.get("b", lambda: "B") == "B" and cache.get("a", lambda: "never") == "a" * 40


def test_a_value_larger_than_the_budget_is_returned_but_not_kept():
    cache = sized(max_bytes=100)
    cache.get("small", lambda: "s" * 10)
    assert cache.get("huge", lambda: "h" * 101) == "h" * 101
    assert cache.bytes == 10 and len(cache) == 1


def test_entries_expire_with_age():
    clock = Clock()
    cache = sized(max_age=60, clock=clock)
    cache.get("a", lambda: "a" * 10)
    clock.now = 59
    assert cache.get("a", lambda: "new") == "a" * 10
    clock.now = 61  # age counts from when it was computed, not last used
    assert cache.get("a", lambda: "new") == "new" and cache.bytes == 3


def test_errors_propagate_and_are_not_kept():
    cache = sized()

    def boom():
        raise ValueError("bad image")

    for _ in range(2):
        with pytest.raises(ValueError, match="bad image"):
            cache.get("k", boom)
    assert len(cache) == 0 and cache.bytes == 0


def test_threads_share_one_consistent_cache():
    cache = sized(max_bytes=500)

    def work(i):
        for j in range(200):
            cache.get((i + j) % 30, lambda j=j: "v" * (10 + j % 20))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.bytes <= 500 and cache.bytes == sum(len(v) for v, _, _ in cache._entries.values())


def test_decoded_images_are_counted_as_pillow_holds_them():
    assert decoded_bytes(Image.new("L", (100, 50))) == 5_000
    assert decoded_bytes(Image.new("RGB", (100, 50))) == 20_000  # Pillow keeps RGB in 4 bytes a pixel
    assert decoded_bytes(Image.new("RGB", (8000, 5000))) < CACHE_BYTES  # the largest upload fits once
