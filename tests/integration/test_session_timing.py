"""Issue 13 row 12: whether a session id exists cannot be told from how long a wrong token takes."""

from __future__ import annotations

import statistics
import time
import uuid

import pytest

from sio_server.app import create_app
from sio_server.appkeys import SERVICE
from sio_server.domain.model import InterviewConfig

pytestmark = pytest.mark.alone  # medians of timings: nothing else of the suite beside them

SAMPLES = 300


async def timed(call, token: str) -> float:
    started = time.perf_counter()
    assert await call(token) is None
    return time.perf_counter() - started


async def test_wrong_secret_and_unknown_id_take_the_same_time(aiohttp_client, settings):
    client = await aiohttp_client(create_app(settings))
    service = client.server.app[SERVICE]
    live, token = await service.start(InterviewConfig(mode="text", job_description="a role " * 80))
    service.release(live)  # as after a disconnect: the session is only in the store
    known = f"{live.id}.{'w' * 43}"
    known_times, unknown_times = [], []
    for _ in range(SAMPLES):  # interleaved, so load on the machine hits both alike
        known_times.append(await timed(service.authenticate, known))
        unknown_times.append(await timed(service.authenticate, f"{uuid.uuid4()}.{'w' * 43}"))
    known_median, unknown_median = statistics.median(known_times), statistics.median(unknown_times)
    assert abs(known_median - unknown_median) / max(known_median, unknown_median) < 0.2, (known_median, unknown_median)
    assert (await service.authenticate(token)) is not None, "the right token still works"


async def test_session_token_route_does_the_same_work(aiohttp_client, settings):
    # 300 wrong tokens from one address: lift the 401 throttle (5 a minute), which would answer 429 first.
    client = await aiohttp_client(create_app(settings.model_copy(update={"admin_failures_per_minute": 1e9})))
    service = client.server.app[SERVICE]
    live, _ = await service.start(InterviewConfig(mode="text"))
    service.release(live)

    async def feedback(token: str) -> None:
        r = await client.get(f"/api/v1/sessions/{token.split('.')[0]}/feedback", headers={"Authorization": f"Bearer {token}"})
        assert r.status == 401

    known_times, unknown_times = [], []
    for _ in range(150):
        known_times.append(await timed(feedback, f"{live.id}.{'w' * 43}"))
        unknown_times.append(await timed(feedback, f"{uuid.uuid4()}.{'w' * 43}"))
    known_median, unknown_median = statistics.median(known_times), statistics.median(unknown_times)
    assert abs(known_median - unknown_median) / max(known_median, unknown_median) < 0.2, (known_median, unknown_median)
