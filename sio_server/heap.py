"""Freed heap memory handed back to the operating system, so the process's RSS follows what it holds.

CPython takes objects over 512 bytes (the dicts and sets of a session's
models, request and frame buffers) from glibc's ``malloc``. A burst of
interviews starting at once leaves free pages scattered inside the heap,
between objects that live on; glibc returns only free memory at the top of
the heap by itself, so the rest stays resident. ``malloc_trim(0)`` gives
every whole free page of every arena back (``madvise``), without moving
anything. :class:`HeapTrimmer` calls it every ``MEMORY_TRIM_INTERVAL``
seconds on a worker thread (it walks the arenas under their locks, so an
allocation on the event loop may wait for it: 2 ms on average and at most
5 ms with 1,000 held sessions, about 25 ms for a 100 MB heap fragmented on
purpose; each trim's time is ``interview_heap_trim_seconds``). Where the C
library has no ``malloc_trim`` (musl, macOS), nothing runs.
docs/benchmarks.md measures it on 1,000 held sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def libc_malloc_trim() -> Callable[[], int] | None:
    """glibc's ``malloc_trim(0)`` as a function returning 1 when memory was released, or None without glibc."""
    import ctypes  # only here: a process that never trims does not import it

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: int(trim(0))


class HeapTrimmer:
    """Every ``interval`` seconds, ``trim`` on a worker thread; owns its task (:meth:`start`, :meth:`stop`)."""

    def __init__(
        self, interval: float, trim: Callable[[], int] | None, observe: Callable[[float], None] | None = None
    ) -> None:
        self.interval = interval
        self.trim = trim
        self.observe = observe  # called with each trim's duration (seconds)
        self.trims = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start trimming (nothing when disabled: interval 0 or no ``malloc_trim``)."""
        if self.interval > 0 and self.trim is not None and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="heap-trim")

    async def _run(self) -> None:
        assert self.trim is not None
        while True:
            await asyncio.sleep(self.interval)
            try:
                took = await asyncio.to_thread(self._timed)
            except RuntimeError:  # the default executor shut down first (at exit)
                log.debug("heap trim skipped: no executor", exc_info=True)
                return
            self.trims += 1
            if self.observe is not None:
                self.observe(took)

    def _timed(self) -> float:
        assert self.trim is not None
        started = time.perf_counter()
        self.trim()
        return time.perf_counter() - started

    async def stop(self) -> None:
        """Cancel the task and wait for it."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
