"""One session's spend: drafts per answer, vendor LLM calls, TTS characters and seconds, inbound audio, STT streams.

A session held in memory has one :class:`SessionSpend` (on its
:class:`~.live.LiveSession`). The fallback chains ask it before every vendor
call (it is their :class:`~..vendors.budget.Spend`); past a budget the
session's new work goes to the offline link (LLM) or gets no vendor speech
(TTS), told once per budget with a ``warning`` (``budget_spent``, or
``llm_busy`` when the process's :class:`~..vendors.budget.LLMGate` refused).
Drafts are optional work: refused quietly, and only from the calls the rest
of the interview does not need. Every refusal is counted in
``interview_budget_refusals{budget}``.

The counts live with the session in memory: a session loaded again (after a
restart or by another process) starts them afresh; what bounds it for good is
the number of questions (``max_questions``) and the drafts per answer.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..aio.token_bucket import TokenBucket
from ..domain.model import Session
from ..observability.metrics import Metrics
from ..vendors.budget import LLM_CONCURRENT, LLM_PER_MINUTE

log = logging.getLogger(__name__)

SESSION_LLM_CALLS = "session_llm_calls"
SESSION_TTS_CHARS = "session_tts_chars"
SESSION_TTS_SECONDS = "session_tts_seconds"
DRAFTS_PER_ANSWER = "drafts_per_answer"
AUDIO_REALTIME = "audio_realtime"
STT_COOLDOWN = "stt_cooldown"
STT_STREAMS = "stt_streams_per_answer"

LINEAR16_BYTES_PER_SECOND = 32_000  # 16 kHz, 16-bit, mono
TTS_BYTES_PER_SECOND = {"audio/mpeg": 16_000}  # mp3 at 128 kbps (ElevenLabs mp3_44100_128, OpenAI mp3)
TTS_DEFAULT_BYTES_PER_SECOND = 16_000

WARNINGS = {
    SESSION_LLM_CALLS: ("budget_spent", "this interview used its share of the AI interviewer; backup questions follow"),
    SESSION_TTS_CHARS: ("budget_spent", "this interview used its share of spoken questions; they are shown as text"),
    SESSION_TTS_SECONDS: ("budget_spent", "this interview used its share of spoken questions; they are shown as text"),
    LLM_CONCURRENT: ("llm_busy", "the AI interviewer is busy; a backup question is used"),
    LLM_PER_MINUTE: ("llm_busy", "the AI interviewer is busy; a backup question is used"),
    AUDIO_REALTIME: ("audio_too_fast", "audio is arriving faster than real time; the excess was dropped"),
    STT_STREAMS: ("stt_streams_spent", "this answer cannot be listened to again; please type it"),
}


def warning(budget: str) -> dict[str, str]:
    """The ``warning`` event telling that ``budget`` refused work."""
    code, message = WARNINGS[budget]
    return {"code": code, "budget": budget, "message": message}


class SpendEmitter(Protocol):
    """Where a session's budget warnings go."""

    async def emit(self, session_id: str, event: str, data: dict[str, Any]) -> None:
        """Send a live event to the session's socket."""
        ...


@dataclass(frozen=True)
class SpendPolicy:
    """The budgets of one session (``PREEMPTIVE_*``, ``SESSION_*``, ``AUDIO_*``, ``STT_*`` settings)."""

    max_drafts: int = 2
    draft_min_new_words: int = 4
    llm_calls: int = 40
    tts_chars: int = 12_000
    tts_seconds: float = 900.0
    audio_factor: float = 1.25
    audio_burst_s: float = 2.0
    webm_bitrate: int = 128_000
    stt_streams_per_answer: int = 8
    stt_cooldown_s: float = 2.0

    def audio_bytes_per_second(self, audio_format: str) -> float:
        """Inbound audio accepted per second: ``audio_factor`` × the format's real time (webm: its bitrate ceiling)."""
        real = LINEAR16_BYTES_PER_SECOND if audio_format == "linear16" else self.webm_bitrate / 8
        return real * self.audio_factor


class SessionSpend:
    """The budgets of one session and what it spent (see the module docstring)."""

    optional = False

    def __init__(
        self,
        policy: SpendPolicy | None = None,
        session_id: str = "",
        audio_format: str = "webm",
        emitter: SpendEmitter | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or SpendPolicy()
        self.session_id = session_id
        self.emitter = emitter
        self.metrics = metrics
        self.clock = clock
        self.llm_calls = 0
        self.tts_chars = 0
        self.tts_seconds = 0.0
        self.draft_index = 0  # the answer the drafts below were made for
        self.drafts = 0
        self.draft_words = 0  # words of the transcript at the last draft
        rate = self.policy.audio_bytes_per_second(audio_format)
        self.audio = TokenBucket(rate, rate * self.policy.audio_burst_s / self.policy.audio_factor)
        self.audio.stamp = clock()
        self.streams = 0  # STT streams opened for the open answer
        self.streaming = False  # a stream was opened since the last empty answer
        self.quiet_until = -math.inf  # no STT stream before this (after an empty answer_end)
        self.warned: set[str] = set()

    # -- counting and telling --------------------------------------------------------

    def count(self, budget: str) -> None:
        """Count one refusal by ``budget``."""
        if self.metrics is not None:
            self.metrics.budget_refusals.labels(budget).inc()

    async def refused(self, budget: str) -> None:
        """A vendor call (or audio, or a stream) was refused by ``budget``: count it, warn once per budget."""
        self.count(budget)
        if budget in self.warned:
            return
        self.warned.add(budget)
        log.info("session %s: the %s budget is spent", self.session_id, budget)
        if self.emitter is not None:
            await self.emitter.emit(self.session_id, "warning", warning(budget))

    # -- LLM (the chains' Spend) --------------------------------------------------------

    def llm_allowed(self) -> str | None:
        """None while the session may make one more vendor LLM call."""
        return SESSION_LLM_CALLS if self.llm_calls >= self.policy.llm_calls else None

    def llm_charged(self) -> None:
        """One vendor LLM call started."""
        self.llm_calls += 1

    def tts_allowed(self, chars: int) -> str | None:
        """None while ``chars`` more characters may be spoken by a TTS vendor."""
        if self.tts_chars + chars > self.policy.tts_chars:
            return SESSION_TTS_CHARS
        if self.tts_seconds >= self.policy.tts_seconds:
            return SESSION_TTS_SECONDS
        return None

    def tts_charged(self, chars: int = 0, audio: int = 0, mime: str = "") -> None:
        """``chars`` went to a TTS vendor; ``audio`` bytes of ``mime`` came back (seconds estimated by bitrate)."""
        self.tts_chars += chars
        self.tts_seconds += audio / TTS_BYTES_PER_SECOND.get(mime, TTS_DEFAULT_BYTES_PER_SECOND)

    # -- drafts ---------------------------------------------------------------------

    def may_draft(self, index: int, words: int, calls_needed: int) -> bool:
        """Whether the answer to ``index``, ``words`` long now, may get another draft (counted when True).

        At most ``max_drafts`` per answer, each after the transcript grew by
        ``draft_min_new_words`` since the last; never from the ``calls_needed``
        vendor calls the rest of the interview needs (its questions and feedback).
        """
        if index != self.draft_index:
            self.draft_index, self.drafts, self.draft_words = index, 0, 0
        if self.drafts and words - self.draft_words < self.policy.draft_min_new_words:
            return False  # not grown enough: no refusal, the transcript may grow on
        if self.drafts >= self.policy.max_drafts:
            self.count(DRAFTS_PER_ANSWER)
            return False
        if self.llm_calls + 1 + calls_needed > self.policy.llm_calls:
            self.count(SESSION_LLM_CALLS)
            return False
        self.drafts += 1
        self.draft_words = words
        return True

    def for_draft(self) -> DraftSpend:
        """The session's budget as a draft sees it: optional work, refused quietly."""
        return DraftSpend(self)

    # -- inbound audio and STT streams ------------------------------------------------

    def take_audio(self, size: int) -> bool:
        """Whether ``size`` more bytes of audio fit the session's real-time rate (counted when not)."""
        if self.audio.take(size, self.clock()):
            return True
        self.count(AUDIO_REALTIME)
        return False

    def stt_quiet_for(self) -> float:
        """Seconds before a new STT stream may open (the cooldown after an empty answer; counted when > 0)."""
        quiet = max(0.0, self.quiet_until - self.clock())
        if quiet:
            self.count(STT_COOLDOWN)
        return quiet

    def stt_open(self) -> str | None:
        """None when a new STT stream may open (counted as opened), else the budget that refuses it."""
        if self.streams >= self.policy.stt_streams_per_answer:
            return STT_STREAMS
        self.streams += 1
        self.streaming = True
        return None

    def stt_empty(self) -> None:
        """An answer whose stream heard nothing closed: the next stream waits ``stt_cooldown_s``."""
        if self.streaming:
            self.quiet_until = self.clock() + self.policy.stt_cooldown_s
        self.streaming = False

    def answer_recorded(self) -> None:
        """An answer was recorded: the next one may open its own streams."""
        self.streams = 0
        self.streaming = False
        self.quiet_until = -math.inf
        self.warned.discard(STT_STREAMS)


class DraftSpend:
    """A session's :class:`SessionSpend` seen by a draft: same counts, optional, never warned."""

    optional = True

    def __init__(self, spend: SessionSpend) -> None:
        self.spend = spend

    def llm_allowed(self) -> str | None:
        """As the session's."""
        return self.spend.llm_allowed()

    def llm_charged(self) -> None:
        """As the session's."""
        self.spend.llm_charged()

    def tts_allowed(self, chars: int) -> str | None:
        """Drafts are never spoken by themselves."""
        return self.spend.tts_allowed(chars)

    def tts_charged(self, chars: int = 0, audio: int = 0, mime: str = "") -> None:
        """As the session's."""
        self.spend.tts_charged(chars, audio, mime)

    async def refused(self, budget: str) -> None:
        """Counted, not warned: a draft is not work the candidate waits for."""
        self.spend.count(budget)


@dataclass(frozen=True)
class SpendFor:
    """Makes the budgets of each session brought into memory (the registry's ``spend_for``)."""

    policy: SpendPolicy
    emitter: SpendEmitter | None = None
    metrics: Metrics | None = None

    def __call__(self, session: Session) -> SessionSpend:
        return SessionSpend(self.policy, session.id, session.config.audio_format, self.emitter, self.metrics)
