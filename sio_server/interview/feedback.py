"""Writing the feedback of an interview: the LLM chain, whose last link is the offline scorer."""

from __future__ import annotations

import logging

from ..domain.model import Feedback, Session
from ..observability.metrics import Metrics
from ..vendors.budget import Spend
from ..vendors.fallback import FallbackLLM
from ..vendors.llm import FeedbackRequest
from .live import Emitter

log = logging.getLogger(__name__)


class FeedbackWriter:
    """Asks the LLM chain for the feedback; one written by its offline link is a fallback (with a ``warning``)."""

    def __init__(self, llm: FallbackLLM, emitter: Emitter, metrics: Metrics) -> None:
        self.llm = llm
        self.emitter = emitter
        self.metrics = metrics

    async def write_feedback(self, session: Session, spend: Spend | None = None) -> Feedback:
        """The feedback on ``session``'s answers (``spend``: the session's budget)."""
        request = FeedbackRequest(config=session.config, turns=tuple(t.model_copy() for t in session.turns))
        feedback = await self.llm.feedback(request, spend)
        if feedback.fallback:
            log.warning("session %s: no LLM vendor wrote the feedback in time; using heuristics", session.id)
            self.metrics.llm_fallbacks.labels("feedback").inc()
            await self.emitter.emit(
                session.id, "warning", {"code": "feedback_fallback", "message": "the feedback was written by the backup scorer"}
            )
        return feedback
