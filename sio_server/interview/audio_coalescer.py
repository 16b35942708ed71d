"""Fewer, larger ``tts_chunk`` events: vendor audio merged before it is emitted.

Every emit costs python-socketio a packet built and encoded (17 µs for a 2 KiB
audio packet, the largest item of a busy server's loop in the turn benchmark),
and a TTS vendor that streams fast hands over many small pieces at once. The
first piece of a question goes out at once (time to first audio is what the
candidate waits for); later pieces are merged until ``min_bytes`` have
gathered or ``max_delay`` has passed since the oldest one arrived, whichever
comes first, so a slow vendor's audio is never held longer than that.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

MIN_BYTES = 8192  # 512 ms of 128 kbit/s MP3, 256 ms of 16 kHz linear16
MAX_DELAY_S = 0.05


class AudioCoalescer:
    """Merges the audio given to :meth:`push` into calls of ``send``, in order, one at a time.

    The owner calls :meth:`flush` at the end of a sentence, sets ``paused`` while
    the pending audio must not go out on its own (an interruption being decided:
    it stays here, at most ``min_bytes``), :meth:`take` to drop it, and
    :meth:`aclose` when done; the timer task is this object's and ends there.
    """

    def __init__(
        self, send: Callable[[bytes], Awaitable[None]], min_bytes: int = MIN_BYTES, max_delay: float = MAX_DELAY_S
    ) -> None:
        self._send = send
        self.min_bytes = min_bytes
        self.max_delay = max_delay
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._sent_any = False
        self._lock = asyncio.Lock()  # one send at a time: the chunk numbers stay in order
        self._timer: asyncio.Task[None] | None = None
        self.paused = False

    @property
    def pending_bytes(self) -> int:
        return self._pending_bytes

    async def push(self, audio: bytes) -> None:
        """Add audio; sends now when it is the first or ``min_bytes`` are pending, else within ``max_delay``."""
        self._pending.append(audio)
        self._pending_bytes += len(audio)
        if not self._sent_any or self._pending_bytes >= self.min_bytes:
            await self.flush()
        elif self._timer is None or self._timer.done():
            self._timer = asyncio.create_task(self._flush_later(), name="tts-coalesce")

    def take(self) -> bytes:
        """The pending audio, removed without being sent (b'' when none)."""
        audio = b"".join(self._pending)
        self._pending.clear()
        self._pending_bytes = 0
        return audio

    async def flush(self) -> None:
        """Send whatever is pending now."""
        async with self._lock:
            audio = self.take()
            if audio:
                self._sent_any = True
                await self._send(audio)

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.max_delay)
        if not self.paused:
            await self.flush()

    async def aclose(self) -> None:
        """Stop the timer (pending audio is left to :meth:`take` or dropped)."""
        timer, self._timer = self._timer, None
        if timer is not None and not timer.done():
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer
