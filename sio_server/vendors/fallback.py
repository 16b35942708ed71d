"""Several vendor LLMs behind one interface, tried in order (LiveKit's ``FallbackAdapter``).

:class:`FallbackLLM` asks each provider in turn until one works. A question can
only move on to the next provider while nothing has been yielded yet; once a
provider has started writing, its failure ends the question. When every
provider fails, :class:`~.openai_llm.LLMUnavailable` tells the interview
service to use the offline bank (and mark the question ``fallback: true``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

from ..interview.model import Feedback
from ..settings import Settings
from .llm import FeedbackRequest, LLMProvider, QuestionRequest
from .openai_llm import LLMUnavailable, gemini_llm, openai_llm

__all__ = ["FallbackLLM", "LLMUnavailable", "make_vendor_llm"]

log = logging.getLogger(__name__)


class FallbackLLM:
    """One :class:`~.llm.LLMProvider` that tries ``providers`` in order; named like ``"openai>gemini"``."""

    offline = False

    def __init__(self, providers: Sequence[LLMProvider]) -> None:
        if not providers:
            raise ValueError("FallbackLLM needs at least one provider")
        self.providers = tuple(providers)
        self.name = ">".join(p.name for p in self.providers)

    async def stream_question(self, request: QuestionRequest) -> AsyncIterator[str]:
        """Yield the question from the first provider that starts writing one.

        Raises :class:`LLMUnavailable` when all providers fail before writing,
        or when the provider that started writing fails part-way.
        """
        errors: list[str] = []
        for provider in self.providers:
            started = False
            try:
                async for piece in provider.stream_question(request):
                    started = True
                    yield piece
                return
            except Exception as exc:
                if started:
                    if isinstance(exc, LLMUnavailable):
                        raise
                    raise LLMUnavailable(f"{provider.name}: failed part-way ({exc})") from exc
                log.warning("LLM %s failed before writing (%s); trying the next one", provider.name, exc)
                errors.append(f"{provider.name}: {exc}")
        raise LLMUnavailable("all LLMs failed: " + "; ".join(errors))

    async def feedback(self, request: FeedbackRequest) -> Feedback:
        """The feedback of the first provider that succeeds; :class:`LLMUnavailable` when all fail."""
        errors: list[str] = []
        for provider in self.providers:
            try:
                return await provider.feedback(request)
            except Exception as exc:  # noqa: BLE001 - any failure moves on to the next provider
                log.warning("LLM %s failed to write feedback (%s); trying the next one", provider.name, exc)
                errors.append(f"{provider.name}: {exc}")
        raise LLMUnavailable("all LLMs failed: " + "; ".join(errors))

    async def aclose(self) -> None:
        """Close every provider that holds connections."""
        for provider in self.providers:
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()


def make_vendor_llm(settings: Settings) -> LLMProvider | None:
    """The vendor LLM that ``settings`` configures, or None for the offline interviewer.

    None when ``LLM_PROVIDER=offline`` or no key is set; one client when one
    key is set; ``FallbackLLM(primary, secondary)`` when both are, the primary
    being ``settings.llm_provider``.
    """
    if settings.llm_provider == "offline":
        return None
    clients: dict[str, LLMProvider] = {}
    if settings.openai_api_key:
        clients["openai"] = openai_llm(settings)
    if settings.google_api_key:
        clients["gemini"] = gemini_llm(settings)
    if not clients:
        return None
    primary = settings.llm_provider if settings.llm_provider in clients else next(iter(clients))
    ordered = [clients[primary]] + [c for name, c in clients.items() if name != primary]
    return ordered[0] if len(ordered) == 1 else FallbackLLM(ordered)
