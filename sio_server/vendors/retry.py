"""Retry policy shared by the vendor clients, built on the ``backoff`` library.

* :func:`is_retryable` says which failures are worth another try: connection
  errors and timeouts, HTTP 408/409/429 and 5xx; never other 4xx (bad request,
  bad key, forbidden, not found, validation).
* :func:`retry_after` reads a vendor's ``retry-after-ms`` / ``Retry-After``
  (seconds or an HTTP date) from a failure.
* :func:`wait_gen` is a ``backoff`` wait generator: what the vendor asked for
  when it did, else exponential from ``base_delay`` to ``max_delay``; a wait
  that would end past the call's deadline is not taken (the call fails at once).
* :func:`retrying` turns :class:`~.options.ConnectOptions` into a
  ``backoff.on_exception`` decorator for the part of a call that may be retried
  (for streams: up to the first byte or token).

Nothing here knows a vendor SDK: the OpenAI SDK's failures are classified in
:mod:`.openai_client`, so a process without OpenAI never imports it.
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

from .options import RETRY_LISTENERS, ConnectOptions

__all__ = [
    "JITTER",
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
JITTER = 0.2  # a wait is shortened by up to this fraction, so that many sessions do not retry in step

F = TypeVar("F", bound=Callable[..., Any])
Classifier = Callable[[BaseException], bool]
PauseOf = Callable[[BaseException | None], float | None]


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

    aiohttp client connection and payload errors, :class:`VendorHTTPError` and
    handshake errors with a retryable status, ``TimeoutError`` and
    ``ConnectionError``. A ``Retry-After`` above :data:`MAX_RETRY_AFTER` is not retried.
    """
    pause = retry_after(exc)
    if pause is not None and pause > MAX_RETRY_AFTER:
        return False
    if isinstance(exc, VendorHTTPError):
        return status_retryable(exc.status)
    if isinstance(exc, (aiohttp.WSServerHandshakeError, aiohttp.ClientResponseError)):
        return status_retryable(exc.status)
    if isinstance(exc, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)):
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
    headers = getattr(exc, "headers", None)
    if isinstance(exc, aiohttp.ClientResponseError) and headers is not None:
        return parse_retry_after(headers)
    return None


def wait_gen(
    base_delay: float = 1.0,
    max_delay: float = 10.0,
    deadline: float | None = None,
    pause_of: PauseOf = retry_after,
    clock: Callable[[], float] = time.monotonic,
) -> Generator[float | None, BaseException | None, None]:
    """A ``backoff`` wait generator: the vendor's ``Retry-After`` if any, else exponential.

    ``backoff`` makes one generator per call and sends each failure into it;
    the wait after try ``n`` (from 0) is ``pause_of(exc)`` when the vendor asked
    for a pause, else ``min(max_delay, base_delay * 2**n)`` shortened by up to
    :data:`JITTER`. When the wait would end more than ``deadline`` seconds
    after the call started, the generator stops, and ``backoff`` re-raises the
    failure at once instead of sleeping past the deadline. Use with ``jitter=None``.
    """
    started = clock()
    curve = backoff.expo(base=2, factor=base_delay, max_value=max_delay)
    next(curve)  # backoff.expo starts with an initial send(None) of its own
    exc = yield None  # backoff primes the generator with send(None)
    while True:
        pause = pause_of(exc)
        if pause is None:
            pause = next(curve) * random.uniform(1.0 - JITTER, 1.0)
        if deadline is not None and clock() - started + pause > deadline:
            log.info("not retrying: a %.2fs wait would pass the %.2fs deadline", pause, deadline)
            return
        exc = yield pause


def _on_backoff(vendor: str) -> Callable[[dict[str, Any]], None]:
    def report(details: dict[str, Any]) -> None:
        for listener in list(RETRY_LISTENERS):
            listener(vendor)
        log.info(
            "%s: %s failed on try %d (%s); retrying in %.2fs",
            vendor,
            getattr(details.get("target"), "__qualname__", "vendor call"),
            details["tries"],
            details.get("exception"),
            details.get("wait", 0.0),
        )

    return report


def retrying(
    options: ConnectOptions,
    vendor: str,
    *,
    retryable: Classifier = is_retryable,
    pause_of: PauseOf = retry_after,
    max_time: float | None = None,
) -> Callable[[F], F]:
    """A ``backoff.on_exception`` decorator following ``options`` for the provider named ``vendor``.

    Tries at most ``options.max_tries`` times, within ``max_time`` (default
    ``options.deadline``) seconds, giving up at once on failures that
    ``retryable`` rejects; waits follow :func:`wait_gen` with ``pause_of``
    reading the vendor's requested pause. Every retry is reported to
    :data:`~.options.RETRY_LISTENERS` with ``vendor``.
    """
    budget = max_time if max_time is not None else options.deadline
    return backoff.on_exception(
        wait_gen,
        Exception,
        max_tries=options.max_tries,
        max_time=budget,
        giveup=lambda exc: not retryable(exc),
        jitter=None,
        on_backoff=_on_backoff(vendor),
        base_delay=options.base_delay,
        max_delay=options.max_delay,
        deadline=budget,
        pause_of=lambda: pause_of,  # backoff calls callable wait arguments once per call
    )
