"""What every OpenAI-SDK client here shares: the account settings, the SDK client, how its failures are retried.

The ``openai`` SDK (about 20 MiB and seconds to import) is imported when a
client is made, not with this module: the vendor modules register themselves
in every process, and only one that uses an OpenAI provider loads the SDK.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from . import retry
from .options import ConnectOptions
from .plugins import VendorSettings, vendor_config

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["OpenAIAccount", "is_retryable", "make_client", "retry_after", "retrying"]


class OpenAIAccount(VendorSettings):
    """``OPENAI_API_KEY`` and ``OPENAI_BASE_URL``, which OpenAI's LLM, TTS and STT share."""

    model_config = vendor_config("OPENAI_")

    api_key: str | None = None
    base_url: str | None = None

F = TypeVar("F", bound=Callable[..., Any])


def make_client(api_key: str, base_url: str | None, options: ConnectOptions) -> AsyncOpenAI:
    """An SDK client with its own retries off (ours are in :func:`retrying`), one try bounded by ``options.timeout``.

    The SDK imports its resources (``chat``, ``audio``) on first use: they are touched here, at start-up,
    because that import blocks the event loop (2.7 s measured on a loaded 2-core machine) and would
    otherwise stall every session at the first question.
    """
    from openai import AsyncOpenAI

    client = AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=options.timeout, max_retries=0)
    client.chat.completions, client.audio.speech, client.audio.transcriptions  # noqa: B018 - the imports
    return client


def retry_after(exc: BaseException | None) -> float | None:
    """The pause OpenAI asked for (``retry-after-ms`` / ``Retry-After``), else what :func:`.retry.retry_after` finds."""
    import openai
    if isinstance(exc, openai.APIStatusError):
        return retry.parse_retry_after(exc.response.headers)
    return retry.retry_after(exc)


def is_retryable(exc: BaseException) -> bool:
    """Whether an OpenAI SDK failure is worth another try.

    Connection errors and timeouts, 408/409/429/5xx status errors, error
    events inside a stream (``APIError`` without a status), raw ``httpx``
    transport errors (a stream cut after the 200 headers leaks
    ``httpx.RemoteProtocolError``), and whatever :func:`.retry.is_retryable`
    accepts. A ``Retry-After`` above :data:`.retry.MAX_RETRY_AFTER` is not retried.
    """
    import httpx
    import openai

    pause = retry_after(exc)
    if pause is not None and pause > retry.MAX_RETRY_AFTER:
        return False
    if isinstance(exc, openai.APIStatusError):
        return retry.status_retryable(exc.status_code)
    if isinstance(exc, (openai.APIConnectionError, openai.APIError, httpx.TransportError)):
        return True  # APIConnectionError includes APITimeoutError; APIError alone is a stream error event
    return retry.is_retryable(exc)


def retrying(options: ConnectOptions, vendor: str, *, max_time: float | None = None) -> Callable[[F], F]:
    """:func:`.retry.retrying` with the OpenAI SDK's failures classified."""
    return retry.retrying(options, vendor, retryable=is_retryable, pause_of=retry_after, max_time=max_time)
