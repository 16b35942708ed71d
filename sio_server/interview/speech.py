"""Speaking a question: sentences go to TTS as soon as they are written, audio goes out as it arrives."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from ..observability.metrics import Metrics
from ..vendors.tts import TTSProvider
from .audio_budget import AudioBudget
from .audio_coalescer import AudioCoalescer

log = logging.getLogger(__name__)


class SpeechEmitter(Protocol):
    """What speech needs from the transport."""

    async def emit(self, session_id: str, event: str, data: dict[str, Any]) -> None:
        """Send a live event to the session's socket."""
        ...


class QuestionSpeech:
    """The TTS pipeline of one question.

    :meth:`say` queues a sentence; one task turns sentences into audio in
    order and forwards each chunk as a binary ``tts_chunk`` the moment it
    arrives. ``backlog`` reports how many bytes already wait for the client's
    socket; past ``max_backlog_bytes`` the rest of that sentence's audio is
    dropped (a slow consumer must not make the server hold unbounded audio).
    :meth:`finish` sends ``tts_end`` once, after the last sentence.

    Barge-in: :meth:`interrupt` pauses the question. No new TTS request is
    sent and the audio still arriving is held (at most ``max_backlog_bytes``,
    charged to the process's ``audio_budget``;
    past that the TTS stream is not read further) until the decision: words
    heard within the window (:meth:`heard_words`) confirm it, the rest is
    dropped and ``tts_end`` carries ``interrupted: true``; no words make it a
    false interruption: ``tts_resumed`` is sent and the held audio follows.

    A sentence that cannot be spoken (every provider failed, hung past the
    chain's first-byte deadline, or broke mid-stream) ends the question's
    speech: one ``tts_failed`` warning, no request for the sentences after it,
    and ``tts_end`` with ``ok: false``. :meth:`stop` ends it early the same way
    (the candidate has moved on).
    """

    def __init__(
        self,
        tts: TTSProvider,
        emitter: SpeechEmitter,
        session_id: str,
        index: int,
        persona: str,
        language: str,
        backlog: Callable[[], int] = lambda: 0,
        max_backlog_bytes: int = 1 << 20,
        metrics: Metrics | None = None,
        audio_budget: AudioBudget | None = None,
    ) -> None:
        self.tts = tts
        self.emitter = emitter
        self.session_id = session_id
        self.index = index
        self.persona = persona
        self.language = language
        self.backlog = backlog
        self.max_backlog_bytes = max_backlog_bytes
        self.metrics = metrics
        self.audio_budget = audio_budget or AudioBudget(1 << 62)
        self.chunks = 0
        self.failed = False
        self.given_up = False  # a sentence failed: the rest of the question is not requested
        self.stopped = False
        self.started = time.perf_counter()
        self.first_byte_s: float | None = None
        self._sentences: asyncio.Queue[str | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name=f"tts:{session_id}:{index}")
        self._finished = False
        self._ended = False  # tts_end was sent
        self.interrupted = False  # a confirmed interruption
        self._held: list[bytes] = []
        self._held_bytes = 0
        self._decided = asyncio.Event()
        self._decided.set()
        self._words = asyncio.Event()
        self._decision: asyncio.Task[None] | None = None
        self._coalescer = AudioCoalescer(self._send)  # the vendor's pieces merged into fewer tts_chunks

    def say(self, sentence: str) -> None:
        """Queue one complete sentence for speaking."""
        if sentence.strip():
            self._sentences.put_nowait(sentence.strip())

    async def finish(self) -> bool:
        """Wait for every queued sentence, then send ``tts_end``; returns ``ok``."""
        if self._finished:
            return self.ok
        self._finished = True
        self._sentences.put_nowait(None)
        try:
            await self._task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not (self.interrupted or self.stopped) or (current is not None and current.cancelling()):
                raise
        await self._decided.wait()  # an interruption still being decided holds the end too
        if not (self.interrupted or self.stopped):
            await self._coalescer.flush()
        await self._coalescer.aclose()
        data: dict[str, Any] = {"index": self.index, "chunks": self.chunks, "ok": self.ok}
        if self.interrupted:
            data["interrupted"] = True
        self._ended = True
        await self.emitter.emit(self.session_id, "tts_end", data)
        return self.ok

    async def cancel(self) -> None:
        """Stop speaking (the question is abandoned); no ``tts_end`` is sent."""
        self._finished = True
        for task in (self._task, self._decision):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._coalescer.aclose()
        self._drop_held()

    def _drop_held(self) -> None:
        """Forget the audio held during an interruption and give its bytes back to the process's budget."""
        self.audio_budget.give(self._held_bytes)
        self._held.clear()
        self._held_bytes = 0

    def stop(self) -> None:
        """End the question's speech now (its answer came): nothing more is requested or sent, and the
        pending :meth:`finish` sends ``tts_end`` with ``ok: false`` unless everything was already spoken."""
        if self._ended or self._task.done():
            return
        self.stopped = self.failed = True
        self._coalescer.paused = True
        self._coalescer.take()
        self._task.cancel()
        if self._decision is not None:
            self._decision.cancel()  # its end releases finish(); the held audio is dropped

    @property
    def ok(self) -> bool:
        """True when every sentence was spoken completely."""
        return not self.failed and not self.interrupted and self.chunks > 0

    def interrupt(self, window_s: float) -> bool:
        """The candidate spoke over the question: pause it and decide within ``window_s`` (False: nothing to stop)."""
        if self._ended or self.interrupted or not self._decided.is_set() or self._task.cancelled():
            return False
        self._decided.clear()
        self._coalescer.paused = True  # its pending audio waits for the decision with the held audio
        self._words.clear()
        self._decision = asyncio.create_task(self._decide(window_s), name=f"barge-in:{self.session_id}:{self.index}")
        return True

    def heard_words(self) -> None:
        """Words were transcribed: an interruption being decided is a real one."""
        if not self._decided.is_set():
            self._words.set()

    async def _decide(self, window_s: float) -> None:
        try:
            await asyncio.wait_for(self._words.wait(), window_s)
        except TimeoutError:
            await self.emitter.emit(self.session_id, "tts_resumed", {"index": self.index})
            self._coalescer.paused = False
            await self._coalescer.flush()
            while self._held:  # no await between the last check and the release: order is kept
                audio = self._held.pop(0)
                self._held_bytes -= len(audio)
                self.audio_budget.give(len(audio))
                await self._send(audio)
        else:
            self.interrupted = True
            self._coalescer.take()
            self._drop_held()
            self._task.cancel()  # the TTS stream and the sentences not yet requested
        finally:
            self._decided.set()

    async def _run(self) -> None:
        while (sentence := await self._sentences.get()) is not None:
            if self.given_up:
                continue  # drained until finish(): the sentences after a failure are not requested
            await self._decided.wait()  # no new TTS request while an interruption is decided
            await self._speak(sentence)

    async def _send(self, audio: bytes) -> None:
        await self.emitter.emit(
            self.session_id,
            "tts_chunk",
            {"index": self.index, "chunk": self.chunks, "mime": self.tts.mime, "audio": audio},
        )
        self.chunks += 1

    async def _out(self, audio: bytes) -> None:
        """Send a chunk, or hold it while an interruption is decided."""
        over = self._held_bytes + len(audio) > self.max_backlog_bytes
        if not self._decided.is_set() and (over or not self.audio_budget.take(len(audio))):
            await self._decided.wait()  # held enough: stop reading the TTS stream until the decision
        if not self._decided.is_set():
            self._held.append(audio)
            self._held_bytes += len(audio)
        else:
            await self._coalescer.push(audio)

    async def _speak(self, sentence: str) -> None:
        sent_any = False
        requested = time.perf_counter()
        stream = self.tts.stream(sentence, persona=self.persona, language=self.language)
        try:
            async for audio in stream:
                if not audio:
                    continue
                if not sent_any and self.metrics and not self.tts.offline:
                    self.metrics.vendor_seconds.labels(self.tts.name, "tts_first_byte", "ok").observe(
                        time.perf_counter() - requested
                    )
                if self.first_byte_s is None:
                    self.first_byte_s = time.perf_counter() - self.started
                if self.backlog() + len(audio) > self.max_backlog_bytes:
                    self.failed = True
                    if self.metrics:
                        self.metrics.tts_dropped.inc()
                    log.info("session %s: client too slow, dropping the rest of a sentence", self.session_id)
                    return
                await self._out(bytes(audio))
                sent_any = True
            if self._decided.is_set():
                await self._coalescer.flush()  # a sentence's audio ends whole
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failed = self.given_up = True
            if self.metrics:
                self.metrics.vendor_seconds.labels(self.tts.name, "tts_first_byte" if not sent_any else "tts_stream", "failed").observe(
                    time.perf_counter() - requested
                )
            log.warning("session %s: TTS failed (%s after %s)", self.session_id, type(exc).__name__, "audio" if sent_any else "nothing")
            await self.emitter.emit(
                self.session_id, "warning", {"code": "tts_failed", "message": "the question could not be spoken; it is shown as text"}
            )
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()  # type: ignore[attr-defined]
