"""Interview orchestration: sessions in memory, the store, the LLM and the emitter.

Plain async Python with no socket in sight: the realtime layer calls it, and a
test can drive a whole interview through it with a recording emitter. Every
change goes through :meth:`InterviewService._commit`, which saves the session
before anything it produced is emitted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from ..cluster.leases import Leases, LeaseUnavailable
from ..observability.metrics import Metrics
from ..store.base import SessionStore, StoreError, VersionConflict
from ..text.sentences import SentenceSplitter
from ..vendors.llm import FeedbackRequest, LLMProvider, QuestionRequest
from ..vendors.stt import STTProvider
from ..vendors.tts import OfflineTTS, TTSProvider
from . import logic
from .audio_budget import AudioBudget
from .audio_queue import AudioQueue
from .errors import InterviewError
from .ids import parse_session_id
from .listening import AnswerListener
from .model import Event, Feedback, InterviewConfig, PendingStep, Session, Status, utcnow
from .speech import QuestionSpeech
from .token_lookup import session_for_token
from .tokens import hash_token, new_token

log = logging.getLogger(__name__)
T = TypeVar("T")


class Emitter(Protocol):
    """Where the service sends outbound events (a Socket.IO room in production)."""

    async def emit(self, session_id: str, event: str, data: dict[str, Any]) -> None:
        """Send ``event`` to the client bound to ``session_id``, if any."""
        ...

    def backlog(self, session_id: str) -> int:
        """Bytes (estimated) already queued for the session's socket and not yet written."""
        ...


@dataclass
class LiveSession:
    """A session held in memory, with what only a running process has."""

    session: Session
    audio: AudioQueue
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    sid: str | None = None
    step_task: asyncio.Task[None] | None = None
    touched: float = field(default_factory=time.monotonic)
    deleted: bool = False
    listener: AnswerListener | None = None

    @property
    def id(self) -> str:
        """The session id."""
        return self.session.id

    @property
    def busy(self) -> bool:
        """True while a pending step runs."""
        return self.step_task is not None and not self.step_task.done()


@dataclass
class QuestionText:
    """A written question, whether it came from a fallback, its timings and its speech."""

    text: str
    fallback: bool
    timings: dict[str, float]
    speech: QuestionSpeech | None = None


class InterviewService:
    """Runs interviews: start, answer, end, resume, sweep.

    ``llm`` writes questions and feedback; ``fallback_llm`` (the offline
    provider) is used when ``llm`` fails. ``emitter`` gets every outbound event
    after the session that produced it has been saved.
    """

    def __init__(
        self,
        store: SessionStore,
        llm: LLMProvider,
        fallback_llm: LLMProvider,
        emitter: Emitter,
        metrics: Metrics | None = None,
        audio_queue_chunks: int = 100,
        store_retry_delay: float = 0.5,
        tts: TTSProvider | None = None,
        stt: STTProvider | None = None,
        pipelining: bool = True,
        tts_backlog_bytes: int = 1 << 20,
        stt_finalize_timeout: float = 10.0,
        leases: Leases | None = None,
        audio_budget: AudioBudget | None = None,
    ) -> None:
        self.store = store
        self.llm = llm
        self.fallback_llm = fallback_llm
        self.emitter = emitter
        self.metrics = metrics or Metrics()
        self.audio_queue_chunks = audio_queue_chunks
        self.store_retry_delay = store_retry_delay
        self.tts = tts or OfflineTTS()
        self.stt = stt
        self.pipelining = pipelining
        self.tts_backlog_bytes = tts_backlog_bytes
        self.stt_finalize_timeout = stt_finalize_timeout
        self.leases = leases or Leases()
        self.audio_budget = audio_budget or AudioBudget(1 << 62)
        self.on_superseded: Callable[[LiveSession, str], Awaitable[None]] | None = None
        self.live: dict[str, LiveSession] = {}
        self._loading: dict[str, asyncio.Future[LiveSession | None]] = {}
        self._closing = False

    # -- sessions in memory -------------------------------------------------

    def _hold(self, session: Session) -> LiveSession:
        live = LiveSession(session=session, audio=AudioQueue(self.audio_queue_chunks, budget=self.audio_budget))
        if session.mode == "voice" and self.stt is not None and session.status is Status.ACTIVE:
            live.listener = AnswerListener(
                self.stt, live.audio, self.emitter, session.id, session.config.audio_format,
                session.config.language, self.metrics,
            )
        self.live[session.id] = live
        self.metrics.sessions_live.set(len(self.live))
        return live

    async def get(self, session_id: str) -> LiveSession | None:
        """The live session, restored from the store when this process does not hold it.

        A restored session with a pending step gets that step run again.
        """
        if parse_session_id(session_id) is None:
            return None
        live = self.live.get(session_id)
        if live is not None:
            live.touched = time.monotonic()
            return live
        loading = self._loading.get(session_id)
        if loading is not None:
            return await asyncio.shield(loading)
        future: asyncio.Future[LiveSession | None] = asyncio.get_running_loop().create_future()
        self._loading[session_id] = future
        try:
            try:
                took_over = await self.leases.acquire(session_id)
            except LeaseUnavailable:
                raise InterviewError("session_busy", "the session is busy on another server; retry") from None
            if took_over:
                self.metrics.lease_takeovers.inc()
            session = await self.store.load(session_id)
            if session is None:
                await self.leases.release(session_id)
            live = self._hold(session) if session is not None else None
            future.set_result(live)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._loading[session_id]
        if live is not None:
            self.ensure_step(live)
        return live

    async def peek(self, session_id: str) -> Session | None:
        """The session as held here or as stored, without taking it over (for reads)."""
        if parse_session_id(session_id) is None:
            return None
        live = self.live.get(session_id)
        return live.session if live is not None else await self.store.load(session_id)

    async def authenticate(self, token: str) -> LiveSession | None:
        """The live session whose resume token is ``token``, or None."""
        # Check the token before taking the session over: a wrong token must not move it.
        session = await session_for_token(self.peek, token)  # same work for unknown ids (not timeable)
        return await self.get(session.id) if session is not None else None

    def release(self, live: LiveSession) -> None:
        """Drop ``live`` from memory when no socket holds it and no step runs."""
        if live.sid is None and not live.busy and self.live.get(live.id) is live:
            del self.live[live.id]
            self.metrics.sessions_live.set(len(self.live))
            self.store.forget(live.id)
            self._close_listener(live)
            live.audio.discard()
            asyncio.get_running_loop().create_task(self.leases.release(live.id))

    async def hand_over(self, session_id: str, wait: float = 3.0) -> None:
        """Give a session up to another process: supersede its socket, let its step finish, forget it."""
        live = self.live.get(session_id)
        if live is None:
            await self.leases.release(session_id)
            return
        sid, live.sid = live.sid, None
        if sid is not None and self.on_superseded is not None:
            await self.on_superseded(live, sid)
        if live.busy and live.step_task is not None:
            done, _ = await asyncio.wait({live.step_task}, timeout=wait)
            if not done:
                live.step_task.cancel()
                await asyncio.gather(live.step_task, return_exceptions=True)
        if self.live.get(session_id) is live:
            live.step_task = None
            self.release(live)
        self.metrics.lease_handovers.inc()

    async def renew_leases(self) -> None:
        """Renew the leases of every held session; hand over the ones that are no longer ours."""
        for session_id in await self.leases.renew(list(self.live)):
            log.warning("session %s: lease lost; handing it over", session_id)
            await self.hand_over(session_id, wait=0)

    def _close_listener(self, live: LiveSession) -> None:
        listener, live.listener = live.listener, None
        if listener is not None:
            asyncio.get_running_loop().create_task(listener.close())

    # -- persistence ----------------------------------------------------------

    async def _commit(self, live: LiveSession, change: Callable[[Session], T]) -> T:
        """Apply ``change`` to the session and save it; on failure, undo and raise.

        Must be called with ``live.lock`` held. Raises :class:`InterviewError`
        (``store_unavailable``) when the save fails, with the session as before.
        """
        before = live.session.model_copy(deep=True)
        started = time.perf_counter()
        try:
            result = change(live.session)
            live.session.version += 1
            await self.store.save(live.session)
        except VersionConflict as exc:
            # Another process wrote this session (it took the lease over while we did not notice).
            self.metrics.store_errors.labels("conflict").inc()
            log.warning("session %s: version conflict; reloading", live.id)
            fresh = await self.store.load(live.id)
            live.session = fresh if fresh is not None else before
            raise InterviewError("conflict", "the session changed on another server; retry") from exc
        except StoreError as exc:
            live.session = before
            self.metrics.store_errors.labels("save").inc()
            log.warning("save of session %s failed: %s", live.id, exc)
            raise InterviewError("store_unavailable", "the session could not be saved; try again") from exc
        except BaseException:
            live.session = before
            raise
        self.metrics.store_write.observe(time.perf_counter() - started)
        live.touched = time.monotonic()
        return result

    async def _emit_events(self, live: LiveSession, events: list[Event]) -> None:
        for event in events:
            await self.emitter.emit(live.id, event.name, event.data)

    # -- interview actions ----------------------------------------------------

    def effective_mode(self, config: InterviewConfig) -> str:
        """The mode a new interview runs in: voice only when STT is available."""
        return "voice" if config.mode == "voice" and self.stt is not None else "text"

    async def start(self, config: InterviewConfig) -> tuple[LiveSession, str]:
        """Create and save a session, then ask its first question in the background.

        Returns the live session and its resume token (shown once, never stored).
        """
        session = logic.new_session(config, token_hash="", mode=self.effective_mode(config))
        token = new_token(session.session_id)
        session.token_hash = hash_token(token)
        session.version = 1
        try:
            await self.leases.acquire(session.id)
            await self.store.save(session)
        except StoreError as exc:
            self.metrics.store_errors.labels("save").inc()
            raise InterviewError("store_unavailable", "the session could not be saved; try again") from exc
        live = self._hold(session)
        self.metrics.sessions_started.inc()
        return live, token

    async def answer(
        self, live: LiveSession, index: int, text: str, timings: dict[str, float] | None = None
    ) -> logic.AnswerOutcome:
        """Record an answer (idempotent by index) and start the next step."""
        async with live.lock:
            self._check_present(live)
            if logic.check_answer(live.session, index):
                return logic.AnswerOutcome(index=index, duplicate=True)
            outcome = await self._commit(live, lambda s: logic.record_answer(s, index, text, timings=timings))
            self.metrics.turns.inc()
        self.ensure_step(live)
        return outcome

    async def answer_voice(self, live: LiveSession, index: int) -> tuple[logic.AnswerOutcome, str]:
        """Close the spoken answer to ``index``: finalize STT and record its transcript.

        Raises ``empty_answer`` (the question stays open) when nothing was heard.
        """
        self._check_present(live)
        if logic.check_answer(live.session, index):
            turn = next(t for t in live.session.turns if t.index == index)
            return logic.AnswerOutcome(index=index, duplicate=True), turn.answer or ""
        if live.session.mode != "voice" or live.listener is None:
            raise InterviewError("text_mode", "this interview runs in text mode: send answer_text")
        started = time.perf_counter()
        transcript = await live.listener.finish(self.stt_finalize_timeout)
        waited = time.perf_counter() - started
        stt_name = getattr(self.stt, "name", "stt")
        self.metrics.vendor_seconds.labels(stt_name, "stt_final", "ok" if transcript else "empty").observe(waited)
        if not transcript:
            raise InterviewError("empty_answer", "no speech was recognised; please answer again")
        timings = {"stt_final_s": round(waited, 4)}
        outcome = await self.answer(live, index, transcript, timings)
        return outcome, transcript

    async def end(self, live: LiveSession, reason: str = "ended_by_candidate") -> None:
        """End the interview early: feedback becomes pending and is produced."""
        async with live.lock:
            self._check_present(live)
            if live.session.status is Status.ENDED or live.session.pending is PendingStep.FEEDBACK:
                return
            await self._commit(live, lambda s: logic.request_end(s, reason))
        self.ensure_step(live)

    async def wait_feedback(self, live: LiveSession, timeout: float) -> Feedback:
        """Wait until the session's feedback exists (raises TimeoutError)."""
        deadline = time.monotonic() + timeout
        while live.session.feedback is None:
            if live.session.status is Status.ENDED:
                raise InterviewError("no_feedback", "the session ended without feedback")
            self.ensure_step(live)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            if live.step_task is not None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(live.step_task), remaining)
            else:
                await asyncio.sleep(min(0.05, remaining))
        return live.session.feedback

    async def delete(self, session_id: str) -> bool:
        """Delete a session from memory and the store."""
        live = self.live.pop(session_id, None)
        if live is not None:
            live.deleted = True
            if live.step_task is not None:
                live.step_task.cancel()
            self.metrics.sessions_live.set(len(self.live))
        return await self.store.delete(session_id)

    @staticmethod
    def _check_present(live: LiveSession) -> None:
        if live.deleted:
            raise InterviewError("not_found", "the session was deleted")

    # -- pending steps --------------------------------------------------------

    def ensure_step(self, live: LiveSession) -> None:
        """Start the task that runs the session's pending steps, unless it runs already."""
        if live.session.pending is None or live.busy or live.deleted or self._closing:
            return
        live.step_task = asyncio.create_task(self._run_steps(live), name=f"steps:{live.id}")

    async def _run_steps(self, live: LiveSession) -> None:
        try:
            while not live.deleted and (kind := live.session.pending) is not None:
                await self.emitter.emit(live.id, "state", {"status": "processing"})
                if kind is PendingStep.QUESTION:
                    question = await self._write_question(live)
                    applied = await self._apply_step(live, kind, question)
                    if question.speech is not None:
                        if applied:
                            await question.speech.finish()
                        else:
                            await question.speech.cancel()
                else:
                    await self._apply_step(live, kind, await self._write_feedback(live.session))
        except asyncio.CancelledError:
            raise
        except Exception:  # pragma: no cover - a bug; keep the process alive
            log.exception("pending step of session %s failed", live.id)
        finally:
            if live.sid is None and self.live.get(live.id) is live and not self._closing:
                live.step_task = None
                self.release(live)

    async def _apply_step(self, live: LiveSession, kind: PendingStep, work: Any) -> bool:
        """Save and emit a finished step, retrying while the store is down; False when it was superseded."""
        delay = self.store_retry_delay
        warned = False
        while True:
            async with live.lock:
                if live.deleted or live.session.pending is not kind:
                    return False  # superseded (ended early) or already done elsewhere
                try:
                    if kind is PendingStep.QUESTION:
                        event = await self._commit(
                            live, lambda s: logic.add_question(s, work.text, work.fallback, timings=work.timings)
                        )
                        self.metrics.questions.labels(str(work.fallback).lower()).inc()
                        await self._emit_events(live, [event])
                        await self.emitter.emit(live.id, "state", {"status": "awaiting_answer"})
                    else:
                        event = await self._commit(live, lambda s: logic.set_feedback(s, work))
                        self.metrics.sessions_ended.labels(live.session.end_reason or "completed").inc()
                        await self._emit_events(live, [event])
                        await self.emitter.emit(live.id, "state", {"status": "ended"})
                        self._close_listener(live)
                    return True
                except InterviewError as exc:
                    if exc.code != "store_unavailable":
                        continue  # reloaded after a conflict: check again whether the step is still owed
                    if not warned:
                        await self.emitter.emit(live.id, "error", exc.as_dict())
                        warned = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    def _new_speech(self, live: LiveSession, index: int) -> QuestionSpeech:
        backlog = getattr(self.emitter, "backlog", None)
        return QuestionSpeech(
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

    async def _speak_stream(self, llm: LLMProvider, request: QuestionRequest, speech: QuestionSpeech) -> tuple[str, float]:
        """Stream a question from ``llm``; each finished sentence goes to ``speech`` at once.

        Without pipelining the whole text is spoken after the LLM has finished
        (the sequential way, kept for comparison). Returns the text and the
        time to the first token.
        """
        started = time.perf_counter()
        first_token: float | None = None
        splitter = SentenceSplitter() if self.pipelining else None
        parts: list[str] = []
        async for piece in llm.stream_question(request):
            if first_token is None and piece:
                first_token = time.perf_counter() - started
            parts.append(piece)
            if splitter is not None:
                for sentence in splitter.push(piece):
                    speech.say(sentence)
        text = "".join(parts).strip()
        if not text:
            raise ValueError("the LLM wrote an empty question")
        if splitter is not None:
            for sentence in splitter.flush():
                speech.say(sentence)
        else:
            speech.say(text)
        return text, first_token or 0.0

    async def _write_question(self, live: LiveSession) -> QuestionText:
        session = live.session
        index = logic.next_question_index(session)
        request = QuestionRequest(
            config=session.config,
            turns=tuple(t.model_copy() for t in session.turns),
            index=index,
            is_last=logic.is_last_index(session, index),
        )
        started = time.perf_counter()
        speech = self._new_speech(live, index)
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
            speech = self._new_speech(live, index)
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

    async def _write_feedback(self, session: Session) -> Feedback:
        request = FeedbackRequest(config=session.config, turns=tuple(t.model_copy() for t in session.turns))
        try:
            return await self.llm.feedback(request)
        except Exception as exc:
            if self.llm is self.fallback_llm:
                raise
            log.warning("LLM %s failed to write feedback (%s); using heuristics", self.llm.name, exc)
            self.metrics.llm_fallbacks.labels("feedback").inc()
            feedback = await self.fallback_llm.feedback(request)
            return feedback.model_copy(update={"fallback": True})

    # -- housekeeping ---------------------------------------------------------

    async def sweep(self, session_ttl: float, abandoned_ttl: float, now: datetime | None = None) -> dict[str, int]:
        """End abandoned sessions, purge expired ended ones, drop idle ones from memory."""
        now = now or utcnow()
        purged = ended = 0
        for summary in await self.store.list_summaries():
            if summary.status is Status.ENDED:
                ended_at = summary.ended_at or summary.updated_at
                if now - ended_at >= timedelta(seconds=session_ttl):
                    live = self.live.get(summary.session_id)
                    if live is None or live.sid is None:
                        if await self.delete(summary.session_id):
                            purged += 1
                            self.metrics.swept.labels("purged").inc()
            elif now - summary.updated_at >= timedelta(seconds=abandoned_ttl):
                live = await self.get(summary.session_id)
                if live is None or live.sid is not None:
                    continue
                async with live.lock:
                    if live.session.status is Status.ACTIVE:
                        await self._commit(live, lambda s: logic.abandon(s, now))
                        ended += 1
                        self.metrics.swept.labels("ended").inc()
                        self.metrics.sessions_ended.labels("abandoned").inc()
                self.release(live)
        for live in list(self.live.values()):
            self.release(live)
        return {"purged": purged, "ended": ended}

    async def drain(self, timeout: float) -> None:
        """Stop starting new steps and wait up to ``timeout`` for the running ones."""
        self._closing = True
        tasks = [live.step_task for live in self.live.values() if live.busy]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def close(self) -> None:
        """Stop running steps (they stay pending in the store and finish after a restart)."""
        self._closing = True
        tasks = [live.step_task for live in self.live.values() if live.step_task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(
            *(live.listener.close() for live in self.live.values() if live.listener is not None), return_exceptions=True
        )
        for vendor in (self.llm, self.tts, self.stt):
            aclose = getattr(vendor, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
