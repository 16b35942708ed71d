"""The LLM interface: ask the next question, score the interview."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..domain.model import Feedback, InterviewConfig, Turn

if TYPE_CHECKING:
    from .plugins import LLMCapabilities

OnAttempt = Callable[[str, bool, bool], Awaitable[None]]
"""``on_attempt(provider_name, offline, restart)``: a fallback chain is starting ``provider_name``.

``offline`` says it is the offline provider; ``restart`` that the chain abandoned
a provider that had already produced output (the consumer discards what it got).
"""


class LLMUnavailable(Exception):
    """The LLM could not write the question or feedback (after any retries, or past the deadline)."""


@dataclass(frozen=True)
class QuestionRequest:
    """What an LLM needs to write question ``index`` (1-based).

    ``turns`` are the questions asked so far, each with its answer.
    ``is_last`` asks for a closing question.
    """

    config: InterviewConfig
    turns: tuple[Turn, ...]
    index: int
    is_last: bool


@dataclass(frozen=True)
class FeedbackRequest:
    """What an LLM needs to score the interview: its settings and its turns."""

    config: InterviewConfig
    turns: tuple[Turn, ...]


class LLMProvider(Protocol):
    """One LLM, real or offline."""

    name: str
    offline: bool
    capabilities: LLMCapabilities

    def stream_question(self, request: QuestionRequest) -> AsyncIterator[str]:
        """Yield the next question's text in pieces as they are written."""
        ...

    async def feedback(self, request: FeedbackRequest) -> Feedback:
        """Score the answered turns and return the interview's feedback."""
        ...
