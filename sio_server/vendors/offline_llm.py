"""The offline LLM provider: the :mod:`sio_server.coach` behind the LLM interface.

Deterministic, template-driven, no network: the last link of the LLM fallback chain.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import ClassVar

from pydantic import Field

from ..domain.model import Feedback
from ..coach import build_feedback, next_question
from ..settings import Settings
from .llm import FeedbackRequest, QuestionRequest
from .plugins import LLMCapabilities, Vendor, VendorSettings, register, vendor_config

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
    capabilities = LLMCapabilities(streaming=True)

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


class OfflineLLMSettings(VendorSettings):
    """The offline interviewer needs no key; ``OFFLINE_LLM_DELAY`` is a test hook."""

    model_config = vendor_config("OFFLINE_LLM_")
    key_field: ClassVar[str | None] = None

    delay: float = Field(default=0.0, ge=0, description="test hook: seconds the offline LLM waits per question")


def build(settings: Settings, own: OfflineLLMSettings) -> OfflineLLM:
    """The offline interviewer."""
    return OfflineLLM(delay=own.delay)


VENDOR = register(Vendor("offline", "LLM", OfflineLLMSettings, build, rank=1, local=True))
