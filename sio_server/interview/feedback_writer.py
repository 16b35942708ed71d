"""Writing the feedback of an interview: the LLM chain, whose last link is the offline scorer."""

from __future__ import annotations

import logging

from ..domain.model import Feedback, Session
from ..coach import speaking
from ..observability.metrics import Metrics
from ..vendors.budget import Spend
from ..vendors.fallback import FallbackLLM
from ..vendors.llm import FeedbackRequest
from .live import Emitter

log = logging.getLogger(__name__)


def with_speaking(feedback: Feedback, session: Session) -> Feedback:
    """``feedback`` with how each spoken answer was said (the turns' own measures, never the writer's) and
    all of them together; typed answers have none. The scores are not touched."""
    spoken = {t.index: t.speaking for t in session.turns if t.speaking is not None and t.answer is not None}
    per_question = [q.model_copy(update={"speaking": spoken.get(q.index)}) for q in feedback.per_question]
    overall = speaking.combine([spoken[i] for i in sorted(spoken)], session.config.language)
    return feedback.model_copy(update={"per_question": per_question, "speaking": overall})


class FeedbackWriter:
    """Asks the LLM chain for the feedback; one written by its offline link is a fallback (with a ``warning``).

    How the spoken answers were said is added from the turns (:func:`with_speaking`), whoever wrote it.
    """

    def __init__(self, llm: FallbackLLM, emitter: Emitter, metrics: Metrics) -> None:
        self.llm = llm
        self.emitter = emitter
        self.metrics = metrics

    async def write_feedback(self, session: Session, spend: Spend | None = None) -> Feedback:
        """The feedback on ``session``'s answers (``spend``: the session's budget)."""
        request = FeedbackRequest(config=session.config, turns=tuple(t.model_copy() for t in session.turns))
        feedback = with_speaking(await self.llm.feedback(request, spend), session)
        if feedback.fallback:
            log.warning("session %s: no LLM vendor wrote the feedback in time; using heuristics", session.id)
            self.metrics.llm_fallbacks.labels("feedback").inc()
            await self.emitter.emit(
                session.id, "warning", {"code": "feedback_fallback", "message": "the feedback was written by the backup scorer"}
            )
        return feedback
