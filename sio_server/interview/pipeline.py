"""Writing and speaking questions: the parts every :class:`~.question_turn.QuestionTurn` uses, and drafts.

Each question is one :class:`~.question_turn.QuestionTurn`: the LLM chain's
pieces (or a preemptive draft's) are cut into sentences, each finished sentence
goes to TTS at once, and the audio goes to the emitter as it arrives. The LLM
chain (``vendors.fallback``) moves to its next provider by itself; the offline
interviewer is its last link, and a question it writes for the vendors is a
fallback (``warning`` ``llm_fallback``). A question is spoken only when the
session asks for it (``speak_questions``, see :func:`.rules.speaks_questions`);
otherwise TTS is never called.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..observability.metrics import Metrics
from ..vendors.fallback import FallbackLLM, FallbackTTS
from ..vendors.llm import QuestionRequest
from . import rules
from .live import Emitter, LiveSession
from .preemptive import Draft, DraftFailed
from .question_turn import QuestionTurn, QuestionVoice
from .speech import QuestionSpeech

log = logging.getLogger(__name__)


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

    def new_speech(self, live: LiveSession, index: int, voice: QuestionVoice) -> QuestionSpeech:
        """A started speech of question ``index``, speaking with ``voice``; barge-in finds it in ``live.speech``."""
        speech = QuestionSpeech(
            voice,  # type: ignore[arg-type]  # a TTSProvider whose name is the provider speaking now
            self.emitter,
            live.id,
            index,
            live.session.config.persona,
            live.session.config.language,
            backlog=lambda: self.emitter.backlog(live.id),
            max_backlog_bytes=self.tts_backlog_bytes,
            metrics=self.metrics,
            audio_budget=live.audio.budget,
        )
        live.speech = speech
        return speech

    async def write_question(self, live: LiveSession, draft: Draft | None = None) -> QuestionTurn:
        """Write (and start speaking) the session's next question.

        ``draft`` is the question drafted preemptively for this answer (written or still being written),
        spoken as it is; when it fails the question is written as usual.
        """
        session = live.session
        index = rules.next_question_index(session)
        turn = QuestionTurn(self, live, index)
        try:
            if draft is not None and await turn.take_draft(draft):
                return turn
            request = QuestionRequest(
                config=session.config,
                turns=tuple(t.model_copy() for t in session.turns),
                index=index,
                is_last=rules.is_last_index(session, index),
            )
            await turn.write(request)
        except BaseException:
            await turn.cancel()
            raise
        return turn

    async def draft_question(self, live: LiveSession, answered: int, transcript: str, on_piece: Callable[[str], None]) -> str:
        """The question after ``answered`` if its answer is ``transcript``: written, not spoken nor emitted.

        Each piece goes to ``on_piece`` as the LLM writes it. '' when only the offline link could write
        it (the question is then written as usual, with its ``llm_fallback`` warning) or when the chain
        falls back to another provider after pieces went out.
        """
        session = live.session
        turns = tuple(t.model_copy(update={"answer": transcript} if t.index == answered else {}) for t in session.turns)
        index = answered + 1
        request = QuestionRequest(config=session.config, turns=turns, index=index, is_last=rules.is_last_index(session, index))
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
