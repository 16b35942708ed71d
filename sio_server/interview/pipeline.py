"""Writing and speaking a question: LLM stream → sentence splitter → TTS → emitter.

Each question runs the stages of :mod:`.stages`: the LLM chain's pieces are
cut into sentences, each finished sentence goes to TTS at once, and the audio
goes to the emitter as it arrives. The LLM chain (``vendors.fallback``) moves
to its next provider by itself; the offline interviewer is its last link, and
a question it writes for the vendors is a fallback (``warning`` ``llm_fallback``).
A question is spoken only when the session asks for it (``speak_questions``,
see :func:`.logic.speaks_questions`); otherwise TTS is never called.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..observability.metrics import Metrics
from ..vendors.fallback import BoundTTS, FallbackLLM, FallbackTTS
from ..vendors.llm import QuestionRequest
from . import rules as logic
from .live import Emitter, LiveSession
from .preemptive import Draft, DraftFailed
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


class _Writing:
    """One question being written: the provider writing it now, its speech, whether it is a fallback."""

    def __init__(self, pipeline: QuestionPipeline, live: LiveSession, index: int) -> None:
        self.pipeline = pipeline
        self.live = live
        self.index = index
        self.speech: SpeechStage | None = None
        self.writer = pipeline.llm.name
        self.fallback = False
        self.voice_warned = False
        self.spoken = logic.speaks_questions(live.session.config)
        self.tts = pipeline.tts.bind(self._tts_switched, live.spend)

    async def _warn(self, code: str, message: str) -> None:
        await self.pipeline.emitter.emit(self.live.id, "warning", {"code": code, "message": message})

    async def _tts_switched(self, name: str) -> None:
        if not self.voice_warned:
            self.voice_warned = True
            log.warning("session %s: TTS moved to %s", self.live.id, name)
            await self._warn("tts_fallback", "the question is read by a backup voice")

    def say(self, sentences: list[str]) -> None:
        """Speak finished sentences (nothing when the question is not spoken)."""
        if self.speech is not None:
            for sentence in sentences:
                self.speech.say(sentence)

    async def on_attempt(self, name: str, offline: bool, restart: bool) -> None:
        """A provider starts writing: a fresh speech (a restart discards what the last one said)."""
        if self.speech is not None:
            await self.speech.cancel()
            self.live.speech_ended(self.speech.speech)
        if self.spoken:
            self.speech = await self.pipeline.new_speech(self.live, self.index, self.tts)
        self.writer = name
        if offline and not self.pipeline.llm.offline and not self.fallback:
            self.fallback = True
            log.warning("session %s: no LLM vendor wrote question %d; using the fallback", self.live.id, self.index)
            self.pipeline.metrics.llm_fallbacks.labels("question").inc()
            await self._warn("llm_fallback", "the interviewer used a backup question")


class QuestionPipeline:
    """Writes the next question of a session and speaks it while it is written."""

    def __init__(
        self,
        llm: FallbackLLM,
        tts: FallbackTTS,
        emitter: Emitter,
        metrics: Metrics,
        pipelining: bool = True,
        tts_backlog_bytes: int = 1 << 20,
    ) -> None:
        self.llm = llm
        self.tts = tts
        self.emitter = emitter
        self.metrics = metrics
        self.pipelining = pipelining
        self.tts_backlog_bytes = tts_backlog_bytes

    async def new_speech(self, live: LiveSession, index: int, tts: BoundTTS) -> SpeechStage:
        """A started speech stage for question ``index``, speaking with ``tts``."""
        backlog = getattr(self.emitter, "backlog", None)
        speech = QuestionSpeech(
            tts,  # type: ignore[arg-type]  # a TTSProvider whose name is the provider speaking now
            self.emitter,
            live.id,
            index,
            live.session.config.persona,
            live.session.config.language,
            backlog=(lambda: backlog(live.id)) if backlog else (lambda: 0),
            max_backlog_bytes=self.tts_backlog_bytes,
            metrics=self.metrics,
            audio_budget=live.audio.budget,
        )
        live.speech = speech
        stage = SpeechStage(self.metrics, speech)
        await stage.start()
        return stage

    async def _speak_stream(self, request: QuestionRequest, writing: _Writing) -> tuple[str, float]:
        """Stream a question from the LLM chain; each finished sentence goes to the speech at once.

        Without pipelining the whole text is spoken after the LLM has finished
        (the sequential way, kept for comparison). Returns the text and the
        time to the first token of the provider that wrote it.
        """
        parts: list[str] = []
        async with LLMStage(self.metrics, self.llm) as writer, SentenceStage(self.metrics, self.pipelining) as sentences:

            async def on_attempt(name: str, offline: bool, restart: bool) -> None:
                parts.clear()
                sentences.reset()
                await writing.on_attempt(name, offline, restart)

            async for piece in writer.pieces(request, on_attempt, writing.live.spend):
                parts.append(piece)
                writing.say(sentences.push(piece))
            text = "".join(parts).strip()
            if not text:
                raise ValueError("the LLM wrote an empty question")
            writing.say(sentences.flush(text))
        return text, writer.first_token or 0.0

    async def draft_question(self, live: LiveSession, answered: int, transcript: str, on_piece: Callable[[str], None]) -> str:
        """The question after ``answered`` if its answer is ``transcript``: written, not spoken nor emitted.

        Each piece goes to ``on_piece`` as the LLM writes it. '' when only the offline link could write
        it (the question is then written as usual, with its ``llm_fallback`` warning) or when the chain
        falls back to another provider after pieces went out.
        """
        session = live.session
        turns = tuple(t.model_copy(update={"answer": transcript} if t.index == answered else {}) for t in session.turns)
        index = answered + 1
        request = QuestionRequest(config=session.config, turns=turns, index=index, is_last=logic.is_last_index(session, index))
        parts: list[str] = []

        async def on_attempt(name: str, is_offline: bool, restart: bool) -> None:
            if is_offline and not self.llm.offline:
                raise DraftFailed(f"{name}: only the offline interviewer could write it")
            if parts:
                raise DraftFailed(f"{name} took over after {len(parts)} piece(s)")

        try:
            async for piece in self.llm.stream_question(request, on_attempt, live.spend.for_draft()):
                parts.append(piece)
                on_piece(piece)
        except DraftFailed as exc:
            log.info("session %s: draft of question %d not usable (%s)", live.id, index, exc)
            return ""
        return "".join(parts)

    async def _speak_draft(self, live: LiveSession, index: int, draft: Draft) -> QuestionText | None:
        """Speak a question drafted before the answer ended (see :mod:`.preemptive`), sentence by sentence as
        the draft is written; None (nothing said) when the draft fails."""
        started = time.perf_counter()
        writing = _Writing(self, live, index)
        if writing.spoken:
            writing.speech = await self.new_speech(live, index, writing.tts)
        sentences = SentenceStage(self.metrics, self.pipelining)
        parts: list[str] = []
        try:
            async for piece in draft.pieces():
                parts.append(piece)
                writing.say(sentences.push(piece))
            text = "".join(parts).strip()
            if not text:
                raise DraftFailed("empty")
        except BaseException as exc:
            if writing.speech is not None:
                await writing.speech.cancel()
                live.speech_ended(writing.speech.speech)
            if not isinstance(exc, DraftFailed):
                raise
            log.warning("session %s: the drafted question %d failed (%s); writing it again", live.id, index, exc)
            return None
        finally:
            if not draft.task.done():
                draft.task.cancel()  # the question step was cancelled while the draft was still being written
        writing.say(sentences.flush(text))
        timings = {"llm_first_token_s": 0.0, "llm_total_s": round(time.perf_counter() - started, 4), "preemptive": 1.0}
        return QuestionText(text=text, fallback=False, timings=timings, speech=writing.speech)

    async def write_question(self, live: LiveSession, draft: Draft | None = None) -> QuestionText:
        """Write (and start speaking) the session's next question.

        ``draft`` is the question drafted preemptively for this answer (written or still being written),
        spoken as it is; when it fails the question is written as usual.
        """
        session = live.session
        index = logic.next_question_index(session)
        if draft is not None:
            drafted = await self._speak_draft(live, index, draft)
            if drafted is not None:
                return drafted
        request = QuestionRequest(
            config=session.config,
            turns=tuple(t.model_copy() for t in session.turns),
            index=index,
            is_last=logic.is_last_index(session, index),
        )
        writing = _Writing(self, live, index)
        started = time.perf_counter()
        try:
            text, first_token = await self._speak_stream(request, writing)
        except BaseException:
            if writing.speech is not None:
                await writing.speech.cancel()
                live.speech_ended(writing.speech.speech)
            raise
        total = time.perf_counter() - started
        outcome = "fallback" if writing.fallback else "ok"
        self.metrics.vendor_seconds.labels(writing.writer, "llm_first_token", outcome).observe(first_token)
        self.metrics.vendor_seconds.labels(writing.writer, "llm_total", outcome).observe(total)
        timings = {"llm_first_token_s": round(first_token, 4), "llm_total_s": round(total, 4)}
        if writing.speech is not None and writing.speech.first_byte_s is not None:
            timings["tts_first_byte_s"] = round(writing.speech.first_byte_s, 4)
        return QuestionText(text=text, fallback=writing.fallback, timings=timings, speech=writing.speech)
