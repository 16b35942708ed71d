"""A bounded queue of inbound audio chunks that drops instead of growing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from .audio_budget import AudioBudget


class AudioQueue:
    """FIFO of audio chunks holding at most ``maxsize``; overflow drops the new chunk.

    ``put`` never blocks: the socket reader must not stall behind a slow STT.
    The ``asyncio.Queue`` is made on first use: a text session, which never
    queues audio, does not pay its ~3 KB (docs/benchmarks.md).

    ``tap`` (optional) hears every queued chunk as it arrives, before the STT
    reader takes it: the server's VAD judges speech by arrival time, however
    late the STT stream reads.
    """

    __slots__ = ("_last_warn", "_made", "_maxsize", "_warn_every", "budget", "dropped", "tap")

    def __init__(self, maxsize: int, warn_every: float = 1.0, budget: AudioBudget | None = None) -> None:
        self._maxsize = maxsize
        self._made: asyncio.Queue[bytes] | None = None
        self.budget = budget or AudioBudget(1 << 62)
        self.dropped = 0
        self._warn_every = warn_every
        self._last_warn = float("-inf")
        self.tap: Callable[[bytes], None] | None = None

    @property
    def _queue(self) -> asyncio.Queue[bytes]:
        if self._made is None:
            self._made = asyncio.Queue(self._maxsize)
        return self._made

    def put(self, chunk: bytes) -> bool:
        """Queue ``chunk``; False when the queue or the process's audio budget was full and it was dropped."""
        if self._queue.full() or not self.budget.take(len(chunk)):
            self.dropped += 1
            return False
        self._queue.put_nowait(chunk)
        if self.tap is not None:
            self.tap(chunk)
        return True

    def should_warn(self) -> bool:
        """True at most once per ``warn_every`` seconds (for the ``audio_dropped`` warning)."""
        now = time.monotonic()
        if now - self._last_warn >= self._warn_every:
            self._last_warn = now
            return True
        return False

    async def get(self) -> bytes:
        """Wait for the next chunk."""
        chunk = await self._queue.get()
        self.budget.give(len(chunk))
        return chunk

    def discard(self) -> None:
        """Drop every queued chunk (the session left memory) and return its bytes to the budget."""
        while self._made is not None and not self._made.empty():
            self.budget.give(len(self._made.get_nowait()))
            self._made.task_done()

    def task_done(self) -> None:
        """Mark one chunk taken by :meth:`get` as fully handled."""
        self._queue.task_done()

    async def join(self) -> None:
        """Wait until every queued chunk has been handled."""
        await self._queue.join()

    def __len__(self) -> int:
        return 0 if self._made is None else self._made.qsize()
