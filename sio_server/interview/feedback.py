"""Writing the feedback of an interview: the LLM, or the offline scorer when it fails."""

from __future__ import annotations

import logging

from ..observability.metrics import Metrics
from ..vendors.llm import FeedbackRequest, LLMProvider
from .model import Feedback, Session

log = logging.getLogger(__name__)


class FeedbackWriter:
    """Asks ``llm`` for the feedback; ``fallback_llm`` writes it (marked ``fallback``) when ``llm`` fails."""

    def __init__(self, llm: LLMProvider, fallback_llm: LLMProvider, metrics: Metrics) -> None:
        self.llm = llm
        self.fallback_llm = fallback_llm
        self.metrics = metrics

    async def write_feedback(self, session: Session) -> Feedback:
        """The feedback on ``session``'s answers."""
        request = FeedbackRequest(config=session.config, turns=tuple(t.model_copy() for t in session.turns))
        try:
            return await self.llm.feedback(request)
        except Exception as exc:
            if self.llm is self.fallback_llm:
                raise
            log.warning("LLM %s failed to write feedback (%s); using heuristics", self.llm.name, exc)
            self.metrics.llm_fallbacks.labels("feedback").inc()
            feedback = await self.fallback_llm.feedback(request)
            return feedback.model_copy(update={"fallback": True})
