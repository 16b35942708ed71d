"""Issue 13 row 6: long-polling bodies are read whole, up to MAX_MESSAGE_BYTES, however they arrive."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from sio_server.app import create_app
from sio_server.devtools.rawpolling import RawPolling
from tests.support.server import ADMIN

NS = "/interview"


def connected(server) -> RawPolling:
    client = RawPolling(server.host, server.port)
    assert client.post(f"40{NS},".encode())[0] == 200
    assert f"40{NS}," in client.read_until(f"40{NS},")
    return client


def start_packet(description: str) -> bytes:
    payload = {"mode": "text", "max_questions": 1, "job_description": description}
    return f'42{NS},1["start_interview",{json.dumps(payload)}]'.encode()


async def test_a_body_sent_in_pieces_is_read_whole(aiohttp_server, settings):
    server = await aiohttp_server(create_app(settings))

    def run() -> str:
        client = connected(server)
        status, _ = client.post(start_packet("x" * 2000), pieces=2, pause=0.2)
        assert status == 200
        return client.read_until(f"43{NS},1")

    reply = await asyncio.to_thread(run)
    ack = json.loads(reply[reply.index(f"43{NS},1") + len(f"43{NS},1") :].split("\x1e")[0])[0]
    assert ack["ok"] is True, ack


async def test_a_large_body_in_many_pieces_is_read_whole(aiohttp_server, settings):
    server = await aiohttp_server(create_app(settings))

    def run() -> str:
        client = connected(server)
        status, _ = client.post(start_packet("y" * 19_000) + b"\x1e" + b"3" * 1, pieces=20, pause=0.02)
        assert status == 200
        return client.read_until(f"43{NS},1")

    assert '"ok":true' in (await asyncio.to_thread(run)).replace(" ", "")


async def test_a_body_over_the_limit_or_too_slow_is_refused_at_once(aiohttp_server, settings):
    app = create_app(settings.model_copy(update={"max_message_bytes": 4096, "http_body_timeout": 0.5}))
    server = await aiohttp_server(app)

    def run() -> tuple[int, int]:
        big = connected(server).post(b"4" + b"z" * 10_000, pieces=4, pause=0.05, length=10_001)[0]
        slow = connected(server).post(b"40" + b" " * 100, length=500)[0]  # 398 bytes never come
        return big, slow

    big, slow = await asyncio.wait_for(asyncio.to_thread(run), 10)
    assert big in (200, 400, 413) and slow == 200
    async with aiohttp.ClientSession() as http:
        metrics = await (await http.get(str(server.make_url("/metrics")), headers=ADMIN)).text()
    assert 'kind="body_too_large"' in metrics and 'kind="body_timeout"' in metrics
