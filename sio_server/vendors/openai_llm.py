"""The OpenAI LLM vendor (``OPENAI_API_KEY``, ``OPENAI_MODEL``): the OpenAI Chat Completions API.

Gemini's compatible endpoint uses the same client (:mod:`.gemini_llm`).

:class:`OpenAICompatLLM` implements :class:`~.llm.LLMProvider`: feedback with the
official ``openai`` SDK (its own retries switched off; ours are in
:mod:`.retry`), questions with aiohttp (see :class:`_QuestionStream`). Questions stream token by token; failures before the first
token are retried, failures after it are not (nothing is ever sent twice) and
every failure reaches the caller as :class:`LLMUnavailable`. Feedback is one
JSON-mode completion validated with pydantic, with one corrective retry when
the JSON is unusable.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from ..domain.model import Feedback
from ..settings import Settings
from .llm import FeedbackRequest, LLMUnavailable, QuestionRequest
from .llm_prompts import InvalidFeedback, feedback_messages, parse_feedback, question_messages
from .http_client import SessionOwner
from .openai_client import OpenAIAccount, make_client, retrying
from .options import ConnectOptions
from .plugins import LLMCapabilities, Vendor, register
from .retry import VendorHTTPError, parse_retry_after

__all__ = ["OpenAICompatLLM", "OpenAILLMSettings", "compat_llm", "llm_options", "openai_llm"]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# The provider
# ---------------------------------------------------------------------------


def _delta_text(chunk: dict[str, Any]) -> str:
    """The content piece of a streamed chunk ('' for role-only, finish and usage chunks)."""
    choices = chunk.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return ""
    delta = choices[0].get("delta") or {}
    return (delta.get("content") or "") if isinstance(delta, dict) else ""


class _QuestionStream:
    """A streamed chat completion over aiohttp, read as raw server-sent events.

    The question's stream is the server's busiest vendor call (one event per
    token, every turn): the SDK's httpx/httpcore/anyio stack cost about two
    thirds of the server's CPU per text turn in a cProfile of the turn benchmark,
    so the request is sent and read here with the aiohttp session the other
    HTTP vendors use; the SDK keeps the feedback completions. A non-2xx answer
    raises :class:`~.retry.VendorHTTPError` (``Retry-After`` parsed), an
    ``error`` event ``aiohttp.ClientPayloadError``: both classified as before.
    """

    def __init__(self, http: aiohttp.ClientSession, url: str, headers: dict[str, str], body: dict[str, Any],
                 timeout: float) -> None:
        self._http = http
        self._url = url
        self._headers = headers
        self._body = body
        self._timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_connect=timeout, sock_read=timeout)
        self._response: aiohttp.ClientResponse | None = None
        self.expired = False

    async def open(self) -> "_QuestionStream":
        """Send the request; raises :class:`~.retry.VendorHTTPError` for a non-2xx answer."""
        resp = await self._http.post(self._url, json=self._body, headers=self._headers, timeout=self._timeout)
        if resp.status // 100 != 2:
            try:
                detail = await resp.text(errors="replace")
            finally:
                resp.close()
            raise VendorHTTPError(resp.status, detail, parse_retry_after(resp.headers))
        self._response = resp
        return self

    async def chunks(self) -> AsyncIterator[dict[str, Any]]:
        """The JSON chunks of the stream, until ``[DONE]``; an ``error`` event raises ``ClientPayloadError``."""
        assert self._response is not None
        rest = b""
        async for data in self._response.content.iter_any():  # whatever arrived: cheaper than a readline per event
            *lines, rest = (rest + data).split(b"\n")
            for raw in lines:
                if not raw.startswith(b"data:"):
                    continue
                data = raw[5:].strip()
                if data == b"[DONE]":
                    return
                chunk = json.loads(data)
                if isinstance(chunk, dict) and chunk.get("error"):
                    error = chunk["error"]
                    message = error.get("message", "stream error") if isinstance(error, dict) else str(error)
                    raise aiohttp.ClientPayloadError(f"error event: {message}")
                if isinstance(chunk, dict):
                    yield chunk

    def expire(self) -> None:
        """The question's deadline passed: close the connection (the reads fail) and say so in ``expired``."""
        self.expired = True
        if self._response is not None:
            self._response.close()

    async def close(self) -> None:
        """Release the connection."""
        if self._response is not None:
            self._response.close()
            self._response = None


class OpenAICompatLLM(SessionOwner):
    """An :class:`~.llm.LLMProvider` on any OpenAI-compatible Chat Completions endpoint.

    ``name`` labels logs and metrics (``"openai"``, ``"gemini"``); ``api_key``,
    ``base_url`` and ``model`` select the endpoint (``base_url`` None means the
    SDK default); ``options`` sets tries, delays and the per-attempt
    ``timeout`` (its ``deadline``, when set, bounds a feedback call);
    ``question_deadline`` bounds a whole question, retries included.
    """

    offline = False
    capabilities = LLMCapabilities(streaming=True)

    def __init__(
        self,
        name: str,
        api_key: str,
        base_url: str | None,
        model: str,
        options: ConnectOptions,
        question_deadline: float,
        *,
        temperature: float | None = 0.7,
    ) -> None:
        self.name = name
        self.model = model
        self.options = options
        self.question_deadline = question_deadline
        self.temperature = temperature
        self.client = make_client(api_key, base_url, options)
        super().__init__(limit=1000)  # the question streams' aiohttp session: as many connections as the SDK's pool
        self._chat_url = f"{str(self.client.base_url).rstrip('/')}/chat/completions"
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "text/event-stream"}
        self._open_question = retrying(options, name, max_time=question_deadline)(self._open_question_once)
        self._complete = retrying(options, name)(self._complete_once)

    async def aclose(self) -> None:
        """Close the HTTP connection pools."""
        await self.client.close()
        await super().aclose()

    def _sampling(self, temperature: float | None) -> dict[str, Any]:
        return {} if temperature is None else {"temperature": temperature}

    async def _open_question_once(self, messages: list[dict[str, str]]) -> tuple[Any, AsyncIterator[Any], str]:
        """One try: start the stream and read up to its first non-empty token."""
        body = {"model": self.model, "messages": messages, "stream": True, **self._sampling(self.temperature)}
        stream = await _QuestionStream(
            self._client(), self._chat_url, self._headers, body, self.options.timeout
        ).open()
        chunks = stream.chunks()
        try:
            async for chunk in chunks:
                text = _delta_text(chunk)
                if text:
                    return stream, chunks, text
        except BaseException:
            await stream.close()
            raise
        await stream.close()
        raise LLMUnavailable(f"{self.name}: the reply was empty")

    async def stream_question(self, request: QuestionRequest) -> AsyncIterator[str]:
        """Yield the next question in pieces as the model writes them.

        Raises :class:`LLMUnavailable` when no token came within
        ``question_deadline`` (retries included), on a non-retryable error, and
        when the stream breaks after tokens were yielded (never retried).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.question_deadline
        messages = question_messages(request)
        scope = asyncio.timeout_at(deadline)
        try:
            async with scope:
                stream, chunks, first = await self._open_question(messages)
        except LLMUnavailable:
            raise
        except TimeoutError as exc:  # aiohttp's per-attempt timeouts are TimeoutErrors too
            if scope.expired():
                raise LLMUnavailable(f"{self.name}: no question within {self.question_deadline:g}s") from exc
            raise LLMUnavailable(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            raise LLMUnavailable(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        sent = len(first)
        # One timer for the rest of the stream, not a timeout per token: at the deadline the
        # connection is closed, so the read under way (or the next one) fails.
        timer = loop.call_at(deadline, stream.expire)
        try:
            yield first
            async for chunk in chunks:
                if stream.expired:
                    raise TimeoutError
                text = _delta_text(chunk)
                if text:
                    sent += len(text)
                    yield text
            if stream.expired:
                raise TimeoutError
        except Exception as exc:  # the connection cut, error events, the deadline's close
            if stream.expired:
                raise LLMUnavailable(f"{self.name}: question not finished within {self.question_deadline:g}s") from exc
            raise LLMUnavailable(
                f"{self.name}: stream broke after {sent} characters ({type(exc).__name__}: {exc})"
            ) from exc
        finally:
            timer.cancel()
            await stream.close()

    async def _complete_once(self, messages: list[dict[str, str]]) -> str:
        """One try of a non-streaming JSON-mode completion; returns the message content."""
        response = await self.client.chat.completions.create(
            model=self.model,
            messages=messages,  # type: ignore[arg-type]
            response_format={"type": "json_object"},
            **self._sampling(0.2 if self.temperature is not None else None),
        )
        if not response.choices:
            return ""
        return response.choices[0].message.content or ""

    async def _complete_or_unavailable(self, messages: list[dict[str, str]]) -> str:
        try:
            return await self._complete(messages)
        except Exception as exc:
            raise LLMUnavailable(f"{self.name}: {type(exc).__name__}: {exc}") from exc

    async def feedback(self, request: FeedbackRequest) -> Feedback:
        """Score the interview; one corrective retry on unusable JSON, then :class:`LLMUnavailable`."""
        try:
            async with asyncio.timeout(self.options.deadline):
                return await self._feedback(request)
        except TimeoutError as exc:
            raise LLMUnavailable(f"{self.name}: no feedback within {self.options.deadline}s") from exc

    async def _feedback(self, request: FeedbackRequest) -> Feedback:
        messages = feedback_messages(request)
        content = await self._complete_or_unavailable(messages)
        try:
            return parse_feedback(content, request)
        except InvalidFeedback as exc:
            log.warning("%s returned unusable feedback (%s); asking once more", self.name, exc)
            messages = messages + [
                {"role": "assistant", "content": content or ""},
                {
                    "role": "user",
                    "content": f"That reply was unusable: {exc}. Reply again with only the JSON object in the requested shape.",
                },
            ]
        content = await self._complete_or_unavailable(messages)
        try:
            return parse_feedback(content, request)
        except InvalidFeedback as exc:
            raise LLMUnavailable(f"{self.name}: unusable feedback twice ({exc})") from exc


def llm_options(settings: Settings) -> ConnectOptions:
    """How hard an LLM call is tried (the core's ``LLM_*`` settings)."""
    return ConnectOptions(
        max_tries=settings.llm_max_tries,
        base_delay=settings.llm_retry_base,
        max_delay=settings.llm_retry_max,
        timeout=settings.llm_timeout,
        deadline=settings.llm_feedback_deadline,
    )


class OpenAILLMSettings(OpenAIAccount):
    """The OpenAI LLM's settings: ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_MODEL``."""

    model: str = "gpt-4o-mini"


def compat_llm(name: str, settings: Settings, own: Any) -> OpenAICompatLLM:
    """The ``name`` client on the endpoint ``own`` settings describe (``api_key``, ``base_url``, ``model``)."""
    if not own.api_key:
        raise ValueError(f"{own.key_env()} is not set")
    return OpenAICompatLLM(name, own.api_key, own.base_url, own.model, llm_options(settings), settings.llm_question_deadline)


def openai_llm(settings: Settings, own: OpenAILLMSettings | None = None) -> OpenAICompatLLM:
    """The OpenAI client that ``settings`` describe (``OPENAI_API_KEY`` must be set)."""
    return compat_llm("openai", settings, own or OpenAILLMSettings.from_core(settings))


VENDOR = register(Vendor("openai", "LLM", OpenAILLMSettings, openai_llm, rank=10))
