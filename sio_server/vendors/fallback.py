"""Fallback chains (LiveKit's ``FallbackAdapter``): several providers of one kind behind one interface.

A chain tries its providers in order, skipping any whose
:class:`~.breaker.CircuitBreaker` is open, so a vendor that keeps failing costs
one deadline, not one per call. The offline provider is the last link of the
LLM and TTS chains; STT's local link is pocketsphinx when installed (no STT means text mode).

Before a vendor call a chain asks the caller's :class:`~.budget.Spend` (one
session's budget) and, for the LLM, the process's :class:`~.budget.LLMGate`;
a refusal skips the vendor links (the offline link writes; TTS: no vendor
speech) and is told to the caller's ``Spend``, which counts and warns.

* :class:`FallbackLLM` moves on when a provider fails, even part-way through a
  question: ``on_attempt(name, offline, restart)`` tells the consumer which
  provider starts, ``restart=True`` when it must discard the text it got.
  Feedback from vendors is bounded by ``feedback_deadline``; the offline
  link's feedback is marked ``fallback: true``.
* :class:`FallbackTTS` moves on for a sentence that failed before its first
  byte, or sent none within ``first_byte_deadline`` (a hung vendor: counted as a
  failure by its breaker like any other); a failure after it ends the sentence
  (audio is never sent twice). One question's view of the chain, which does
  not ask a provider again once it failed, is the question's
  (:class:`~sio_server.interview.question_turn.QuestionVoice`).
* :class:`~.stt_fallback.FallbackSTT` (in its own module) opens the first
  available provider for each answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from ..domain.model import Feedback
from .breaker import BreakerOptions, CircuitBreaker
from .budget import LLMGate, Spend
from .llm import FeedbackRequest, LLMProvider, LLMUnavailable, OnAttempt, QuestionRequest
from .stt import STTError
from .tts import TTSError, TTSProvider

__all__ = ["Chain", "FallbackLLM", "FallbackTTS", "LLMUnavailable", "Link", "failed"]

log = logging.getLogger(__name__)


EXPECTED = (LLMUnavailable, TTSError, STTError, TimeoutError)
"""The failures a provider declares; any other exception is a bug and is logged with its traceback."""


def failed(kind: str, name: str, what: str, exc: Exception) -> str:
    """Log that provider ``name`` failed ``what`` (the chain moves on); return the failure for the final error."""
    log.warning(
        "%s %s failed %s (%s: %s)", kind, name, what, type(exc).__name__, exc, exc_info=not isinstance(exc, EXPECTED)
    )
    return f"{name}: {type(exc).__name__}: {exc}"


class Named(Protocol):
    name: str
    offline: bool


P = TypeVar("P", bound=Named)


@dataclass
class Link(Generic[P]):
    """One provider of a chain and its breaker."""

    provider: P
    breaker: CircuitBreaker


class Chain(Generic[P]):
    """Providers in order, each with a breaker; named like ``"openai>gemini>offline"``."""

    def __init__(
        self, providers: Sequence[P], breaker: BreakerOptions | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not providers:
            raise ValueError(f"{type(self).__name__} needs at least one provider")
        options = breaker or BreakerOptions()
        self.links = [Link(p, CircuitBreaker(p.name, options, clock)) for p in providers]
        self.name = ">".join(p.name for p in providers)
        self.offline = all(p.offline for p in providers)

    @property
    def providers(self) -> tuple[P, ...]:
        """The providers, in the order they are tried."""
        return tuple(link.provider for link in self.links)

    def available(self) -> Iterator[Link[P]]:
        """The links to try now, in order (an offline link is never skipped); asked lazily, one by one."""
        for link in self.links:
            if link.provider.offline or link.breaker.allow():
                yield link
            else:
                log.debug("vendor %s skipped: its breaker is open", link.provider.name)

    async def aclose(self) -> None:
        """Close every provider that holds connections."""
        for provider in self.providers:
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()


class FallbackLLM(Chain[LLMProvider]):
    """An :class:`~.llm.LLMProvider` that tries its providers in order (see the module docstring).

    ``feedback_deadline`` bounds the vendors' feedback, retries included; past
    it the next offline link writes it.
    """

    def __init__(
        self,
        providers: Sequence[LLMProvider],
        breaker: BreakerOptions | None = None,
        *,
        feedback_deadline: float | None = None,
        gate: LLMGate | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(providers, breaker, clock)
        self.feedback_deadline = feedback_deadline
        self.gate = gate

    async def _admit(self, link: Link[LLMProvider], spend: Spend | None, refused: bool) -> bool:
        """Whether a vendor link may be called now (the gate is entered: :meth:`_leave` after the call).

        ``refused``: an earlier link of this call was refused, so this one is skipped too.
        """
        if refused:
            link.breaker.release()
            return False
        budget = spend.llm_allowed() if spend is not None else None
        if budget is None and self.gate is not None:
            budget = self.gate.enter(optional=spend is not None and spend.optional)
        if budget is None:
            if spend is not None:
                spend.llm_charged()
            return True
        link.breaker.release()  # a trial slot taken by available() is given back unused
        log.info("LLM %s skipped: the %s budget is spent", link.provider.name, budget)
        if spend is not None:
            await spend.refused(budget)
        return False

    def _leave(self) -> None:
        if self.gate is not None:
            self.gate.leave()

    async def stream_question(
        self, request: QuestionRequest, on_attempt: OnAttempt | None = None, spend: Spend | None = None
    ) -> AsyncIterator[str]:
        """Yield the question from the first provider that writes all of it.

        Without ``on_attempt`` a provider that fails part-way ends the question
        (:class:`LLMUnavailable`); with it, the next provider starts over with
        ``restart=True``. Raises :class:`LLMUnavailable` when every provider failed.
        ``spend`` is the caller's budget (see the module docstring).
        """
        errors: list[str] = []
        wrote = False
        refused = False
        for link in self.available():
            provider = link.provider
            if not provider.offline and not await self._admit(link, spend, refused):
                refused = True
                continue
            try:
                if wrote and on_attempt is None:
                    raise LLMUnavailable(f"all LLMs failed: {'; '.join(errors)} (part-way)")
                if on_attempt is not None:
                    await on_attempt(provider.name, provider.offline, wrote)
                wrote = False
                try:
                    with link.breaker.call():
                        async for piece in provider.stream_question(request):
                            wrote = wrote or bool(piece)
                            yield piece
                except Exception as exc:  # noqa: BLE001 - logged by failed(); the chain moves on
                    errors.append(failed("LLM", provider.name, "part-way" if wrote else "before writing", exc))
                    continue
            finally:
                if not provider.offline:
                    self._leave()
            return
        raise LLMUnavailable("all LLMs failed: " + "; ".join(errors))

    async def feedback(self, request: FeedbackRequest, spend: Spend | None = None) -> Feedback:
        """The feedback of the first provider that succeeds in time; the offline link's is marked ``fallback``."""
        loop = asyncio.get_running_loop()
        deadline = None if self.feedback_deadline is None else loop.time() + self.feedback_deadline
        errors: list[str] = []
        refused = False
        for link in self.available():
            provider = link.provider
            if provider.offline:
                feedback = await provider.feedback(request)
                return feedback if self.offline else feedback.model_copy(update={"fallback": True})
            if deadline is not None and loop.time() >= deadline:
                errors.append(f"{provider.name}: skipped, past the feedback deadline")
                link.breaker.release()
                continue
            if not await self._admit(link, spend, refused):
                refused = True
                continue
            try:
                with link.breaker.call():
                    async with asyncio.timeout_at(deadline):
                        return await provider.feedback(request)
            except Exception as exc:  # noqa: BLE001 - logged by failed(); TimeoutError past the deadline included
                errors.append(failed("LLM", provider.name, "to write feedback", exc))
            finally:
                self._leave()
        raise LLMUnavailable("all LLMs failed: " + "; ".join(errors))


async def first_chunk(stream: AsyncIterator[bytes]) -> bytes | None:
    """The first non-empty chunk of ``stream`` (None: it ended without audio)."""
    async for chunk in stream:
        if chunk:
            return chunk
    return None


class FallbackTTS(Chain[TTSProvider]):
    """A :class:`~.tts.TTSProvider` that speaks each sentence with the first provider that starts it.

    The offline link (silence) speaks only for a chain of nothing else: when
    every provider before it (the vendors, espeak-ng) failed or is skipped, the
    sentence raises :class:`TTSError` (it cannot be spoken), as a single
    vendor's failure always has.
    ``first_byte_deadline`` bounds each provider's wait for its first byte,
    retries included; past it the provider has failed (:class:`TimeoutError`).
    """

    def __init__(
        self,
        providers: Sequence[TTSProvider],
        breaker: BreakerOptions | None = None,
        *,
        first_byte_deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(providers, breaker, clock)
        self.first_byte_deadline = first_byte_deadline

    @property
    def mime(self) -> str:
        """The audio type of the first provider."""
        return self.links[0].provider.mime

    async def stream(
        self,
        text: str,
        *,
        persona: str,
        language: str,
        on_attempt: OnAttempt | None = None,
        exclude: Collection[str] = (),
        on_failure: Callable[[str], None] | None = None,
        spend: Spend | None = None,
    ) -> AsyncIterator[bytes]:
        """Yield the audio of ``text``; ``on_attempt(name, offline, False)`` each time a provider starts.

        Providers named in ``exclude`` are not asked; ``on_failure(name)`` is told of each one that fails.
        When ``spend`` refuses the sentence, the offline link speaks it (no audio, no ``TTSError``).
        """
        errors: list[str] = []
        budget = spend.tts_allowed(len(text)) if spend is not None and not self.offline else None
        if budget is not None:
            log.info("TTS vendors skipped: the %s budget is spent", budget)
            await spend.refused(budget)  # type: ignore[union-attr]  # budget is set only with a spend
        for link in self.available():
            provider = link.provider
            if budget is not None and not provider.offline:
                link.breaker.release()
                continue
            if provider.offline and not self.offline and budget is None:
                break
            if provider.name in exclude:
                errors.append(f"{provider.name}: failed earlier in this question")
                link.breaker.release()  # available() may have given it the trial slot
                continue
            if on_attempt is not None:
                await on_attempt(provider.name, provider.offline, False)
            charged = spend if spend is not None and not provider.offline else None
            if charged is not None:
                charged.tts_charged(chars=len(text))
            sent = False
            stream = provider.stream(text, persona=persona, language=language)
            try:
                with link.breaker.call():
                    async with asyncio.timeout(self.first_byte_deadline):
                        first = await first_chunk(stream)
                    if first is None:
                        return
                    sent = True
                    if charged is not None:
                        charged.tts_charged(audio=len(first), mime=provider.mime)
                    yield first
                    async for chunk in stream:
                        if charged is not None:
                            charged.tts_charged(audio=len(chunk), mime=provider.mime)
                        yield chunk
            except Exception as exc:  # logged by failed(); the chain moves on (re-raised once audio went out)
                if on_failure is not None:
                    on_failure(provider.name)
                if sent:
                    raise TTSError(f"{provider.name}: {exc}") from exc
                if isinstance(exc, TimeoutError):
                    exc = TimeoutError(f"no audio within {self.first_byte_deadline:g}s")
                errors.append(failed("TTS", provider.name, "before its first byte", exc))
                continue
            finally:
                await stream.aclose()  # type: ignore[attr-defined]  # an async generator
            return
        raise TTSError("no TTS provider could speak the sentence: " + ("; ".join(errors) or "all skipped"))
