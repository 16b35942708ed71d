"""Retry policy shared by the vendor clients, built on the ``backoff`` library.

* :func:`is_retryable` says which failures are worth another try: connection
  errors and timeouts, HTTP 408/409/429 and 5xx; never other 4xx (bad request,
  bad key, forbidden, not found, validation).
* :func:`retry_after` reads a vendor's ``retry-after-ms`` / ``Retry-After``
  (seconds or an HTTP date) from a failure.
* :func:`wait_gen` is a ``backoff`` wait generator that sleeps what the vendor
  asked for when it did, and exponential backoff with full jitter otherwise.
* :func:`retrying` turns :class:`~.options.ConnectOptions` into a
  ``backoff.on_exception`` decorator for the part of a call that may be retried
  (for streams: up to the first byte or token).
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any, TypeVar

import aiohttp
import backoff
import httpx
import openai

from .options import RETRY_LISTENERS, ConnectOptions

__all__ = [
    "MAX_RETRY_AFTER",
    "RETRYABLE_STATUS",
    "VendorHTTPError",
    "is_retryable",
    "parse_retry_after",
    "retry_after",
    "retrying",
    "wait_gen",
]

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 409, 429})
MAX_RETRY_AFTER = 120.0  # a vendor asking for a longer pause is not retried (as the OpenAI SDK does)

F = TypeVar("F", bound=Callable[..., Any])


class VendorHTTPError(Exception):
    """A non-2xx answer from a vendor reached through aiohttp.

    ``status`` is the HTTP status, ``retry_after`` the pause the vendor asked
    for (seconds, or None) and ``body`` the start of the response body.
    """

    def __init__(self, status: int, body: str = "", retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body
        self.retry_after = retry_after


def status_retryable(status: int) -> bool:
    """True for statuses worth retrying: 408, 409, 429 and every 5xx."""
    return status in RETRYABLE_STATUS or status >= 500


def is_retryable(exc: BaseException) -> bool:
    """Whether ``exc`` is a transient vendor failure that another try may fix.

    OpenAI SDK: connection errors and timeouts, 408/409/429/5xx status errors
    and error events inside a stream (``APIError`` without a status). Raw
    ``httpx`` transport errors (a stream cut after the 200 headers leaks
    ``httpx.RemoteProtocolError``). aiohttp: client connection errors, payload
    errors and :class:`VendorHTTPError` with a retryable status. Also
    ``TimeoutError``. A ``Retry-After`` above :data:`MAX_RETRY_AFTER` is not retried.
    """
    pause = retry_after(exc)
    if pause is not None and pause > MAX_RETRY_AFTER:
        return False
    if isinstance(exc, openai.APIStatusError):
        return status_retryable(exc.status_code)
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIError):  # an {"error": …} event inside a stream
        return True
    if isinstance(exc, VendorHTTPError):
        return status_retryable(exc.status)
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return status_retryable(exc.status)
    if isinstance(exc, aiohttp.ClientResponseError):
        return status_retryable(exc.status)
    if isinstance(exc, (httpx.TransportError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)):
        return True
    return isinstance(exc, (TimeoutError, ConnectionError))


def parse_retry_after(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date); None if absent or bad."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms is not None:
        try:
            value = float(raw_ms) / 1000.0
            if value >= 0:
                return value
        except ValueError:
            pass
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        value = float(raw)
        return value if value >= 0 else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def retry_after(exc: BaseException | None) -> float | None:
    """The pause a vendor asked for in the failure ``exc`` (None when it asked for none)."""
    if exc is None:
        return None
    if isinstance(exc, VendorHTTPError):
        return exc.retry_after
    if isinstance(exc, openai.APIStatusError):
        return parse_retry_after(exc.response.headers)
    headers = getattr(exc, "headers", None)
    if isinstance(exc, aiohttp.ClientResponseError) and headers is not None:
        return parse_retry_after(headers)
    return None


def wait_gen(base_delay: float = 0.25, max_delay: float = 4.0) -> Generator[float | None, BaseException | None, None]:
    """A ``backoff`` wait generator: the vendor's ``Retry-After`` if any, else full-jitter exponential.

    ``backoff.on_exception`` sends each failure into the generator, so the
    delay after try ``n`` is ``retry_after(exc)`` when the vendor sent one,
    otherwise uniform in ``[0, min(max_delay, base_delay * 2**n)]``. Use it
    with ``jitter=None`` (the jitter is already applied).
    """
    n = 0
    exc = yield None  # backoff primes the generator with send(None)
    while True:
        pause = retry_after(exc)
        if pause is None:
            pause = random.uniform(0.0, min(max_delay, base_delay * (2**n)))
        n += 1
        exc = yield pause


def _log_backoff(details: dict[str, Any]) -> None:
    exc = details.get("exception")
    target = getattr(details.get("target"), "__qualname__", "vendor call")
    for listener in list(RETRY_LISTENERS):
        listener(target)
    log.info(
        "%s failed on try %d (%s); retrying in %.2fs",
        getattr(details.get("target"), "__qualname__", "vendor call"),
        details["tries"],
        exc,
        details.get("wait", 0.0),
    )


def retrying(
    options: ConnectOptions,
    *,
    retryable: Callable[[BaseException], bool] = is_retryable,
    max_time: float | None = None,
) -> Callable[[F], F]:
    """A ``backoff.on_exception`` decorator following ``options``.

    Tries at most ``options.max_tries`` times, for at most ``max_time`` (default
    ``options.deadline``) seconds, giving up at once on failures that
    ``retryable`` rejects; waits follow :func:`wait_gen`.
    """
    return backoff.on_exception(
        wait_gen,
        Exception,
        max_tries=options.max_tries,
        max_time=max_time if max_time is not None else options.deadline,
        giveup=lambda exc: not retryable(exc),
        jitter=None,
        on_backoff=_log_backoff,
        base_delay=options.base_delay,
        max_delay=options.max_delay,
    )
