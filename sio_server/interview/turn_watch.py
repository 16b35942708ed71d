"""Watching one session's spoken answers: hands-free end, the answer's time limit, a stable transcript.

The STT callbacks only record what was heard and wake the watcher; every
decision is taken in the watcher's one timer task, which sleeps until the next
moment something can change (:meth:`TurnDetector.next_check`, the answer's
deadline, the transcript becoming stable) instead of polling. So ending an
answer (which finalizes the STT stream and waits for its last results) never
runs inside the STT reader that delivers those results.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Protocol

from .turn_detection import TurnDetectionConfig, TurnDetector, TurnSignal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchPolicy:
    """How a session's answers are watched (from its config and the settings)."""

    auto: bool  # turn_detection == "auto": silence ends the answer
    detection: TurnDetectionConfig
    preemptive_stable_s: float = 0.0  # 0: no preemptive generation


@dataclass(frozen=True)
class OpenQuestion:
    """The question being answered and when its time runs out (epoch seconds; None: no limit)."""

    index: int
    deadline: float | None = None


class TurnHooks(Protocol):
    """What the watcher asks of the session it watches."""

    def open_question(self) -> OpenQuestion | None:
        """The open question, or None while none is (a question is being written, the interview ended)."""
        ...

    async def notify(self, event: str, data: dict[str, object]) -> None:
        """Send a live event to the candidate."""
        ...

    def words_heard(self) -> None:
        """Words were transcribed (they confirm an interruption of the question's speech)."""
        ...

    async def end_answer(self, index: int, reason: str) -> None:
        """Close the answer to ``index`` exactly as ``answer_end`` does."""
        ...

    async def transcript_stable(self, index: int, transcript: str) -> None:
        """The transcript has not changed for a while: the next question may be drafted."""
        ...

    async def transcript_changed(self, index: int, transcript: str) -> None:
        """The transcript changed after it was reported stable."""
        ...

    async def closed(self) -> None:
        """The watcher stopped (its session left memory or ended)."""
        ...


def words_of(text: str) -> str:
    """``text`` compared as words (case, spacing and punctuation at word ends ignored)."""
    return " ".join(w.strip(".,?!;:").lower() for w in text.split())


class TurnWatcher:
    """One session's answers, watched by one owned timer task (started lazily, cancelled by :meth:`close`)."""

    def __init__(self, policy: WatchPolicy, hooks: TurnHooks) -> None:
        self.policy = policy
        self.hooks = hooks
        self.detector = TurnDetector(policy.detection)
        self.finals: list[str] = []
        self.interim = ""
        self.changed_at: float | None = None
        self.stable_reported = False
        self.utterance_ended = False
        self.timed_out: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._acting = False  # inside a hook: close() lets it finish (an answer half-closed is worse)

    @property
    def transcript(self) -> str:
        """What was heard of the current answer: its finals and the interim result still open."""
        return " ".join([*self.finals, self.interim]).strip()

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def wake(self) -> None:
        """Look again now (a question was asked, something was heard); starts the task at first use."""
        if self._task is None and not self._closing:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="turn-watch")
        self._wake.set()

    # -- what the STT stream reports (no decisions here: see the module docstring) --

    def heard(self, text: str, is_final: bool) -> None:
        """A transcript result arrived."""
        before = words_of(self.transcript)
        now = self._now()
        if is_final:
            self.finals.append(text)
            self.interim = ""
        else:
            self.interim = text
        if words_of(self.transcript) != before:
            self.hooks.words_heard()
            self.detector.heard(now, text, is_final)
            self.changed_at = now
            self.utterance_ended = False
        elif is_final:
            self.detector.final_words, self.detector.interim_words = self.detector.words, 0
        self.wake()

    def vendor_event(self, kind: str) -> None:
        """``speech_started`` or ``utterance_end`` from the vendor."""
        if kind == "speech_started":
            self.detector.speech_started(self._now())
            self.utterance_ended = False
        elif kind == "utterance_end":
            self.utterance_ended = True
        self.wake()

    def voiced(self, at: float, seconds: float) -> None:
        """The server's VAD heard ``seconds`` of speech ending at ``at`` (the loop's clock).

        Wakes the task only when that can change a decision now (a pending ``answer_ending`` to
        cancel, or the answer just became long enough to end); otherwise the task, asleep until the
        silence threshold it computed, looks at the newer speech when it wakes.
        """
        waiting = self.detector.ending or self.detector.next_check(at) is None
        self.detector.voiced(at, seconds)
        if waiting:
            self.wake()

    def reset(self) -> None:
        """The answer was closed: the next audio belongs to the next answer."""
        self.detector = TurnDetector(self.policy.detection)
        self.finals, self.interim = [], ""
        self.changed_at = None
        self.stable_reported = False
        self.utterance_ended = False
        self.wake()

    # -- the timer task --------------------------------------------------------

    def _next_wake(self, now: float, question: OpenQuestion | None) -> float | None:
        times: list[float] = []
        if question is not None and question.deadline is not None and question.index not in self.timed_out:
            times.append(now + max(0.0, question.deadline - time.time()))
        if question is not None and self.policy.auto:
            check = self.detector.next_check(now)
            if check is not None:
                times.append(check)
        if self._may_draft() and self.changed_at is not None and not self.stable_reported:
            times.append(self.changed_at + self.policy.preemptive_stable_s)
        return min(times) if times else None

    def _may_draft(self) -> bool:
        return self.policy.auto and self.policy.preemptive_stable_s > 0

    async def _run(self) -> None:
        while not self._closing:
            question = self.hooks.open_question()
            due = self._next_wake(self._now(), question)
            timeout = None if due is None else max(0.0, due - self._now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            if self._closing:
                return
            self._acting = True
            try:
                await self._check()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("watching an answer failed")
            finally:
                self._acting = False

    async def _check(self) -> None:
        question = self.hooks.open_question()
        if question is None:
            return
        index, now = question.index, self._now()
        if question.deadline is not None and index not in self.timed_out and time.time() >= question.deadline:
            self.timed_out.add(index)
            await self.hooks.end_answer(index, "time_limit")
            return
        if not self.policy.auto:
            return
        signal, reason = TurnSignal.NONE, "silence"
        if self.utterance_ended:
            self.utterance_ended = False
            signal, reason = self.detector.utterance_end(now), "utterance_end"
        if signal is TurnSignal.NONE:
            signal, reason = self.detector.poll(now), "silence"
        if signal is TurnSignal.ENDING:
            silence_ms = int(self.detector.silence(now) * 1000)
            await self.hooks.notify("answer_ending", {"index": index, "silence_ms": silence_ms})
        elif signal is TurnSignal.RESUMED:
            await self.hooks.notify("answer_resumed", {"index": index})
        elif signal is TurnSignal.END:
            await self.hooks.end_answer(index, reason)
            return
        await self._check_stable(index, now)

    async def _check_stable(self, index: int, now: float) -> None:
        if not self._may_draft() or self.changed_at is None:
            return
        if self.stable_reported and now - self.changed_at < self.policy.preemptive_stable_s:
            self.stable_reported = False
            await self.hooks.transcript_changed(index, self.transcript)
        if (
            not self.stable_reported
            and self.detector.words >= self.policy.detection.min_answer_words
            and now - self.changed_at >= self.policy.preemptive_stable_s
        ):
            self.stable_reported = True
            await self.hooks.transcript_stable(index, self.transcript)

    async def close(self, wait: float = 5.0) -> None:
        """Stop watching (the session left memory or ended); a running hook gets ``wait`` seconds to finish."""
        self._closing = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            if self._acting:
                await asyncio.wait({task}, timeout=wait)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.hooks.closed()
