"""Spoken answers: who listens to a session, and closing an answer once, however it ends.

An answer ends by ``answer_end`` (the candidate's button or the page's
countdown), by the silence the :class:`~.turn_watch.TurnWatcher` detects
(``turn_detection: auto``), or by the answer's time limit enforced here.
The silence is the STT vendor's word (Deepgram's events, the timing of its
results) or, for ``linear16`` audio, the server's own VAD
(:mod:`.voice_activity`), so hands-free works with any STT; with neither (WebM
audio to an STT without end-of-speech events, or no VAD) the session runs
``manual`` and the start ack says why (:meth:`VoiceTurns.turn_detection`).
Every way goes through :meth:`VoiceTurns.answer_voice`, which closes the
answer to an index once: a second close of the same index while the first
runs waits for it and is told ``duplicate`` (as a later ``answer_end`` is).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..domain.errors import InterviewError
from ..domain.model import InterviewConfig, Session, Speaking, Status
from ..observability.metrics import Metrics
from ..vendors.stt import STTProvider
from ..vendors.vad import VADPool
from . import rules
from .audio_queue import AudioQueue
from .listening import AnswerListener
from .live import Emitter, LiveSession
from .preemptive import Drafts
from .spend import AUDIO_REALTIME, SessionSpend, warning
from .turn_detection import TurnDetectionConfig
from .turn_watch import OpenQuestion, TurnWatcher, WatchPolicy
from .voice_activity import AnswerVoice

log = logging.getLogger(__name__)

Answer = Callable[[LiveSession, int, str, dict[str, float], Speaking | None], Awaitable[rules.AnswerOutcome]]


class SessionLookup(Protocol):
    """Where the voice turns find a session by id (the registry's sessions held here)."""

    def held(self, session_id: str) -> LiveSession | None:
        """The session held here by that id, or None."""
        ...


@dataclass(frozen=True)
class VoicePolicy:
    """Turn-taking settings (``ANSWER_END_*``, ``ANSWER_MIN_WORDS``, ``ANSWER_MIN_SPEECH_MS``,
    ``ANSWER_TIME_LIMIT_GRACE_MS``, ``PREEMPTIVE_STABLE_MS``)."""

    end_silence_s: float = 2.5
    notice_s: float = 1.0
    min_words: int = 3
    min_speech_s: float = 1.0
    time_limit_grace_s: float = 1.0
    preemptive_stable_s: float = 0.8
    finalize_timeout: float = 10.0
    false_interruption_s: float = 1.5
    stt_buffer_bytes: int = 2_000_000  # audio an STT stream keeps per answer, charged to the audio budget

    def watch(self, session: Session) -> WatchPolicy:
        """The watch policy of ``session`` (its ``turn_detection`` option)."""
        detection = TurnDetectionConfig(self.end_silence_s, self.notice_s, self.min_words, self.min_speech_s)
        auto = session.config.turn_detection == "auto"
        return WatchPolicy(auto=auto, detection=detection, preemptive_stable_s=self.preemptive_stable_s if auto else 0.0)


class _Hooks:
    """What the watcher of one session asks of it (see :class:`~.turn_watch.TurnHooks`)."""

    def __init__(self, turns: VoiceTurns, session_id: str) -> None:
        self.turns = turns
        self.session_id = session_id

    def _live(self) -> LiveSession | None:
        live = self.turns.sessions.held(self.session_id)
        return None if live is None or live.deleted else live

    def open_question(self) -> OpenQuestion | None:
        live = self._live()
        session = live.session if live is not None else None
        turn = session.current_turn if session is not None else None
        if session is None or turn is None or turn.answer is not None:
            return None
        if session.status is not Status.ACTIVE or session.pending is not None:
            return None
        limit = session.config.answer_time_limit_s
        deadline = turn.asked_at.timestamp() + limit + self.turns.policy.time_limit_grace_s if limit else None
        return OpenQuestion(turn.index, deadline)

    async def notify(self, event: str, data: dict[str, object]) -> None:
        await self.turns.emitter.emit(self.session_id, event, dict(data))

    def words_heard(self) -> None:
        live = self._live()
        if live is not None and live.speech is not None:
            live.speech.heard_words()

    async def end_answer(self, index: int, reason: str) -> None:
        live = self._live()
        if live is not None:
            await self.turns.end_answer(live, index, reason)

    async def transcript_stable(self, index: int, transcript: str) -> None:
        live = self._live()
        if live is not None:
            self.turns.drafts.start(live, index, transcript)

    async def transcript_changed(self, index: int, transcript: str) -> None:
        await self.turns.drafts.discard(self.session_id, unless=transcript)

    async def closed(self) -> None:
        await self.turns.drafts.discard(self.session_id)


class VoiceTurns:
    """Listeners of voice sessions and the closing of spoken answers."""

    def __init__(
        self,
        sessions: SessionLookup,
        stt: STTProvider | None,
        emitter: Emitter,
        metrics: Metrics,
        answer: Answer,
        drafts: Drafts,
        policy: VoicePolicy | None = None,
        vad: VADPool | None = None,
    ) -> None:
        self.sessions = sessions
        self.vad = vad
        self.stt = stt
        self.emitter = emitter
        self.metrics = metrics
        self.answer = answer
        self.drafts = drafts
        self.policy = policy or VoicePolicy()

    def listener_for(self, session: Session, audio: AudioQueue, spend: SessionSpend | None = None) -> AnswerListener | None:
        """The STT listener of a voice session brought into memory (None for text or ended sessions)."""
        if session.mode != "voice" or self.stt is None or session.status is not Status.ACTIVE:
            return None
        policy = self.policy.watch(session)
        watcher = TurnWatcher(policy, _Hooks(self, session.id))
        judged = policy.auto and session.config.audio_format == "linear16" and self.vad is not None
        voice = None
        if judged:
            assert self.vad is not None
            self.vad.warm()  # a detector is made while the question is asked, not at the first word
            voice = AnswerVoice(self.vad, watcher.voiced)
        listener = AnswerListener(
            self.stt, audio, self.emitter, session.id, session.config.audio_format, session.config.language,
            self.metrics, watcher, spend, self.policy.stt_buffer_bytes, voice,
        )  # fmt: skip
        watcher.wake()  # the open question's time limit runs from the start
        return listener

    def turn_detection(self, config: InterviewConfig) -> tuple[str, str | None]:
        """The turn detection a voice interview asking for ``config`` gets, and why when it is not what was asked.

        ``auto`` needs someone to hear the end of speech: the STT chain's first provider
        (``end_of_speech_events``: Deepgram), or the server's VAD on ``linear16`` audio.
        """
        if config.turn_detection != "auto" or self.stt is None:
            return config.turn_detection, None
        lead = getattr(self.stt, "providers", (self.stt,))[0]
        if lead.capabilities.end_of_speech_events:
            return "auto", None
        if config.audio_format != "linear16":
            return "manual", "needs_linear16"
        if self.vad is None or self.vad.broken:
            return "manual", "vad_unavailable"
        return "auto", None

    async def answer_voice(self, live: LiveSession, index: int) -> tuple[rules.AnswerOutcome, str]:
        """Close the spoken answer to ``index`` once (see the module docstring)."""
        running = live.closing.get(index)
        if running is not None:
            _, transcript = await asyncio.shield(running)
            return rules.AnswerOutcome(index=index, duplicate=True), transcript
        future: asyncio.Future[tuple[rules.AnswerOutcome, str]] = asyncio.get_running_loop().create_future()
        live.closing[index] = future
        try:
            result = await self._close(live, index)
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(exc if isinstance(exc, Exception) else InterviewError("internal_error", "cancelled"))
            future.exception()  # retrieved: the waiters re-raise it themselves
            raise
        finally:
            del live.closing[index]

    async def _close(self, live: LiveSession, index: int) -> tuple[rules.AnswerOutcome, str]:
        if rules.check_answer(live.session, index):
            turn = next(t for t in live.session.turns if t.index == index)
            return rules.AnswerOutcome(index=index, duplicate=True), turn.answer or ""
        if live.session.mode != "voice" or live.listener is None:
            raise InterviewError("text_mode", "this interview runs in text mode: send answer_text")
        started = time.perf_counter()
        transcript = await live.listener.finish(self.policy.finalize_timeout)
        waited = time.perf_counter() - started
        stt_name = getattr(self.stt, "name", "stt")
        self.metrics.vendor_seconds.labels(stt_name, "stt_final", "ok" if transcript else "empty").observe(waited)
        if not transcript:
            live.spend.stt_empty()  # the next chunk does not open a stream at once (STT churn)
            await self.drafts.discard(live.id)
            raise InterviewError("empty_answer", "no speech was recognised; please answer again")
        self.drafts.settle(live.id, index, transcript)
        speaking = live.listener.heard.speaking(transcript, live.session.config)
        outcome = await self.answer(live, index, transcript, {"stt_final_s": round(waited, 4)}, speaking)
        return outcome, transcript

    def hear(self, live: LiveSession, chunk: bytes | bytearray) -> dict[str, str] | None:
        """Queue a chunk of the spoken answer; a dropped chunk returns the ``warning`` to send (at most once a second).

        Raises ``text_mode`` when the session does not listen because it runs in text mode (an ended
        voice session drops the audio silently).
        """
        if live.listener is None:  # text mode (or ended): nothing would read the audio, so none is queued
            self.metrics.audio_dropped.inc()
            if live.session.mode == "text":
                raise InterviewError("text_mode", "this interview runs in text mode: audio is not accepted")
            return None
        if not live.spend.take_audio(len(chunk)):  # faster than the declared format's real time: dropped
            self.metrics.audio_dropped.inc()
            return warning(AUDIO_REALTIME) if live.audio.should_warn() else None
        if not live.audio.put(bytes(chunk)):
            self.metrics.audio_dropped.inc()
            if live.audio.should_warn():
                return {"code": "audio_dropped", "message": "audio is arriving faster than it can be processed"}
        return None

    def interrupt(self, live: LiveSession, index: int) -> bool:
        """The candidate spoke over question ``index``: pause its audio and decide (see :class:`.speech.QuestionSpeech`)."""
        speech = live.speech
        if speech is None or speech.index != index:
            return False
        return speech.interrupt(self.policy.false_interruption_s)

    async def end_answer(self, live: LiveSession, index: int, reason: str) -> None:
        """The server closes the answer (``silence``, ``utterance_end``, ``time_limit``) as ``answer_end`` would."""
        try:
            outcome, transcript = await self.answer_voice(live, index)
        except InterviewError as exc:
            log.info("session %s: closing answer %d (%s) failed: %s", live.id, index, reason, exc.code)
            if exc.code == "empty_answer":
                await self.emitter.emit(live.id, "warning", exc.as_dict())
            return
        if not outcome.duplicate:
            data: dict[str, Any] = {"index": index, "transcript": transcript, "reason": reason}
            await self.emitter.emit(live.id, "answer_ended", data)
