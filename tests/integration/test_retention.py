"""Report retention (issue 12): an ended interview stays readable after SESSION_TTL;
once purged after REPORT_RETENTION its token answers 410 ``expired`` and resuming is refused."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from client_adapter import InterviewClient
from sio_server.app import create_app
from sio_server.appkeys import SERVICE
from sio_server.domain.model import utcnow
from tests.support.refusals import connect_error
from tests.support.server import ADMIN

NS = "/interview"
TTL = 0.3


@pytest.fixture
async def app_server(aiohttp_server, settings):
    return await aiohttp_server(create_app(settings.model_copy(update={"session_ttl": TTL, "report_retention": 3600})))


@pytest.fixture
async def http(aiohttp_client, app_server):
    return await aiohttp_client(app_server)


async def finished_interview(server) -> InterviewClient:
    client = InterviewClient(str(server.make_url("/")).rstrip("/"))
    await client.connect()
    await client.start(language="en", mode="text", max_questions=1)
    question = await client.next_question()
    await client.answer_text(question["index"], "I led the migration of our billing service and cut costs by 20%.")
    await client.feedback()
    await client.close()
    return client


async def test_feedback_outlives_session_ttl_and_a_purged_report_is_expired(app_server, http):
    client = await finished_interview(app_server)
    service = app_server.app[SERVICE]
    own = {"Authorization": f"Bearer {client.resume_token}"}
    url = f"/api/v1/sessions/{client.session_id}/feedback"
    first = await (await http.get(url, headers=own)).json()
    ended_at = (await service.peek(client.session_id)).ended_at
    async with asyncio.timeout(10):  # wait until two TTLs have passed since the interview ended
        while utcnow() < ended_at + timedelta(seconds=2 * TTL):
            await asyncio.sleep(TTL / 3)
    r = await http.post("/api/v1/maintenance/cleanup", headers=ADMIN)
    assert await r.json() == {"purged": 0, "ended": 0}
    assert client.session_id not in service.live, "the live state is freed after SESSION_TTL"
    r = await http.get(url, headers=own)
    assert r.status == 200 and await r.json() == first

    assert await service.sweep(now=utcnow() + timedelta(seconds=3601)) == {"purged": 1, "ended": 0}
    for headers in (own, ADMIN):
        r = await http.get(url, headers=headers)
        assert r.status == 410 and (await r.json())["error"]["code"] == "expired"
    r = await http.get(f"/api/v1/sessions/{client.session_id}", headers=ADMIN)
    assert r.status == 410 and (await r.json())["error"]["code"] == "expired"
    wrong = {"Authorization": f"Bearer {client.session_id}.not-the-secret"}
    r = await http.get(url, headers=wrong)
    assert r.status == 401, "only the session's own token learns that it expired"

    error = await connect_error(str(app_server.make_url("/")), {"resume_token": client.resume_token, "last_seq": 0})
    assert error["message"] == "expired" and error["data"]["code"] == "expired"
