"""What a fallback chain asks before a vendor call: the caller's budget and the process's LLM gate.

A chain consults these before each vendor link; a refusal skips the vendor
links, so the chain's last, offline link does the work (for TTS: no vendor
speech). Nothing here does I/O: the caller's :class:`Spend` (one session's,
see :mod:`sio_server.interview.spend`) counts and warns.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

LLM_CONCURRENT = "llm_concurrent"
LLM_PER_MINUTE = "llm_per_minute"


class Spend(Protocol):
    """One caller's vendor budget (a session's), asked by the chains before each vendor call."""

    optional: bool  # a draft: work that may be skipped, refused before the process's limits are reached

    def llm_allowed(self) -> str | None:
        """None when one more vendor LLM call fits, else the name of the budget that is spent."""
        ...

    def llm_charged(self) -> None:
        """A vendor LLM call was started."""
        ...

    def tts_allowed(self, chars: int) -> str | None:
        """None when ``chars`` more characters may go to a TTS vendor, else the name of the spent budget."""
        ...

    def tts_charged(self, chars: int = 0, audio: int = 0, mime: str = "") -> None:
        """``chars`` characters went to a TTS vendor, ``audio`` bytes of ``mime`` came back."""
        ...

    async def refused(self, budget: str) -> None:
        """A vendor call was refused by ``budget`` (the caller's or the process's): count it, warn once."""
        ...


class LLMGate:
    """Process-wide limits on vendor LLM calls: ``concurrent`` at once, ``per_minute`` started in any 60 s.

    Optional work (drafts) is admitted only below ``optional_share`` of each
    limit, so drafting never takes the room of a question a candidate waits for.
    """

    def __init__(
        self, concurrent: int, per_minute: int, optional_share: float = 0.5, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.concurrent = concurrent
        self.per_minute = per_minute
        self.optional_share = optional_share
        self.clock = clock
        self.running = 0
        self.started: deque[float] = deque()

    def enter(self, optional: bool = False) -> str | None:
        """Admit one call (the caller must :meth:`leave`); else the name of the limit that refused it."""
        now = self.clock()
        while self.started and now - self.started[0] >= 60.0:
            self.started.popleft()
        share = self.optional_share if optional else 1.0
        if self.running >= self.concurrent * share:
            return LLM_CONCURRENT
        if len(self.started) >= self.per_minute * share:
            return LLM_PER_MINUTE
        self.running += 1
        self.started.append(now)
        return None

    def leave(self) -> None:
        """A call admitted by :meth:`enter` ended."""
        self.running = max(0, self.running - 1)
