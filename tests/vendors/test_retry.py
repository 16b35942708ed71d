"""The retry policy: what is retryable, Retry-After parsing, the wait curve and the deadline."""

from __future__ import annotations

import email.utils
import itertools
import sys
import time

import httpx
import openai
import pytest

from sio_server.vendors import openai_client
from sio_server.vendors.options import ConnectOptions
from sio_server.vendors.retry import (
    JITTER,
    VendorHTTPError,
    is_retryable,
    parse_retry_after,
    retry_after,
    retrying,
    wait_gen,
)

from .helpers import FakeClock


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
    assert openai_client.is_retryable(status_error(status)) is expected
    assert is_retryable(VendorHTTPError(status)) is expected
    assert openai_client.is_retryable(VendorHTTPError(status)) is expected


def test_transport_errors_retryable() -> None:
    request = httpx.Request("POST", "http://x")
    assert openai_client.is_retryable(openai.APIConnectionError(request=request))
    assert openai_client.is_retryable(openai.APITimeoutError(request=request))
    assert openai_client.is_retryable(httpx.RemoteProtocolError("peer closed connection"))
    assert openai_client.is_retryable(httpx.ReadTimeout("slow"))
    assert is_retryable(TimeoutError()) and is_retryable(ConnectionResetError())
    assert not openai_client.is_retryable(ValueError("bug")) and not is_retryable(ValueError("bug"))


def test_parse_retry_after() -> None:
    assert parse_retry_after({"Retry-After": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= parse_retry_after({"retry-after": date}) <= 31
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_long_retry_after_is_not_retried() -> None:
    assert openai_client.retry_after(status_error(429, {"retry-after": "3"})) == 3.0
    assert retry_after(VendorHTTPError(429, retry_after=3.0)) == 3.0
    assert not openai_client.is_retryable(status_error(429, {"retry-after": "600"}))
    assert not is_retryable(VendorHTTPError(429, retry_after=600))


def test_wait_gen_follows_the_exponential_curve_up_to_the_maximum() -> None:
    clock = FakeClock()
    gen = wait_gen(base_delay=1.0, max_delay=10.0, clock=clock)
    gen.send(None)
    waits = [gen.send(VendorHTTPError(503)) for _ in range(6)]
    for wait, expected in zip(waits, [1, 2, 4, 8, 10, 10]):
        assert expected * (1 - JITTER) <= wait <= expected
    assert gen.send(VendorHTTPError(429, retry_after=1.5)) == 1.5, "Retry-After is honoured"


def test_wait_gen_takes_no_wait_that_passes_the_deadline() -> None:
    clock = FakeClock()
    gen = wait_gen(base_delay=0.5, max_delay=5.0, deadline=3.0, clock=clock)
    gen.send(None)
    first = gen.send(VendorHTTPError(503))
    assert 0.4 <= first <= 0.5
    clock.now = 2.2  # a 1 s wait would end at 3.2 s, past the deadline
    with pytest.raises(StopIteration):
        gen.send(VendorHTTPError(503))
    gen = wait_gen(base_delay=0.5, max_delay=5.0, deadline=3.0, clock=FakeClock())
    gen.send(None)
    with pytest.raises(StopIteration):  # the vendor asks for more than the deadline leaves
        gen.send(VendorHTTPError(429, retry_after=4))


async def test_retrying_waits_follow_the_curve_and_stay_inside_the_deadline() -> None:
    """Measured: a call failing with 503 every time, base 0.2 s, max 0.5 s, deadline 1.5 s."""
    tries: list[float] = []
    retried: list[str] = []

    async def always_503() -> None:
        tries.append(time.monotonic())
        raise VendorHTTPError(503)

    options = ConnectOptions(max_tries=10, base_delay=0.2, max_delay=0.5, timeout=1.0, deadline=1.5)
    from sio_server.vendors.options import RETRY_LISTENERS

    RETRY_LISTENERS.add(retried.append)
    try:
        started = time.monotonic()
        with pytest.raises(VendorHTTPError):
            await retrying(options, "fake")(always_503)()
        ended = time.monotonic()
    finally:
        RETRY_LISTENERS.discard(retried.append)
    waits = [b - a for a, b in itertools.pairwise(tries)]
    expected = [0.2, 0.4, 0.5, 0.5]
    # Without jitter 0.2 + 0.4 + 0.5 = 1.1 s and a fourth 0.5 s wait would end at 1.6 s: not taken.
    # Jitter (up to 20% shorter) may leave room for it.
    assert 3 <= len(waits) <= 4, waits
    for wait, want in zip(waits, expected):
        assert want * (1 - JITTER) - 0.01 <= wait <= want + 0.15
    assert ended - started <= 1.5 + 0.15, "no wait passes the deadline"
    assert retried == ["fake"] * len(waits), "retries are counted under the provider's own name"


def test_retry_module_does_not_import_the_openai_sdk() -> None:
    import subprocess

    code = "import sys, sio_server.vendors.retry, sio_server.vendors.chains; print('openai' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
