"""A real nginx cutting idle connections after 3 s: Engine.IO pings keep the socket alive."""

from __future__ import annotations

import asyncio

import pytest

from client_adapter import InterviewClient
from tests.support.nginx import Nginx
from tests.support.services import BEHIND_LOCAL_PROXY, need_program

pytestmark = [pytest.mark.integration, pytest.mark.services]
IDLE_SECONDS = 15


@pytest.fixture
def proxied(server_factory, tmp_path):
    binary = need_program("nginx")
    started = []

    def make(ping_interval: int):
        server = server_factory(env={"PING_INTERVAL": str(ping_interval), "PING_TIMEOUT": "20", **BEHIND_LOCAL_PROXY}).start()
        proxy = Nginx(binary, tmp_path / f"nginx-{ping_interval}", server.port, idle_timeout="3s").start()
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.stop()


async def idle_interview(url: str) -> InterviewClient:
    client = InterviewClient(url)
    await client.connect()
    await client.start(language="en", mode="text", max_questions=2)
    await client.next_question()
    await asyncio.sleep(IDLE_SECONDS)
    return client


async def test_pings_every_second_keep_an_idle_client_connected(proxied):
    proxy = proxied(ping_interval=1)
    client = await idle_interview(proxy.url)
    assert client.disconnects == 0 and client.connects == 1
    ack = await client.answer_text(1, "Still here after a long pause.")
    assert ack["ok"] and client.disconnects == 0
    await client.close()


async def test_without_frequent_pings_the_proxy_cuts_and_the_client_resumes(proxied):
    proxy = proxied(ping_interval=25)
    client = await idle_interview(proxy.url)
    assert client.disconnects >= 1, "the proxy should have cut the idle connection (control case)"
    await client.wait_for(lambda: client.connected, timeout=10)
    assert client.resumes >= 1
    ack = await client.answer_text(1, "Back after the cut.")
    assert ack["ok"]
    await client.next_question()
    await client.close()
