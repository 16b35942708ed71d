"""The offline LLM provider: the :mod:`sio_server.interviewer` behind the LLM interface.

Deterministic, template-driven, no network: the last link of the LLM fallback chain.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from ..domain.model import Feedback
from ..interviewer import build_feedback, next_question
from .llm import FeedbackRequest, QuestionRequest

__all__ = ["OfflineLLM"]


def _pieces(text: str) -> list[str]:
    """Word-sized chunks, spaces kept, so ``"".join(pieces) == text``."""
    return re.findall(r"\S+\s*", text) or [text]


class OfflineLLM:
    """A deterministic, template-driven interviewer that needs no network.

    ``delay`` (seconds) is a test hook: every call waits that long in total.
    """

    name = "offline"
    offline = True

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = max(0.0, float(delay))

    async def stream_question(self, request: QuestionRequest) -> AsyncIterator[str]:
        """Yield the next question in word-sized pieces (spaces kept)."""
        text = next_question(request.config, request.turns, request.index, request.is_last)
        pieces = _pieces(text)
        step = self.delay / len(pieces)
        for piece in pieces:
            await asyncio.sleep(step)
            yield piece

    async def feedback(self, request: FeedbackRequest) -> Feedback:
        """Score the interview heuristically."""
        if self.delay:
            await asyncio.sleep(self.delay)
        return build_feedback(request.config, request.turns)
