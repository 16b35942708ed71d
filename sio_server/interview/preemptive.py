"""Preemptive generation: the next question drafted while the candidate may still be answering.

When the transcript of an answer has been stable for ``PREEMPTIVE_STABLE_MS``
(before the end of the answer is confirmed), :meth:`Drafts.start` asks the LLM
for the next question as if the answer were the transcript so far. A draft is
silent: nothing is emitted, persisted or spoken. If the candidate goes on
speaking (the transcript changes) the draft is cancelled and forgotten; if the
answer closes with the same words it is *settled* and the question step takes
it (:meth:`Drafts.take`) instead of calling the LLM again, and then saves
before it emits, as always. One draft per session at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from . import logic
from .live import LiveSession
from .tasks import OwnedTasks
from .turn_watch import words_of

log = logging.getLogger(__name__)

Write = Callable[[LiveSession, int, str], Awaitable[str]]


@dataclass
class Draft:
    """A next question being written for the answer to ``index`` being ``words``."""

    index: int
    words: str
    task: asyncio.Task[str]
    settled: bool = False


class Drafts:
    """The drafts of every session (owned tasks; cancelled at :meth:`close`)."""

    def __init__(self, write: Write) -> None:
        self.write = write
        self.tasks = OwnedTasks("drafts")
        self.drafts: dict[str, Draft] = {}
        self.started = 0
        self.discarded = 0
        self.used = 0

    def start(self, live: LiveSession, index: int, transcript: str) -> None:
        """Draft the question after ``index`` for an answer of ``transcript`` (unless it would be the feedback)."""
        words = words_of(transcript)
        current = self.drafts.get(live.id)
        if current is not None and current.index == index and current.words == words:
            return
        if current is not None:
            self._drop(live.id)
        if not words or logic.is_last_index(live.session, index):
            return
        task = self.tasks.spawn(self.write(live, index, transcript), name=f"draft:{live.id}:{index + 1}")
        self.drafts[live.id] = Draft(index, words, task)
        self.started += 1

    def _drop(self, session_id: str) -> Draft | None:
        draft = self.drafts.pop(session_id, None)
        if draft is not None:
            draft.task.cancel()
            self.discarded += 1
        return draft

    async def discard(self, session_id: str, unless: str | None = None) -> None:
        """Cancel the session's draft (kept when ``unless`` are the words it was drafted for)."""
        draft = self.drafts.get(session_id)
        if draft is None or (unless is not None and words_of(unless) == draft.words):
            return
        self._drop(session_id)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await draft.task

    def settle(self, session_id: str, index: int, transcript: str) -> None:
        """The answer to ``index`` closed as ``transcript``: keep a matching draft, drop any other."""
        draft = self.drafts.get(session_id)
        if draft is None:
            return
        if draft.index == index and draft.words == words_of(transcript):
            draft.settled = True
        else:
            self._drop(session_id)

    async def take(self, live: LiveSession) -> str | None:
        """The settled draft of the session's next question, or None (then the question is written as usual)."""
        draft = self.drafts.get(live.id)
        if draft is None:
            return None
        if not draft.settled or draft.index + 1 != logic.next_question_index(live.session):
            self._drop(live.id)
            return None
        del self.drafts[live.id]
        try:
            text = (await draft.task).strip()
        except asyncio.CancelledError:
            if draft.task.cancelled():
                return None
            raise
        except Exception as exc:
            log.warning("session %s: the drafted question failed (%s); writing it again", live.id, exc, exc_info=True)
            return None
        self.used += 1
        return text or None

    async def close(self) -> None:
        """Cancel every draft."""
        self.drafts.clear()
        await self.tasks.close()
