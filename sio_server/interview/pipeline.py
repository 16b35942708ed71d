"""Writing and speaking a question: LLM stream → sentence splitter → TTS → emitter.

Each question runs the stages of :mod:`.stages`: the LLM's pieces are cut
into sentences, each finished sentence goes to TTS at once, and the audio goes
to the emitter as it arrives. The offline fallback (``fallback_llm``) takes
over when the LLM fails.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from ..observability.metrics import Metrics
from ..vendors.llm import LLMProvider, QuestionRequest
from ..vendors.tts import TTSProvider
from . import logic
from .live import Emitter, LiveSession
from .speech import QuestionSpeech
from .stages import LLMStage, SentenceStage, SpeechStage

log = logging.getLogger(__name__)


@dataclass
class QuestionText:
    """A written question, whether it came from a fallback, its timings and its speech."""

    text: str
    fallback: bool
    timings: dict[str, float]
    speech: SpeechStage | None = None


class QuestionPipeline:
    """Writes the next question of a session and speaks it while it is written."""

    def __init__(
        self,
        llm: LLMProvider,
        fallback_llm: LLMProvider,
        tts: TTSProvider,
        emitter: Emitter,
        metrics: Metrics,
        pipelining: bool = True,
        tts_backlog_bytes: int = 1 << 20,
    ) -> None:
        self.llm = llm
        self.fallback_llm = fallback_llm
        self.tts = tts
        self.emitter = emitter
        self.metrics = metrics
        self.pipelining = pipelining
        self.tts_backlog_bytes = tts_backlog_bytes

    async def _new_speech(self, live: LiveSession, index: int) -> SpeechStage:
        backlog = getattr(self.emitter, "backlog", None)
        speech = QuestionSpeech(
            self.tts,
            self.emitter,
            live.id,
            index,
            live.session.config.persona,
            live.session.config.language,
            backlog=(lambda: backlog(live.id)) if backlog else (lambda: 0),
            max_backlog_bytes=self.tts_backlog_bytes,
            metrics=self.metrics,
        )
        live.speech = speech
        stage = SpeechStage(self.metrics, speech)
        await stage.start()
        return stage

    async def _speak_stream(self, llm: LLMProvider, request: QuestionRequest, speech: SpeechStage) -> tuple[str, float]:
        """Stream a question from ``llm``; each finished sentence goes to ``speech`` at once.

        Without pipelining the whole text is spoken after the LLM has finished
        (the sequential way, kept for comparison). Returns the text and the
        time to the first token.
        """
        parts: list[str] = []
        async with LLMStage(self.metrics, llm) as writer, SentenceStage(self.metrics, self.pipelining) as sentences:
            async for piece in writer.pieces(request):
                parts.append(piece)
                for sentence in sentences.push(piece):
                    speech.say(sentence)
            text = "".join(parts).strip()
            if not text:
                raise ValueError("the LLM wrote an empty question")
            for sentence in sentences.flush(text):
                speech.say(sentence)
        return text, writer.first_token or 0.0

    async def draft_question(self, live: LiveSession, answered: int, transcript: str) -> str:
        """The question after ``answered`` if its answer is ``transcript``: written, not spoken nor emitted."""
        session = live.session
        turns = tuple(t.model_copy(update={"answer": transcript} if t.index == answered else {}) for t in session.turns)
        index = answered + 1
        request = QuestionRequest(
            config=session.config, turns=turns, index=index, is_last=logic.is_last_index(session, index)
        )
        return "".join([piece async for piece in self.llm.stream_question(request)])

    async def _speak_draft(self, live: LiveSession, index: int, draft: str) -> QuestionText:
        """Speak a question drafted before the answer ended (see :mod:`.preemptive`)."""
        speech = await self._new_speech(live, index)
        sentences = SentenceStage(self.metrics, self.pipelining)
        for sentence in sentences.push(draft) + sentences.flush(draft):
            speech.say(sentence)
        timings = {"llm_first_token_s": 0.0, "llm_total_s": 0.0, "preemptive": 1.0}
        return QuestionText(text=draft, fallback=False, timings=timings, speech=speech)

    async def write_question(self, live: LiveSession, draft: str | None = None) -> QuestionText:
        """Write (and start speaking) the session's next question; falls back to ``fallback_llm``.

        ``draft`` is the question already written preemptively for this answer, spoken as it is.
        """
        session = live.session
        index = logic.next_question_index(session)
        if draft:
            return await self._speak_draft(live, index, draft)
        request = QuestionRequest(
            config=session.config,
            turns=tuple(t.model_copy() for t in session.turns),
            index=index,
            is_last=logic.is_last_index(session, index),
        )
        started = time.perf_counter()
        speech = await self._new_speech(live, index)
        fallback = False
        try:
            text, first_token = await self._speak_stream(self.llm, request, speech)
        except Exception as exc:
            await speech.cancel()
            if self.llm is self.fallback_llm:
                raise
            log.warning("session %s: LLM %s failed to write a question (%s); using the fallback", live.id, self.llm.name, exc)
            self.metrics.llm_fallbacks.labels("question").inc()
            await self.emitter.emit(
                live.id, "warning", {"code": "llm_fallback", "message": "the interviewer used a backup question"}
            )
            speech = await self._new_speech(live, index)
            text, first_token = await self._speak_stream(self.fallback_llm, request, speech)
            fallback = True
        total = time.perf_counter() - started
        outcome = "fallback" if fallback else "ok"
        self.metrics.vendor_seconds.labels(self.llm.name, "llm_first_token", outcome).observe(first_token)
        self.metrics.vendor_seconds.labels(self.llm.name, "llm_total", outcome).observe(total)
        timings = {"llm_first_token_s": round(first_token, 4), "llm_total_s": round(total, 4)}
        if speech.first_byte_s is not None:
            timings["tts_first_byte_s"] = round(speech.first_byte_s, 4)
        return QuestionText(text=text, fallback=fallback, timings=timings, speech=speech)
