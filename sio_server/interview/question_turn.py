"""One question turn: its pieces of text → the sentence splitter → speech (TTS) → the emitter.

A :class:`QuestionTurn` owns everything of one question while it is written and
spoken: the splitter, the speech, the timings and whether a fallback wrote it.
Where the pieces come from is the only difference between a question drafted
before the answer ended (:class:`~.preemptive.Draft`) and one the LLM chain
writes now: both go through :meth:`QuestionTurn._write`, the one loop.

The turn is the LLM chain's ``on_attempt`` (a provider starts: the text and the
speech start over) and, through its :class:`QuestionVoice`, told when a sentence
moves to a later TTS provider (``warning`` ``tts_fallback``, once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from ..observability.metrics import Metrics, StageRun
from ..text.sentences import SentenceSplitter
from ..vendors.budget import Spend
from ..vendors.fallback import FallbackLLM, FallbackTTS
from ..vendors.llm import QuestionRequest
from . import rules
from .live import Emitter, LiveSession
from .preemptive import Draft, DraftFailed
from .speech import QuestionSpeech

log = logging.getLogger(__name__)


class TurnParts(Protocol):
    """What a turn is made with (the :class:`~.pipeline.QuestionPipeline`): the chains, the emitter, metrics."""

    llm: FallbackLLM
    tts: FallbackTTS
    emitter: Emitter
    metrics: Metrics
    pipelining: bool  # False: the whole text is spoken at the end (the sequential way, kept for comparison)

    def new_speech(self, live: LiveSession, index: int, voice: QuestionVoice) -> QuestionSpeech:
        """A started speech of question ``index`` speaking with ``voice``."""
        ...


class QuestionTurn:
    """One question of a session: written from a source of pieces and spoken sentence by sentence.

    After :meth:`write` or :meth:`take_draft`, ``text``, ``fallback`` and ``timings`` describe the
    question; ``speech`` is its speech (None when the question is not spoken), ended by :meth:`finish`
    (``tts_end``) or :meth:`cancel` (abandoned, no ``tts_end``).
    """

    def __init__(self, parts: TurnParts, live: LiveSession, index: int) -> None:
        self.kit = parts
        self.live = live
        self.index = index
        self.spoken = rules.speaks_questions(live.session.config)
        self.voice = QuestionVoice(parts.tts, self.tts_switched, live.spend)
        self.voice_warned = False
        self.speech: QuestionSpeech | None = None
        self.speech_started: float | None = None  # the speech's clock (its ``tts`` stage), until it is ended
        self.splitter: SentenceSplitter | None = None
        self.parts: list[str] = []
        self.writer = parts.llm.name
        self.fallback = False
        self.text = ""
        self.timings: dict[str, float] = {}
        self.attempt_started = time.perf_counter()
        self.first_token: float | None = None

    # -- writing --------------------------------------------------------------------------

    async def write(self, request: QuestionRequest) -> None:
        """Write the question with the LLM chain (moving on to its next provider by itself), speaking it meanwhile."""
        started = time.perf_counter()
        with self.kit.metrics.stage("llm"), self.kit.metrics.stage("sentences"):
            text = await self._write(self.kit.llm.stream_question(request, self.on_attempt, self.live.spend))
            if not text:
                raise ValueError("the LLM wrote an empty question")
        total = time.perf_counter() - started
        first_token = self.first_token or 0.0
        outcome = "fallback" if self.fallback else "ok"
        self.kit.metrics.vendor_seconds.labels(self.writer, "llm_first_token", outcome).observe(first_token)
        self.kit.metrics.vendor_seconds.labels(self.writer, "llm_total", outcome).observe(total)
        self.timings = {"llm_first_token_s": round(first_token, 4), "llm_total_s": round(total, 4)}
        if self.speech is not None and self.speech.first_byte_s is not None:
            self.timings["tts_first_byte_s"] = round(self.speech.first_byte_s, 4)

    async def take_draft(self, draft: Draft) -> bool:
        """Speak the question drafted before the answer ended (see :mod:`.preemptive`) as the draft is written.

        False (nothing said; the turn is as new) when the draft fails: the question is then written with :meth:`write`.
        """
        started = time.perf_counter()
        await self._start_over()
        try:
            text = await self._write(draft.pieces())
            if not text:
                raise DraftFailed("empty")
        except DraftFailed as exc:
            log.warning("session %s: the drafted question %d failed (%s); writing it again", self.live.id, self.index, exc)
            await self.cancel()
            self.voice = QuestionVoice(self.kit.tts, self.tts_switched, self.live.spend)
            self.voice_warned = False
            return False
        finally:
            if not draft.task.done():
                draft.task.cancel()  # the question step was cancelled while the draft was still being written
        self.timings = {"llm_first_token_s": 0.0, "llm_total_s": round(time.perf_counter() - started, 4), "preemptive": 1.0}
        return True

    async def _write(self, pieces: AsyncIterator[str]) -> str:
        """The one loop: each piece to the splitter, each finished sentence to the speech; the whole text."""
        async for piece in pieces:
            if self.first_token is None and piece:
                self.first_token = time.perf_counter() - self.attempt_started
            self.parts.append(piece)
            self._say(self.splitter.push(piece) if self.splitter is not None else [])
        self.text = "".join(self.parts).strip()
        if self.text:
            self._say(self.splitter.flush() if self.splitter is not None else [self.text])
        return self.text

    async def on_attempt(self, name: str, offline: bool, restart: bool) -> None:
        """The LLM chain starts provider ``name``: the text and speech start over (a restart discards what was said)."""
        await self._start_over()
        self.writer = name
        self.first_token, self.attempt_started = None, time.perf_counter()
        if offline and not self.kit.llm.offline and not self.fallback:
            self.fallback = True
            log.warning("session %s: no LLM vendor wrote question %d; using the fallback", self.live.id, self.index)
            self.kit.metrics.llm_fallbacks.labels("question").inc()
            await self._warn("llm_fallback", "the interviewer used a backup question")

    async def _start_over(self) -> None:
        """Forget the text so far, end its speech, start a fresh one (when the question is spoken)."""
        self.parts.clear()
        self.splitter = SentenceSplitter() if self.kit.pipelining else None  # without: the whole text at the end
        await self.cancel()
        if self.spoken:
            self.speech = self.kit.new_speech(self.live, self.index, self.voice)
            self.speech_started = time.perf_counter()

    def _say(self, sentences: list[str]) -> None:
        if self.speech is not None:
            for sentence in sentences:
                self.speech.say(sentence)

    async def _warn(self, code: str, message: str) -> None:
        await self.kit.emitter.emit(self.live.id, "warning", {"code": code, "message": message})

    async def tts_switched(self, name: str) -> None:
        """A sentence moved to TTS provider ``name``: ``warning`` ``tts_fallback`` once per question."""
        if not self.voice_warned:
            self.voice_warned = True
            log.warning("session %s: TTS moved to %s", self.live.id, name)
            await self._warn("tts_fallback", "the question is read by a backup voice")

    # -- ending the speech ------------------------------------------------------------------

    def _timed(self) -> contextlib.AbstractContextManager[StageRun | None]:
        """The ``tts`` stage of the current speech, observed once (a speech ended twice is timed once)."""
        started, self.speech_started = self.speech_started, None
        return self.kit.metrics.stage("tts", started) if started is not None else contextlib.nullcontext()

    async def finish(self) -> bool:
        """Speak what is queued and send ``tts_end``; a cancellation meanwhile abandons the speech."""
        speech = self.speech
        if speech is None:
            return False
        try:
            with self._timed() as run:
                ok = await speech.finish()
                if not ok and run is not None:
                    run.outcome = "failed"
            return ok
        except asyncio.CancelledError:
            await self.cancel()
            raise
        finally:
            self.live.speech_ended(speech)

    async def cancel(self) -> None:
        """Stop speaking (the question was abandoned or starts over); no ``tts_end``."""
        speech, self.speech = self.speech, None
        if speech is None:
            return
        with self._timed() as run:
            if run is not None:
                run.outcome = "cancelled"
            try:
                await speech.cancel()
            finally:
                self.live.speech_ended(speech)


class QuestionVoice:
    """The TTS chain as one question sees it: ``name``/``offline``/``mime`` are the provider speaking now.

    Metrics and ``tts_chunk`` then carry the real provider's name and audio type. A provider that
    failed a sentence is not asked again for the rest of the question: a hung vendor costs the
    question one deadline, not one per sentence. ``on_switch(name)`` when a sentence moves to a
    later provider; ``spend``: the session's budget, asked before each sentence.
    """

    def __init__(self, chain: FallbackTTS, on_switch: Callable[[str], Awaitable[None]], spend: Spend | None = None) -> None:
        self.chain = chain
        self.on_switch = on_switch
        self.failed: set[str] = set()
        self.spend = spend
        first = chain.links[0].provider
        self.name, self.offline, self.mime = first.name, first.offline, first.mime

    async def stream(self, text: str, *, persona: str, language: str) -> AsyncIterator[bytes]:
        """Yield the audio of ``text`` through the chain."""
        attempts = 0

        async def attempt(name: str, offline: bool, restart: bool) -> None:
            nonlocal attempts
            provider = next(link.provider for link in self.chain.links if link.provider.name == name)
            self.name, self.offline, self.mime = provider.name, provider.offline, provider.mime
            attempts += 1
            if attempts > 1:
                await self.on_switch(name)

        async for chunk in self.chain.stream(
            text,
            persona=persona,
            language=language,
            on_attempt=attempt,
            exclude=self.failed,
            on_failure=self.failed.add,
            spend=self.spend,
        ):
            yield chunk
