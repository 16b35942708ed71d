"""A bounded queue of inbound audio chunks that drops instead of growing."""

from __future__ import annotations

import asyncio
import time


class AudioQueue:
    """FIFO of audio chunks holding at most ``maxsize``; overflow drops the new chunk.

    ``put`` never blocks: the socket reader must not stall behind a slow STT.
    The ``asyncio.Queue`` is made on first use: a text session, which never
    queues audio, does not pay its ~3 KB (docs/benchmarks.md).
    """

    def __init__(self, maxsize: int, warn_every: float = 1.0) -> None:
        self._maxsize = maxsize
        self._made: asyncio.Queue[bytes] | None = None
        self.dropped = 0
        self._warn_every = warn_every
        self._last_warn = float("-inf")

    @property
    def _queue(self) -> asyncio.Queue[bytes]:
        if self._made is None:
            self._made = asyncio.Queue(self._maxsize)
        return self._made

    def put(self, chunk: bytes) -> bool:
        """Queue ``chunk``; False when the queue was full and it was dropped."""
        try:
            self._queue.put_nowait(chunk)
            return True
        except asyncio.QueueFull:
            self.dropped += 1
            return False

    def should_warn(self) -> bool:
        """True at most once per ``warn_every`` seconds (for the ``audio_dropped`` warning)."""
        now = time.monotonic()
        if now - self._last_warn >= self._warn_every:
            self._last_warn = now
            return True
        return False

    async def get(self) -> bytes:
        """Wait for the next chunk."""
        return await self._queue.get()

    def task_done(self) -> None:
        """Mark one chunk taken by :meth:`get` as fully handled."""
        self._queue.task_done()

    async def join(self) -> None:
        """Wait until every queued chunk has been handled."""
        await self._queue.join()

    def __len__(self) -> int:
        return 0 if self._made is None else self._made.qsize()
