"""The server's VAD over one session's ``linear16`` answers, feeding the turn watcher.

Hands-free needs to know when the candidate stopped speaking. Deepgram says so
(its events); a file transcription (OpenAI) says nothing before the answer is
over. For ``linear16`` audio the server judges it itself: every queued chunk
(:attr:`~.audio_queue.AudioQueue.tap`, at its arrival, whatever the STT stream
does) is cut into the detector's frames, and each run of voiced frames is
reported as ``on_voiced(at, seconds)`` with the time its last voiced frame
ended. The detector is borrowed from the :class:`~..vendors.vad.VADPool` at
the answer's first chunk and given back when the answer ends; while the pool
is still making one, the chunks wait (bounded) with their arrival times and
are judged when it comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable

from ..vendors.vad import BYTES_PER_SECOND, FrameVAD, VADPool

log = logging.getLogger(__name__)

PENDING_MAX_BYTES = 5 * BYTES_PER_SECOND  # audio kept while a detector is being made


class AnswerVoice:
    """Speech in one session's answers (see the module docstring); ``cpu_s`` is the CPU it used."""

    def __init__(self, pool: VADPool, on_voiced: Callable[[float, float], None]) -> None:
        self.pool = pool
        self.on_voiced = on_voiced
        self.vad: FrameVAD | None = None
        self.rest = b""  # the bytes short of a whole frame
        self.pending: deque[tuple[float, bytes]] = deque()
        self.pending_bytes = 0
        self.cpu_s = 0.0
        self.frames = 0
        self._taking: asyncio.Task[None] | None = None

    def hear(self, chunk: bytes) -> None:
        """One chunk of the answer, just arrived."""
        at = asyncio.get_running_loop().time()
        if self.vad is None and self._taking is None:
            self.vad = self.pool.take_now()
        if self.vad is None:  # one is being made: the chunks wait their turn, in order
            self._wait(at, chunk)
            return
        self._judge(at, chunk)

    def _wait(self, at: float, chunk: bytes) -> None:
        self.pending.append((at, chunk))
        self.pending_bytes += len(chunk)
        while self.pending_bytes > PENDING_MAX_BYTES:
            self.pending_bytes -= len(self.pending.popleft()[1])
        if self._taking is None and not self.pool.broken:
            self._taking = asyncio.get_running_loop().create_task(self._take(), name="vad-take")

    async def _take(self) -> None:
        try:
            vad = await self.pool.take()
        except RuntimeError:
            log.warning("no VAD for this answer: it ends by answer_end or the time limit")
            self.pending.clear()
            self.pending_bytes = 0
            return
        finally:
            self._taking = None
        self.vad = vad
        while self.pending:
            at, chunk = self.pending.popleft()
            self._judge(at, chunk)
        self.pending_bytes = 0

    def _judge(self, at: float, chunk: bytes) -> None:
        assert self.vad is not None
        started = time.thread_time()
        data = self.rest + chunk
        size = self.vad.frame_bytes
        whole = len(data) // size
        voiced, last = 0, -1
        for n in range(whole):
            if self.vad.is_speech(data[n * size : (n + 1) * size]):
                voiced, last = voiced + 1, n
        self.rest = data[whole * size :]
        self.frames += whole
        self.cpu_s += time.thread_time() - started
        if voiced:
            after = len(data) - (last + 1) * size  # audio of this chunk after the last voiced frame
            self.on_voiced(at - after / BYTES_PER_SECOND, voiced * size / BYTES_PER_SECOND)

    def end_answer(self) -> None:
        """The answer was closed: the detector goes back to the pool, the next answer starts clean."""
        self._stop_taking()
        vad, self.vad = self.vad, None
        if vad is not None:
            self.pool.give(vad)
        self.rest = b""
        self.pending.clear()
        self.pending_bytes = 0

    def _stop_taking(self) -> None:
        task, self._taking = self._taking, None
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        """The session leaves memory: give the detector back and stop waiting for one."""
        task = self._taking
        self.end_answer()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
