"""Preemptive generation: the next question drafted while the candidate may still be answering.

When the transcript of an answer has been stable for ``PREEMPTIVE_STABLE_MS``
(before the end of the answer is confirmed), :meth:`Drafts.start` asks the LLM
for the next question as if the answer were the transcript so far. A draft is
silent: nothing is emitted, persisted or spoken. If the candidate goes on
speaking (the transcript changes) the draft is cancelled and forgotten; if the
answer closes with the same words it is *settled* and the question step takes
it (:meth:`Drafts.take`) instead of calling the LLM again, and then saves
before it emits, as always. One draft per session at a time, and at most
``PREEMPTIVE_MAX_DRAFTS`` per answer, each after the transcript grew by
``PREEMPTIVE_MIN_NEW_WORDS`` (the session's :class:`~.spend.SessionSpend`
decides): an answer that never ends is not an LLM pump.

A settled draft may still be being written when its question is due: the
question's speech then takes its pieces as the LLM streams them
(:meth:`Draft.pieces`), sentence by sentence, as an undrafted question's would,
so drafting is never slower than writing afresh. A draft whose writing fails,
or falls back to another LLM after pieces went out, or to the offline
interviewer, raises :class:`DraftFailed` there, and the question is written as
usual.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from ..aio.tasks import OwnedTasks
from . import rules
from .live import LiveSession
from .turn_watch import words_of

Write = Callable[[LiveSession, int, str, Callable[[str], None]], Awaitable[str]]


class DraftFailed(Exception):
    """The draft cannot be used as the question: write it as usual."""


@dataclass
class Draft:
    """A next question being written for the answer to ``index`` being ``words``; its pieces so far in ``parts``."""

    index: int
    words: str
    task: asyncio.Task[str] = field(init=False)  # set by Drafts.start as soon as the draft exists
    settled: bool = False
    parts: list[str] = field(default_factory=list)
    grew: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, piece: str) -> None:
        """One more piece from the LLM (the draft's ``on_piece``)."""
        self.parts.append(piece)
        self.grew.set()

    async def pieces(self) -> AsyncIterator[str]:
        """The pieces written so far, then each as it is written, until the draft is done.

        Raises :class:`DraftFailed` when the draft did not end as a whole question.
        """
        sent = 0
        while True:
            self.grew.clear()
            while sent < len(self.parts):
                yield self.parts[sent]
                sent += 1
            if self.task.done():
                break
            waiter = asyncio.ensure_future(self.grew.wait())
            try:
                await asyncio.wait({waiter, self.task}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
        while sent < len(self.parts):  # written between the last wake-up and the end
            yield self.parts[sent]
            sent += 1
        if self.task.cancelled():
            raise DraftFailed("cancelled")
        if self.task.exception() is not None:
            raise DraftFailed(repr(self.task.exception())) from self.task.exception()
        if not self.task.result().strip():
            raise DraftFailed("only the offline interviewer could write it")


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
        if not words or rules.is_last_index(live.session, index):
            if current is not None:
                self._drop(live.id)
            return
        calls_needed = live.session.config.max_questions - index + 1  # the questions still to ask, and the feedback
        if not live.spend.may_draft(index, len(words.split()), calls_needed):
            return  # the current draft (if any) stays: it may still match the answer's end
        if current is not None:
            self._drop(live.id)
        draft = Draft(index, words)
        draft.task = self.tasks.spawn(self.write(live, index, transcript, draft.add), name=f"draft:{live.id}:{index + 1}")
        self.drafts[live.id] = draft
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

    def take(self, live: LiveSession) -> Draft | None:
        """The settled draft of the session's next question (written or still being written), or None.

        None: the question is written as usual. The caller owns the returned draft (its task is still
        cancelled by :meth:`close`).
        """
        draft = self.drafts.get(live.id)
        if draft is None:
            return None
        if not draft.settled or draft.index + 1 != rules.next_question_index(live.session):
            self._drop(live.id)
            return None
        del self.drafts[live.id]
        self.used += 1
        return draft

    async def close(self) -> None:
        """Cancel every draft."""
        self.drafts.clear()
        await self.tasks.close()
