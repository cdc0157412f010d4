"""Handing memory that trainers freed back to the operating system.

glibc's malloc keeps freed memory for reuse instead of returning it, in one pool ("arena") per
thread that allocated it. A server whose trainers come and go (threads training networks of
different sizes, maps, histograms) so keeps the high-water mark of every mix it has seen. Four
trainers at once, closed and replaced four times (bench-style, headless): resident memory stayed
at 607-633 MB after each wave closed; with `malloc_trim(0)` after each wave, 508-524 MB. Capping
the arenas or fixing the mmap threshold as well lowered the peak further but cost up to half
the speed of a 4 x 500 network (its gradients are reallocated every step), so neither is done.

`malloc_trim` walks the heap (about 17 ms on a large one, outside the GIL), so it runs on a
slow timer from one thread rather than after every free.
"""

from __future__ import annotations

import ctypes
import threading
from functools import cache

TRIM_EVERY_S = 30.0


@cache
def _trim() -> ctypes._CFuncPtr | None:
    """glibc's malloc_trim, or None where the C library is not glibc (macOS, musl). Looked up
    among the symbols already loaded: `ctypes.util.find_library` would run `ldconfig`."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


def release_freed() -> bool:
    """Return freed heap pages to the OS now; False where that is not possible."""
    trim = _trim()
    if trim is None:
        return False
    trim(0)
    return True


class Trimmer:
    """A daemon thread that calls `release_freed` every `every_s` seconds until stopped."""

    def __init__(self, every_s: float = TRIM_EVERY_S) -> None:
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="memory-trimmer", daemon=True)

    def start(self) -> Trimmer:
        if _trim() is not None:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            release_freed()
