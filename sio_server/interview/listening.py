"""Listening to a spoken answer: the session's audio queue drained into one STT stream per answer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Protocol

from ..observability.metrics import Metrics
from ..vendors.stt import STTProvider, STTStream
from .audio_queue import AudioQueue
from .spend import SessionSpend
from .spoken import AnswerAudio, Heard
from .turn_watch import TurnWatcher
from .voice_activity import AnswerVoice

log = logging.getLogger(__name__)


class ListenEmitter(Protocol):
    """What listening needs from the transport."""

    async def emit(self, session_id: str, event: str, data: dict[str, Any]) -> None:
        """Send a live event to the session's socket."""
        ...


class AnswerListener:
    """Drains a session's :class:`AudioQueue` into the STT vendor.

    The socket handler only puts chunks in the bounded queue; this task opens
    an STT stream at the answer's first chunk and forwards the audio.
    :meth:`finish` flushes what is queued, finalizes the stream and returns
    the transcript; the next chunk after that opens a new stream. A
    :class:`~.turn_watch.TurnWatcher` (optional) hears every result and the
    vendor's speech events, to end the answer by itself. The session's
    :class:`~.spend.SessionSpend` (optional) delays a new stream after an empty
    answer (its chunks wait in the queue: no word is lost) and refuses one past
    the cap per answer (the chunk is dropped).

    The audio a stream keeps for reconnects (up to ``buffer_bytes`` per
    answer, ``STT_BUFFER_BYTES``) is charged to the process's audio budget (the
    queue's) until the stream ends; a chunk the budget cannot hold is dropped.

    ``voice`` (optional, ``linear16`` hands-free answers): the server's VAD,
    which hears every chunk as it is queued and tells the watcher when the
    candidate speaks (:mod:`.voice_activity`).
    """

    def __init__(
        self,
        stt: STTProvider,
        audio: AudioQueue,
        emitter: ListenEmitter,
        session_id: str,
        audio_format: str,
        language: str,
        metrics: Metrics | None = None,
        watcher: TurnWatcher | None = None,
        spend: SessionSpend | None = None,
        buffer_bytes: int = 2_000_000,
        voice: AnswerVoice | None = None,
    ) -> None:
        self.stt = stt
        self.audio = audio
        self.emitter = emitter
        self.session_id = session_id
        self.audio_format = audio_format
        self.language = language
        self.metrics = metrics
        self.watcher = watcher
        self.spend = spend
        self.buffer_bytes = buffer_bytes
        self.held = 0  # bytes of this answer the stream may keep, charged to the audio budget
        self.stream: STTStream | None = None
        self.failed = False
        self.final_at: float | None = None
        self.voice = voice
        if voice is not None:
            audio.tap = voice.hear
        self.answer_audio = AnswerAudio()  # the current answer's audio, as sent to the stream
        self.heard = Heard()  # the last finished answer's timed words and audio length
        self._task = asyncio.create_task(self._run(), name=f"stt:{session_id}")

    async def _on_transcript(self, text: str, is_final: bool) -> None:
        if self.watcher is not None:
            self.watcher.heard(text, is_final)
        await self.emitter.emit(self.session_id, "transcript", {"text": text, "is_final": is_final})

    async def _on_event(self, kind: str) -> None:
        if self.watcher is not None:
            self.watcher.vendor_event(kind)

    def _event_option(self) -> dict[str, Any]:
        """``on_event`` for providers with end-of-speech events, when the answer may end by itself."""
        auto = self.watcher is not None and self.watcher.policy.auto
        return {"on_event": self._on_event} if auto and self.stt.capabilities.end_of_speech_events else {}

    async def _warn(self) -> None:
        await self.emitter.emit(
            self.session_id,
            "warning",
            {"code": "stt_failed", "message": "your answer could not be transcribed; please repeat it or type it"},
        )

    async def _run(self) -> None:
        while True:
            chunk = await self.audio.get()
            try:
                if self.failed:
                    continue  # drop the rest of a failed answer until answer_end resets it
                if not self._hold(len(chunk)):
                    if self.metrics is not None:
                        self.metrics.audio_dropped.inc()
                    continue
                if self.stream is None:
                    quiet = self.spend.stt_quiet_for() if self.spend is not None else 0.0
                    if quiet:
                        await asyncio.sleep(quiet)  # STT churn: one stream per cooldown at most
                    refused = self.spend.stt_open() if self.spend is not None else None
                    if refused is not None:
                        self._let_go()  # no stream: nothing is kept
                        await self.spend.refused(refused)  # type: ignore[union-attr]  # refused only with a spend
                        continue
                    self.stream = await self.stt.open(
                        audio_format=self.audio_format,
                        language=self.language,
                        on_transcript=self._on_transcript,
                        **self._event_option(),
                    )
                await self.stream.send(chunk)
                self.answer_audio.chunk(len(chunk))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("session %s: STT failed: %s", self.session_id, exc)
                self.failed = True
                await self._drop_stream()
                await self._warn()
            finally:
                self.audio.task_done()

    async def finish(self, timeout: float = 10.0) -> str:
        """Finalize the current answer and return its transcript ('' when nothing was heard)."""
        try:
            return await self._finish(timeout)
        finally:
            if self.voice is not None:
                self.voice.end_answer()
            if self.watcher is not None:
                self.watcher.reset()  # after the last results: they belong to this answer

    def _hold(self, size: int) -> bool:
        """Charge what the stream keeps of ``size`` more bytes to the audio budget; False when it is full."""
        need = min(size, self.buffer_bytes - self.held)
        if need > 0 and not self.audio.budget.take(need):
            return False
        self.held += max(0, need)
        return True

    def _let_go(self) -> None:
        """The stream ended: its kept audio leaves the budget."""
        self.audio.budget.give(self.held)
        self.held = 0

    async def _finish(self, timeout: float) -> str:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.audio.join(), timeout)
        stream, self.stream = self.stream, None
        self._let_go()
        audio, self.answer_audio, self.heard = self.answer_audio, AnswerAudio(), Heard()
        failed, self.failed = self.failed, False
        if stream is None or failed:
            return ""
        try:
            transcript = await asyncio.wait_for(stream.finish(), timeout)
        except Exception as exc:
            log.warning("session %s: STT finalize failed: %s", self.session_id, exc)
            await self._warn()
            with contextlib.suppress(Exception):
                await stream.abort()
            return ""
        self.final_at = time.monotonic()
        self.heard = Heard(tuple(getattr(stream, "words", None) or ()), audio.seconds(self.audio_format))
        if getattr(stream, "audio_lost", False):
            # The stream dropped after the answer outgrew the reconnect buffer: words are missing.
            await self._warn()
        return transcript.strip()

    async def _drop_stream(self) -> None:
        stream, self.stream = self.stream, None
        self._let_go()
        if stream is not None:
            with contextlib.suppress(Exception):
                await stream.abort()

    async def close(self) -> None:
        """Stop listening and close any open stream."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if self.voice is not None:
            self.audio.tap = None
            await self.voice.close()
        if self.watcher is not None:
            await self.watcher.close()
        await self._drop_stream()
