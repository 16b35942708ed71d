"""What a running process holds of a session: the session itself, its lock, audio and step."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..domain.model import Session
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


@dataclass(slots=True)
class LiveSession:
    """A session held in memory, with what only a running process has.

    Which socket holds it is not here: :class:`~.registry.SessionRegistry`
    owns the one map of socket ↔ session.
    """

    session: Session
    audio: AudioQueue
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    step_task: asyncio.Task[None] | None = None
    touched: float = field(default_factory=time.monotonic)
    deleted: bool = False
    listener: AnswerListener | None = None
    speech: QuestionSpeech | None = None  # the latest question's speech (barge-in stops it)
    speaking: asyncio.Task[None] | None = None  # ends the latest question's speech (owned by the StepRunner)
    closing: dict[int, asyncio.Future[Any]] = field(default_factory=dict)  # spoken answers being closed, by index
    spend: SessionSpend = field(default_factory=SessionSpend)  # its budgets (drafts, vendor calls, audio, STT)

    @property
    def id(self) -> str:
        """The session id."""
        return self.session.id

    def speech_ended(self, speech: QuestionSpeech) -> None:
        """``speech`` sent its ``tts_end`` or was abandoned: nothing is left for a barge-in to stop."""
        if self.speech is speech:
            self.speech = None

    @property
    def busy(self) -> bool:
        """True while a pending step runs."""
        return self.step_task is not None and not self.step_task.done()
