"""The stages of a question's pipeline: LLM stream → sentences → TTS (→ the emitter).

Like Pipecat's processors, each stage has a start/stop lifecycle and
observes its own duration in ``interview_pipeline_stage_seconds{stage,
outcome}``; :mod:`.pipeline` wires them together.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Self

from ..observability.metrics import Metrics
from ..text.sentences import SentenceSplitter
from ..vendors.budget import Spend
from ..vendors.fallback import FallbackLLM
from ..vendors.llm import QuestionRequest
from .speech import QuestionSpeech


class Stage:
    """A pipeline stage: :meth:`start`, work, :meth:`stop` with an outcome (``ok``, ``failed``, ``cancelled``)."""

    name = "stage"

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.started: float | None = None

    async def start(self) -> None:
        """Begin the stage's work (and its clock)."""
        self.started = time.perf_counter()

    async def stop(self, outcome: str = "ok") -> None:
        """End the stage once; observes how long it ran."""
        if self.started is None:
            return
        elapsed, self.started = time.perf_counter() - self.started, None
        self.metrics.pipeline_stage.labels(self.name, outcome).observe(elapsed)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            await self.stop("ok")
        else:
            await self.stop("cancelled" if issubclass(kind, asyncio.CancelledError) else "failed")


OnAttempt = Callable[[str, bool, bool], Awaitable[None]]


class LLMStage(Stage):
    """Streams a question's text from the LLM chain; remembers the time to its first token.

    The chain calls ``on_attempt(name, offline, restart)`` each time it starts
    a provider; the clock of the first token restarts with it.
    """

    name = "llm"

    def __init__(self, metrics: Metrics, llm: FallbackLLM) -> None:
        super().__init__(metrics)
        self.llm = llm
        self.first_token: float | None = None
        self.attempt_started = time.perf_counter()

    async def pieces(self, request: QuestionRequest, on_attempt: OnAttempt, spend: Spend | None = None) -> AsyncIterator[str]:
        """The pieces of text the LLM writes, as they arrive (``spend``: the session's budget)."""

        async def attempt(name: str, offline: bool, restart: bool) -> None:
            self.first_token, self.attempt_started = None, time.perf_counter()
            await on_attempt(name, offline, restart)

        async for piece in self.llm.stream_question(request, attempt, spend):
            if self.first_token is None and piece:
                self.first_token = time.perf_counter() - self.attempt_started
            yield piece


class SentenceStage(Stage):
    """Cuts the text into sentences; without pipelining the whole text is one sentence at the end."""

    name = "sentences"

    def __init__(self, metrics: Metrics, pipelining: bool) -> None:
        super().__init__(metrics)
        self.splitter = SentenceSplitter() if pipelining else None

    def reset(self) -> None:
        """Forget a partial sentence (the LLM chain restarted the question)."""
        if self.splitter is not None:
            self.splitter = SentenceSplitter()

    def push(self, piece: str) -> list[str]:
        """The sentences ``piece`` completed."""
        return self.splitter.push(piece) if self.splitter is not None else []

    def flush(self, text: str) -> list[str]:
        """The sentences left at the end of the stream (``text`` is the whole of it)."""
        return self.splitter.flush() if self.splitter is not None else [text]


class SpeechStage(Stage):
    """Speaks sentences with TTS; the audio goes to the emitter as it arrives (see :class:`QuestionSpeech`)."""

    name = "tts"

    def __init__(self, metrics: Metrics, speech: QuestionSpeech) -> None:
        super().__init__(metrics)
        self.speech = speech

    def say(self, sentence: str) -> None:
        """Queue one sentence."""
        self.speech.say(sentence)

    @property
    def first_byte_s(self) -> float | None:
        """Seconds from the start of the question to its first audio byte."""
        return self.speech.first_byte_s

    async def finish(self) -> bool:
        """Speak what is queued, send ``tts_end``, stop the stage."""
        try:
            ok = await self.speech.finish()
        except BaseException:
            await self.stop("failed")
            raise
        await self.stop("ok" if ok else "failed")
        return ok

    def cut_short(self) -> None:
        """The candidate moved on: what is left is not spoken, and :meth:`finish` ends with ``ok: false``."""
        self.speech.stop()

    async def cancel(self) -> None:
        """Stop speaking (the question was abandoned); no ``tts_end``."""
        await self.speech.cancel()
        await self.stop("cancelled")
