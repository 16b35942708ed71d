"""Rate limits, graceful shutdown and hostile text, against real servers."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
import socketio

from client_adapter import InterviewClient
from sio_server.app import NAMESPACE_HANDLERS, create_app
from sio_server.appkeys import METRICS, SERVICE
from tests.support.server import ADMIN
from tests.support.waiting import wait_until

NS = "/interview"


def audio_refused(app) -> int:
    """Audio chunks refused by the rate limit so far (the server's own counter)."""
    line = 'interview_rate_limited_total{kind="audio"} '
    text = app[METRICS].render().decode()
    return int(float(next((x[len(line):] for x in text.splitlines() if x.startswith(line)), "0")))


@pytest.fixture
async def limited(aiohttp_server, settings):
    app = create_app(settings.model_copy(update={"rate_events_per_second": 5, "rate_audio_bytes_per_second": 10_000}))
    return await aiohttp_server(app)


async def raw_client(server):
    sio = socketio.AsyncClient(reconnection=False)
    received: list[tuple[str, object]] = []
    sio.on("*", lambda event, data=None: received.append((event, data)), namespace=NS)
    await sio.connect(str(server.make_url("/")), namespaces=[NS], transports=["websocket"])
    return sio, received


async def test_event_flood_is_rate_limited_and_changes_nothing(limited, settings):
    sio, _ = await raw_client(limited)
    acks = await asyncio.gather(*(sio.call("start_interview", {"language": "fr"}, namespace=NS) for _ in range(40)))
    codes = [a["error"]["code"] for a in acks]
    assert codes.count("rate_limited") >= 25 and set(codes) == {"rate_limited", "invalid_payload"}
    await asyncio.sleep(1.0)
    ack = await sio.call("start_interview", {"mode": "text", "max_questions": 1}, namespace=NS)
    assert ack["ok"], "the budget refills"
    async with aiohttp.ClientSession() as http:
        metrics = await (await http.get(str(limited.make_url("/metrics")), headers=ADMIN)).text()
    assert 'interview_rate_limited_total{kind="events"}' in metrics
    await sio.disconnect()


async def test_audio_flood_is_rate_limited_with_one_error_a_second(limited):
    sio, received = await raw_client(limited)
    ack = await sio.call("start_interview", {"mode": "text", "max_questions": 1}, namespace=NS)
    live = limited.app[SERVICE].live[ack["session_id"]]
    handlers = limited.app[NAMESPACE_HANDLERS]._handlers
    passed, handle = 0, handlers["audio_chunk"]

    async def counted(sid, payload):  # observe the chunks that got past the rate limit
        nonlocal passed
        passed += 1
        return await handle(sid, payload)

    handlers["audio_chunk"] = counted
    started = time.monotonic()
    for _ in range(30):
        await sio.emit("audio_chunk", b"\x01" * 4000, namespace=NS)

    def errors() -> list[object]:
        return [d for e, d in received if e == "error" and d["code"] == "rate_limited"]

    await wait_until(lambda: passed + audio_refused(limited.app) == 30 and errors(), what="30 chunks handled")
    elapsed = time.monotonic() - started
    assert 1 <= len(errors()) <= 1 + int(elapsed)  # one error a second at most (exactly one unless the host stalls)
    assert len(live.audio) <= 6  # 20 kB burst / 4 kB
    await sio.disconnect()


@pytest.mark.parametrize("text", ["nul\x00byte", "bell\x07", "lone \ud800 surrogate"])
async def test_control_characters_are_refused(limited, text):
    sio, _ = await raw_client(limited)
    ack = await sio.call("start_interview", {"mode": "text", "job_title": text}, namespace=NS)
    assert ack["error"]["code"] == "invalid_payload"
    await sio.disconnect()


async def test_sigterm_warns_clients_and_exits_quickly_then_clients_resume(server_factory):
    server = server_factory(env={"OFFLINE_LLM_DELAY": "0.5"}).start()
    client = InterviewClient(server.url)
    await client.connect()
    await client.start(language="en", mode="text", max_questions=3)
    q = await client.next_question()
    await client.answer_text(q["index"], "An answer given right before the shutdown.")
    started = time.monotonic()
    code = await asyncio.to_thread(server.terminate, 10)
    elapsed = time.monotonic() - started
    assert code == 0, server.log()
    assert elapsed < 5.0
    assert any(name == "server_shutdown" for name, _ in client.live_events)
    session = json.loads((server.data_dir / "sessions" / f"{client.session_id}.json").read_text())
    assert session["turns"][0]["answer"] == "An answer given right before the shutdown."
    await asyncio.to_thread(server.start)
    second = await client.next_question(timeout=20)
    assert second["index"] == 2
    await client.close()


async def test_socketio_honours_cors_origins(aiohttp_server, settings):
    server = await aiohttp_server(create_app(settings.model_copy(update={"cors_allowed_origins": "https://ok.test"})))
    url = str(server.make_url("/"))
    good = socketio.AsyncClient(reconnection=False)
    await good.connect(url, namespaces=[NS], transports=["websocket"], headers={"Origin": "https://ok.test"})
    await good.disconnect()
    evil = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await evil.connect(url, namespaces=[NS], transports=["websocket"], headers={"Origin": "https://evil.test"}, wait_timeout=3)
    await evil.disconnect()


@pytest.mark.parametrize("enabled", [False, True])
async def test_websocket_compression_is_refused_unless_enabled(aiohttp_server, settings, enabled):
    server = await aiohttp_server(create_app(settings.model_copy(update={"ws_compression": enabled})))
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"{server.make_url('/socket.io/')}?EIO=4&transport=websocket", compress=15)
        assert (await ws.receive_str()).startswith("0")
        assert bool(ws.compress) is enabled
        await ws.close()
