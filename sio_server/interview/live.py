"""What a running process holds of a session: the session itself, its lock, audio and step."""

from __future__ import annotations

import asyncio
import time
import zlib
from datetime import datetime
from typing import Any, Protocol

from ..domain.model import Session, Status
from .audio_queue import AudioQueue
from .listening import AnswerListener
from .speech import QuestionSpeech
from .spend import SessionSpend


class Emitter(Protocol):
    """Where the service sends outbound events (a Socket.IO room in production)."""

    async def emit(self, session_id: str, event: str, data: dict[str, Any]) -> None:
        """Send ``event`` to the client bound to ``session_id``, if any."""
        ...

    def backlog(self, session_id: str) -> int:
        """Bytes (estimated) already queued for the session's socket and not yet written."""
        ...


def _encode(session: Session) -> bytes:
    # Fields at their defaults are left out (a fresh session's JSON is 40 % smaller); decoding puts them back.
    return session.model_dump_json(exclude_defaults=True).encode()


def _decode(data: bytes) -> Session:
    return Session.model_validate_json(data)


def _compress(data: bytes) -> bytes:
    # Level 1: about 14 µs for a fresh session's 0.7 KB, which it halves (under pymalloc's 512-byte blocks);
    # a CV or job description kept in the config shrinks several times.
    return zlib.compress(data, 1)


class LiveSession:
    """A session held in memory, with what only a running process has.

    The session is kept in one of two forms, never both: the pydantic
    :class:`Session` while something uses it, or, once :meth:`compact` found it
    idle, its JSON compressed, several times smaller than the model's objects. :attr:`session` builds the model again on first use.

    Which socket holds it is not here: :class:`~.registry.SessionRegistry`
    owns the one map of socket ↔ session.
    """

    __slots__ = (
        "id", "_model", "_stored", "_ended_at", "audio", "lock", "step_task", "touched", "deleted", "listener",
        "speech", "speaking", "closing", "spend",
    )

    def __init__(
        self,
        session: Session,
        audio: AudioQueue,
        listener: AnswerListener | None = None,
        spend: SessionSpend | None = None,
    ) -> None:
        self.id: str = session.id  # never changes: read without building the model
        self._model: Session | None = session
        self._stored: bytes | None = None  # the session's compressed JSON while compact (then ``_model`` is None)
        self._ended_at: datetime | None = None  # while compact: when the session ended, None while active
        self.audio = audio
        self.lock = asyncio.Lock()
        self.step_task: asyncio.Task[None] | None = None
        self.touched = time.monotonic()
        self.deleted = False
        self.listener = listener
        self.speech: QuestionSpeech | None = None  # the latest question's speech (barge-in stops it)
        self.speaking: asyncio.Task[None] | None = None  # ends the latest question's speech (owned by the StepRunner)
        self.closing: dict[int, asyncio.Future[Any]] = {}  # spoken answers being closed, by index
        self.spend = spend if spend is not None else SessionSpend()  # its budgets (drafts, vendor calls, audio, STT)

    @property
    def session(self) -> Session:
        """The session (built from its compact form on first use after :meth:`compact`)."""
        model = self._model
        if model is None:
            model = self._model = _decode(zlib.decompress(self._stored or b""))
            self._stored = None
        return model

    @session.setter
    def session(self, session: Session) -> None:
        self._model, self._stored = session, None

    @property
    def compacted(self) -> bool:
        """True while the session is held as its compressed JSON."""
        return self._model is None

    @property
    def ended_at(self) -> datetime | None:
        """When the session ended (its ``ended_at``, else its last update), or None while it is active."""
        model = self._model
        if model is None:
            return self._ended_at
        if model.status is not Status.ENDED:
            return None
        return model.ended_at or model.updated_at

    def snapshot(self) -> bytes:
        """The session as it is now, as JSON bytes (the model is not built for it)."""
        model = self._model
        if model is None:
            return zlib.decompress(self._stored or b"")
        return _encode(model)

    def restore(self, snapshot: bytes) -> None:
        """Put back the session of an earlier :meth:`snapshot`."""
        self.session = _decode(snapshot)

    def compact(self) -> bool:
        """Keep the session as its compressed JSON when nothing uses it (no lock, step, speech or closing answer).

        True when it was compacted now. The model is built again by the next :attr:`session`.
        """
        model = self._model
        if model is None or self.lock.locked() or self.busy or self.closing or self.deleted:
            return False
        if self.speaking is not None and not self.speaking.done():
            return False
        self._ended_at = self.ended_at
        self._stored, self._model = _compress(_encode(model)), None
        return True

    def speech_ended(self, speech: QuestionSpeech) -> None:
        """``speech`` sent its ``tts_end`` or was abandoned: nothing is left for a barge-in to stop."""
        if self.speech is speech:
            self.speech = None

    @property
    def busy(self) -> bool:
        """True while a pending step runs."""
        return self.step_task is not None and not self.step_task.done()
