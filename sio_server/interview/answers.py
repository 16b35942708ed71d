"""Recording an answer: typed or spoken, saved once by its index, then the next step starts."""

from __future__ import annotations

from ..domain.errors import InterviewError
from ..domain.model import Speaking
from ..observability.metrics import Metrics
from . import rules
from .committer import Committer
from .live import LiveSession
from .steps import StepRunner


def check_present(live: LiveSession) -> None:
    """Raise ``not_found`` when ``live`` was deleted."""
    if live.deleted:
        raise InterviewError("not_found", "the session was deleted")


class Answers:
    """Records answers (the service's typed ones and the voice turns' transcripts) and starts the next step."""

    def __init__(self, committer: Committer, steps: StepRunner, metrics: Metrics) -> None:
        self.committer = committer
        self.steps = steps
        self.metrics = metrics

    async def record(
        self,
        live: LiveSession,
        index: int,
        text: str,
        timings: dict[str, float] | None = None,
        speaking: Speaking | None = None,
    ) -> rules.AnswerOutcome:
        """Record an answer (idempotent by index) and start the next step; ``speaking``: how a spoken one was said."""
        async with live.lock:
            check_present(live)
            if rules.check_answer(live.session, index):
                return rules.AnswerOutcome(index=index, duplicate=True)
            outcome = await self.committer.commit(live, lambda s: rules.record_answer(s, index, text, timings=timings, speaking=speaking))
            self.metrics.turns.inc()
            live.spend.answer_recorded()
        self.steps.ensure(live)
        return outcome
