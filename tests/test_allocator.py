"""The heap trimmer: memory freed in the middle of the heap goes back to the OS."""

from __future__ import annotations

import threading

import pytest

from bench.memory import rss_mb
from playground import allocator

needs_glibc = pytest.mark.skipif(allocator._trim() is None, reason="malloc_trim is glibc's")


@needs_glibc
def test_release_freed_returns_pages_freed_between_live_blocks() -> None:
    # 200 MB in 100 KB blocks (under the mmap threshold: they come from the heap), 1 in 10 kept
    # alive so free() cannot shrink the heap from its top by itself
    blocks = [bytearray(100_000) for _ in range(2000)]
    kept = blocks[::10]
    del blocks
    held = rss_mb()
    assert allocator.release_freed()
    assert held - rss_mb() > 100  # of the 180 MB freed
    assert len(kept) == 200


@needs_glibc
def test_trimmer_trims_on_its_timer_until_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = threading.Semaphore(0)
    monkeypatch.setattr(allocator, "release_freed", calls.release)
    trimmer = allocator.Trimmer(every_s=0.02).start()
    assert all(calls.acquire(timeout=2) for _ in range(3))
    trimmer.stop()
    trimmer._thread.join(timeout=2)
    assert not trimmer._thread.is_alive()
