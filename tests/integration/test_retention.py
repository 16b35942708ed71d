"""Report retention (issue 12): an ended interview stays readable after SESSION_TTL;
once purged after REPORT_RETENTION its token answers 410 ``expired`` and resuming is refused.
The store quota never purges a finished report to make room for someone else (issue 19 row 6)."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
import socketio

from client_adapter import InterviewClient
from sio_server.app import create_app
from sio_server.appkeys import SERVICE
from sio_server.domain.model import utcnow
from tests.support.cluster import PG_DSN, drop_schema, new_schema, pg_available
from tests.support.refusals import connect_error
from tests.support.server import ADMIN
from tests.support.services import need

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


async def abandoned_start(url: str, forwarded_for: str | None = None) -> str:
    """Connect, start an interview, leave without answering: the start_interview ack's code (or "ok")."""
    client = socketio.AsyncClient(reconnection=False)
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    await client.connect(url, namespaces=[NS], transports=["websocket"], headers=headers, wait_timeout=10)
    try:
        ack = await client.call("start_interview", {"language": "en", "mode": "text"}, namespace=NS, timeout=20)
    finally:
        await client.disconnect()
    return "ok" if ack.get("ok") else ack["error"]["code"]


@pytest.fixture(params=["files", "postgres"])
async def store_env(request) -> AsyncIterator[dict[str, str]]:
    """Environment of a server on the file store, or on PostgreSQL (a fresh schema, dropped afterwards)."""
    if request.param == "files":
        yield {}
        return
    need("PostgreSQL at 127.0.0.1:5432", await pg_available())
    schema = new_schema()
    yield {"DATABASE_URL": PG_DSN, "DATABASE_SCHEMA": schema}
    await drop_schema(schema)


async def test_abandoned_starts_never_push_finished_reports_out_of_a_full_store(server_factory, store_env):
    """Issue 19 row 6: with MAX_STORED_SESSIONS=30, 60 abandoned starts from one client, then 60 more naming
    60 addresses, leave 5 earlier finished reports readable; the newcomers are refused instead."""
    server = server_factory(
        {
            "MAX_STORED_SESSIONS": "30",
            "MAX_STORED_SESSIONS_PER_CLIENT": "10",
            "SESSIONS_PER_CLIENT_PER_MINUTE": "1000",  # the attack spread over hours, in seconds
            "TRUSTED_PROXIES": "127.0.0.1",
            **store_env,
        }
    ).start()

    class Server:  # finished_interview() takes an aiohttp test server; only make_url is used
        @staticmethod
        def make_url(path: str) -> str:
            return server.url + path

    reports = [await finished_interview(Server) for _ in range(5)]
    async with aiohttp.ClientSession(server.url) as http:

        async def feedback(client: InterviewClient) -> tuple[int, dict]:
            url = f"/api/v1/sessions/{client.session_id}/feedback"
            async with http.get(url, headers={"Authorization": f"Bearer {client.resume_token}"}) as r:
                return r.status, await r.json()

        before = [await feedback(c) for c in reports]
        assert all(status == 200 for status, _ in before)

        one_client = collections.Counter([await abandoned_start(server.url) for _ in range(60)])
        assert one_client == {"ok": 10, "too_many_sessions": 50}, "one client keeps at most its cap stored"
        many = collections.Counter([await abandoned_start(server.url, f"198.51.100.{i}") for i in range(1, 61)])
        assert many == {"ok": 15, "store_full": 45}, "the store fills to its quota, then refuses newcomers"

        assert [await feedback(c) for c in reports] == before, "every finished report is still readable"
        async with http.get("/api/v1/sessions?limit=1000", headers=ADMIN) as r:
            assert len((await r.json())["sessions"]) == 30
