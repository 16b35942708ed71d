"""Pending steps: the owed question or feedback of a session, written, saved and emitted.

A step is recorded in the session (``pending``) before it runs, so a step cut
short by a crash or a hand-over runs again wherever the session is loaded
next. Applying a finished step retries while the store is down.

A question's speech never holds the interview: once the question is emitted,
its speech ends in a task of its own (``live.speaking``), and the next step
cuts it short before it starts. A step that has not produced its question or
feedback after ``slow_notice`` seconds sends ``warning`` ``llm_slow`` while the
candidate waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from ..domain.errors import InterviewError
from ..domain.model import PendingStep
from ..observability.metrics import Metrics
from . import rules
from .committer import Committer
from .feedback_writer import FeedbackWriter
from .live import Emitter, LiveSession
from .pipeline import QuestionPipeline
from .preemptive import Drafts
from .question_turn import QuestionTurn
from .session_registry import SessionRegistry

log = logging.getLogger(__name__)


class StepRunner:
    """Runs each live session's pending steps in one task per session."""

    def __init__(
        self,
        registry: SessionRegistry,
        committer: Committer,
        questions: QuestionPipeline,
        feedback: FeedbackWriter,
        emitter: Emitter,
        metrics: Metrics,
        store_retry_delay: float = 0.5,
        drafts: Drafts | None = None,
        slow_notice: float = 0.0,
    ) -> None:
        self.registry = registry
        self.committer = committer
        self.questions = questions
        self.feedback = feedback
        self.emitter = emitter
        self.metrics = metrics
        self.store_retry_delay = store_retry_delay
        self.drafts = drafts
        self.slow_notice = slow_notice
        self.closing = False

    def ensure(self, live: LiveSession) -> None:
        """Start the task that runs the session's pending steps, unless it runs already."""
        if live.session.pending is None or live.busy or live.deleted or self.closing:
            return
        live.step_task = asyncio.create_task(self._run(live), name=f"steps:{live.id}")

    async def _run(self, live: LiveSession) -> None:
        try:
            while not live.deleted and (kind := live.session.pending) is not None:
                await self.emitter.emit(live.id, "state", rules.state_payload(live.session))
                await self.end_speaking(live)
                if kind is PendingStep.QUESTION:
                    draft = self.drafts.take(live) if self.drafts is not None else None
                    async with self._notice_if_slow(live, kind):
                        question = await self.questions.write_question(live, draft)
                    if await self._apply(live, kind, question):
                        self._speak_out(live, question)
                    else:
                        await question.cancel()
                else:
                    async with self._notice_if_slow(live, kind):
                        feedback = await self.feedback.write_feedback(live.session, live.spend)
                    await self._apply(live, kind, feedback)
        except asyncio.CancelledError:
            raise
        except Exception:  # pragma: no cover - a bug; keep the process alive
            log.exception("pending step of session %s failed", live.id)
        finally:
            if live.step_task is asyncio.current_task():
                live.step_task = None  # a finished task is not kept: it holds its coroutine until replaced
            live.compact()  # held as compressed JSON until next used (unless its question is still being spoken)
            if self.registry.socket_of(live.id) is None and self.registry.live.get(live.id) is live and not self.closing:
                self.registry.release(live)

    def _speak_out(self, live: LiveSession, question: QuestionTurn) -> None:
        """Let the emitted question's speech end (``tts_end``) in its own task; the step goes on at once."""
        if question.speech is None:
            return

        async def finish() -> None:
            try:
                await question.finish()
            except asyncio.CancelledError:
                raise
            except Exception:  # pragma: no cover - a bug; the interview goes on without this question's audio
                log.exception("speech of session %s failed", live.id)

        live.speaking = asyncio.create_task(finish(), name=f"speech:{live.id}:{question.index}")

    async def end_speaking(self, live: LiveSession) -> None:
        """Cut the previous question's speech short (its answer came) and wait for its ``tts_end``."""
        task, live.speaking = live.speaking, None
        if task is None:
            return
        if live.speech is not None:
            live.speech.stop()
        await asyncio.gather(task, return_exceptions=True)

    @contextlib.asynccontextmanager
    async def _notice_if_slow(self, live: LiveSession, kind: PendingStep) -> AsyncIterator[None]:
        """Send ``warning`` ``llm_slow`` once if the block takes longer than ``slow_notice`` seconds."""
        if not self.slow_notice:
            yield
            return

        async def notice() -> None:
            await asyncio.sleep(self.slow_notice)
            log.info("session %s: the %s is slow (%.1fs)", live.id, kind.value, self.slow_notice)
            await self.emitter.emit(
                live.id,
                "warning",
                {"code": "llm_slow", "step": kind.value, "message": f"the {kind.value} is taking longer than usual"},
            )

        timer = asyncio.create_task(notice(), name=f"slow-notice:{live.id}")
        try:
            yield
        finally:
            timer.cancel()
            await asyncio.gather(timer, return_exceptions=True)

    async def _apply(self, live: LiveSession, kind: PendingStep, work: Any) -> bool:
        """Save and emit a finished step, retrying while the store is down; False when it was superseded."""
        delay = self.store_retry_delay
        warned = False
        while True:
            async with live.lock:
                if live.deleted or live.session.pending is not kind:
                    return False  # superseded (ended early) or already done elsewhere
                try:
                    await self._commit_step(live, kind, work)
                    return True
                except InterviewError as exc:
                    if exc.code != "store_unavailable":
                        continue  # reloaded after a conflict: check again whether the step is still owed
                    if not warned:
                        await self.emitter.emit(live.id, "error", exc.as_dict())
                        warned = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def _commit_step(self, live: LiveSession, kind: PendingStep, work: Any) -> None:
        if kind is PendingStep.QUESTION:
            await self.committer.commit_event(
                live, lambda s: rules.add_question(s, work.text, work.fallback, timings=work.timings)
            )
            self.metrics.questions.labels(str(work.fallback).lower()).inc()
            if live.listener is not None and live.listener.watcher is not None:
                live.listener.watcher.wake()  # the new question's time limit starts
        else:
            await self.committer.commit_event(live, lambda s: rules.set_feedback(s, work))
            self.metrics.sessions_ended.labels(live.session.end_reason or "completed").inc()
        await self.emitter.emit(live.id, "state", rules.state_payload(live.session))
        if kind is PendingStep.FEEDBACK:
            self.registry.close_listener(live)

    def running(self) -> list[asyncio.Task[None]]:
        """The step tasks that run now."""
        return [live.step_task for live in self.registry.live.values() if live.busy and live.step_task is not None]

    async def drain(self, timeout: float) -> None:
        """Stop starting new steps and wait up to ``timeout`` for the running ones."""
        self.closing = True
        tasks = self.running()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def close(self) -> None:
        """Stop running steps (they stay pending in the store and finish after a restart)."""
        self.closing = True
        tasks = [
            task for live in self.registry.live.values() for task in (live.step_task, live.speaking) if task is not None
        ]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
