"""The interview service: the one object the transport and the HTTP routes call.

A thin facade over the parts that each own one job: the
:class:`~.registry.SessionRegistry` (live sessions, loading, leases, socket ↔
session), the :class:`~.committer.Committer` (save before emit), the
:class:`~.steps.StepRunner` (pending steps), the
:class:`~.pipeline.QuestionPipeline` (LLM → sentences → TTS → emitter), the
:class:`~.feedback.FeedbackWriter` and the :class:`~.sweeper.Sweeper` (TTLs).
Plain async Python with no socket in sight: a test drives a whole interview
through it with a recording emitter. :func:`~.build.build_service` makes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from ..cluster.leases import Leases
from ..domain.errors import InterviewError
from ..domain.model import Feedback, InterviewConfig, PendingStep, Session, Status, utcnow
from ..domain.tokens import hash_token, new_token, session_id_of, token_matches
from ..observability.metrics import Metrics
from ..store.base import SessionStore, StoreError, Tombstone
from ..vendors.fallback import FallbackLLM, FallbackTTS
from ..vendors.stt_fallback import FallbackSTT
from ..vendors.vad import VADPool
from . import rules
from .answers import Answers, check_present
from .committer import Committer
from .live import Emitter, LiveSession
from .preemptive import Drafts
from .quota import StoreQuota, client_hash
from .session_registry import SessionRegistry, SocketHost
from .steps import StepRunner
from .sweeper import Sweeper
from .voice_turns import VoiceTurns

log = logging.getLogger(__name__)

__all__ = ["Emitter", "InterviewService", "LiveSession", "ServiceParts"]


@dataclass(frozen=True)
class ServiceParts:
    """What the service is made of (built in dependency order by :func:`~.build.build_service`)."""

    store: SessionStore
    metrics: Metrics
    llm: FallbackLLM
    tts: FallbackTTS
    stt: FallbackSTT | None
    vad: VADPool | None
    leases: Leases
    registry: SessionRegistry
    committer: Committer
    steps: StepRunner
    answers: Answers
    voice: VoiceTurns
    drafts: Drafts
    quota: StoreQuota | None
    sweeper: Sweeper


class InterviewService:
    """Runs interviews: start, answer, end, resume, sweep.

    ``llm``, ``tts`` and ``stt`` are the vendors' fallback chains (the
    offline provider is the LLM's and TTS's last link). Made by
    :func:`~.build.build_service`.
    """

    def __init__(self, parts: ServiceParts) -> None:
        self.store = parts.store
        self.metrics = parts.metrics
        self.llm = parts.llm
        self.tts = parts.tts
        self.stt = parts.stt
        self.vad = parts.vad
        self.leases = parts.leases
        self.registry = parts.registry
        self.committer = parts.committer
        self.steps = parts.steps
        self.answers = parts.answers
        self.voice = parts.voice
        self.drafts = parts.drafts
        self.quota = parts.quota
        self.sweeper = parts.sweeper
        # End abandoned sessions, free expired live state, purge expired reports (see Sweeper.sweep).
        self.sweep = self.sweeper.sweep
        # Record an answer (idempotent by index) and start the next step (see Answers.record).
        self.answer = self.answers.record

    # -- sessions ---------------------------------------------------------------------

    @property
    def live(self) -> dict[str, LiveSession]:
        """The sessions this process holds, by id (owned by the registry)."""
        return self.registry.live

    async def get(self, session_id: str) -> LiveSession | None:
        """The live session, restored from the store (its pending step run again) when not held here."""
        return await self.registry.get(session_id)

    async def peek(self, session_id: str) -> Session | None:
        """The session as held here or as stored, without taking it over (for reads)."""
        return await self.registry.peek(session_id)

    async def authenticate(self, token: str) -> LiveSession | None:
        """The live session whose resume token is ``token``, or None; ``expired`` when it was purged."""
        live = await self.registry.authenticate(token)
        if live is None:
            await self.check_purged(token)
        return live

    async def check_purged(self, token: str) -> None:
        """Raise ``expired`` when ``token`` belongs to a session purged after its report retention."""
        session_id = session_id_of(token)  # called when no stored session matched the token
        if session_id is None:
            return
        tombstone = await self.tombstone(session_id)
        if tombstone is not None and token_matches(token, tombstone.token_hash):
            raise InterviewError("expired", "this interview's report was deleted after its retention period")

    async def tombstone(self, session_id: str) -> Tombstone | None:
        """The tombstone of a purged session while it is kept (``TOMBSTONE_RETENTION``), else None.

        A tombstone past its retention that the sweep has not deleted yet is already as good as gone.
        """
        tombstone = await self.store.tombstone(session_id)
        if tombstone is None or utcnow() - tombstone.purged_at >= timedelta(seconds=self.sweeper.policy.tombstone_retention):
            return None
        return tombstone

    def release(self, live: LiveSession) -> None:
        """Drop ``live`` from memory when no socket holds it and no step runs."""
        self.registry.release(live)

    async def hand_over(self, session_id: str, wait: float = 3.0) -> None:
        """Give a session up to another process (its socket is superseded)."""
        await self.registry.hand_over(session_id, wait)

    async def renew_leases(self) -> None:
        """Renew the leases of every held session; hand over the ones that are no longer ours."""
        await self.registry.renew_leases()

    async def delete(self, session_id: str) -> bool:
        """Delete a session from memory and the store."""
        self.registry.forget(session_id)
        return await self.store.delete(session_id)

    # -- sockets --------------------------------------------------------------------------

    def attach_sockets(self, host: SocketHost) -> None:
        """Set the transport that holds the sockets (called once by the namespace)."""
        self.registry.attach(host)

    def session_of(self, sid: str) -> LiveSession:
        """The session socket ``sid`` is bound to; ``no_session`` when none."""
        live = self.registry.session_of(sid)
        if live is None:
            raise InterviewError("no_session", "this connection is not bound to an interview")
        return live

    async def start_on_socket(
        self, sid: str, config: InterviewConfig, admit: Callable[[], None] | None = None, client: str | None = None
    ) -> tuple[LiveSession, str]:
        """Start an interview for socket ``sid``; a previous ended interview of the socket is let go.

        ``admit`` (admission control) may refuse the new session; it runs before any work. ``client`` is the
        address the quota counts the session against (see :meth:`start`).
        """
        current = self.registry.session_of(sid)
        if current is not None and current.session.status is Status.ACTIVE:
            raise InterviewError("already_in_session", "this connection already runs an interview")
        if admit is not None:
            admit()
        if current is not None:
            await self.registry.unbind(sid, leave=True)
        live, token = await self.start(config, client)
        await self.registry.bind(sid, live, join=True)
        self.ensure_step(live)
        return live, token

    async def resume_on_socket(self, sid: str, token: str) -> LiveSession | None:
        """Bind socket ``sid`` to the session of ``token`` (an older socket is superseded); None when no session matches."""
        live = await self.authenticate(token)
        if live is not None:
            await self.registry.bind(sid, live, join=False)
        return live

    async def socket_closed(self, sid: str) -> None:
        """Unbind a socket that went away; an idle session leaves memory (it stays in the store)."""
        await self.registry.unbind(sid, leave=False)

    def holds(self, sid: str, live: LiveSession) -> bool:
        """Whether socket ``sid`` is (still) the one bound to ``live``."""
        return self.registry.socket_of(live.id) == sid

    # -- interview actions ------------------------------------------------------------------

    def effective_mode(self, config: InterviewConfig) -> str:
        """The mode a new interview runs in: voice only when an STT provider takes its language and audio format."""
        listens = self.stt is not None and self.stt.handles(config.language, config.audio_format)
        return "voice" if config.mode == "voice" and listens else "text"

    async def start(self, config: InterviewConfig, client: str | None = None) -> tuple[LiveSession, str]:
        """Create and save a session (its first question is pending).

        ``client``: the client address that starts it (its hash is stored and counted by the quota).
        Returns the live session and its resume token (shown once, never stored).
        """
        mode = self.effective_mode(config)
        if mode == "voice":  # the turn detection in force is stored: a resumed page listens the same way
            config = config.model_copy(update={"turn_detection": self.voice.turn_detection(config)[0]})
        session = rules.new_session(config, token_hash="", mode=mode)
        token = new_token(session.session_id)
        session.token_hash = hash_token(token)
        session.client_key = client_hash(client) if client is not None else None
        session.version = 1
        try:
            if self.quota is not None:
                await self.quota.make_room(session.client_key)  # refused before anything is written
            await self.leases.acquire(session.id)
            await self.store.save(session)
        except StoreError as exc:
            self.metrics.store_errors.labels("save").inc()
            raise InterviewError("store_unavailable", "the session could not be saved; try again") from exc
        live = self.registry.hold(session)
        self.metrics.sessions_started.inc()
        return live, token

    async def answer_voice(self, live: LiveSession, index: int) -> tuple[rules.AnswerOutcome, str]:
        """Close the spoken answer to ``index``: finalize STT and record its transcript (once; see :mod:`.voice_turns`).

        Raises ``empty_answer`` (the question stays open) when nothing was heard.
        """
        check_present(live)
        return await self.voice.answer_voice(live, index)

    def hear(self, live: LiveSession, chunk: bytes | bytearray) -> dict[str, str] | None:
        """Queue a chunk of the spoken answer; returns the ``warning`` to send when it was dropped (see
        :meth:`.voice_turns.VoiceTurns.hear`); raises ``text_mode`` when the session does not take audio."""
        return self.voice.hear(live, chunk)

    def interrupt(self, live: LiveSession, index: int) -> bool:
        """Barge-in on question ``index``'s audio; False when nothing of it is being spoken."""
        check_present(live)
        return self.voice.interrupt(live, index)

    async def end(self, live: LiveSession, reason: str = "ended_by_candidate") -> None:
        """End the interview early: feedback becomes pending and is produced."""
        async with live.lock:
            check_present(live)
            if live.session.status is Status.ENDED or live.session.pending is PendingStep.FEEDBACK:
                return
            await self.committer.commit(live, lambda s: rules.request_end(s, reason))
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

    def ensure_step(self, live: LiveSession) -> None:
        """Start the task that runs the session's pending steps, unless it runs already."""
        self.steps.ensure(live)

    # -- housekeeping -------------------------------------------------------------------------

    async def drain(self, timeout: float) -> None:
        """Stop starting new steps and wait up to ``timeout`` for the running ones."""
        await self.steps.drain(timeout)

    async def close(self) -> None:
        """Stop the sweeper and running steps (they stay pending in the store), close vendors."""
        await self.sweeper.stop()
        await self.drafts.close()
        await self.steps.close()
        await self.registry.close()
        for vendor in (self.llm, self.tts, self.stt, self.vad):
            aclose = getattr(vendor, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception:
                    log.exception("closing vendor %s failed", getattr(vendor, "name", vendor))
