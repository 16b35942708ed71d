"""The retry policy: what is retryable, Retry-After parsing, the wait generator."""

from __future__ import annotations

import email.utils
import time

import httpx
import openai
import pytest

from sio_server.vendors.retry import VendorHTTPError, is_retryable, parse_retry_after, retry_after, wait_gen


def status_error(status: int, headers: dict[str, str] | None = None) -> openai.APIStatusError:
    request = httpx.Request("POST", "http://x/v1/chat/completions")
    response = httpx.Response(status, headers=headers or {}, request=request)
    cls = {400: openai.BadRequestError, 401: openai.AuthenticationError, 429: openai.RateLimitError}.get(
        status, openai.InternalServerError if status >= 500 else openai.APIStatusError
    )
    return cls("boom", response=response, body=None)


@pytest.mark.parametrize(
    "status, expected",
    [
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (422, False),
        (408, True),
        (429, True),
        (500, True),
        (503, True),
    ],
)
def test_status_retryable(status: int, expected: bool) -> None:
    assert is_retryable(status_error(status)) is expected
    assert is_retryable(VendorHTTPError(status)) is expected


def test_transport_errors_retryable() -> None:
    request = httpx.Request("POST", "http://x")
    assert is_retryable(openai.APIConnectionError(request=request))
    assert is_retryable(openai.APITimeoutError(request=request))
    assert is_retryable(httpx.RemoteProtocolError("peer closed connection"))
    assert is_retryable(httpx.ReadTimeout("slow"))
    assert not is_retryable(ValueError("bug"))


def test_parse_retry_after() -> None:
    assert parse_retry_after({"Retry-After": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= parse_retry_after({"retry-after": date}) <= 31
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_long_retry_after_is_not_retried() -> None:
    assert retry_after(status_error(429, {"retry-after": "3"})) == 3.0
    assert not is_retryable(status_error(429, {"retry-after": "600"}))


def test_wait_gen_prefers_retry_after_then_full_jitter() -> None:
    gen = wait_gen(base_delay=0.1, max_delay=0.3)
    gen.send(None)
    assert gen.send(VendorHTTPError(429, retry_after=1.5)) == 1.5
    waits = [gen.send(VendorHTTPError(500)) for _ in range(50)]
    assert all(0 <= w <= 0.3 for w in waits) and len(set(waits)) > 1
