"""Binary packets are bounded: a client cannot make the server buffer attachments without limit."""

from __future__ import annotations

import asyncio

import aiohttp

from sio_server.app import create_app
from sio_server.appkeys import SIO
from sio_server.transport.packets import attachment_count
from tests.support.server import ADMIN

NS = "/interview"


async def open_namespace(server, http: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    """A raw Engine.IO websocket with the ``/interview`` namespace connected."""
    ws = await http.ws_connect(f"{server.make_url('/socket.io/')}?EIO=4&transport=websocket")
    assert (await ws.receive_str()).startswith("0")
    await ws.send_str(f"40{NS},")
    assert (await ws.receive_str()).startswith(f"40{NS},")
    return ws


async def closed_by_server(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5) -> bool:
    """Read until the server closes the websocket (True) or ``timeout`` passes (False)."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                msg = await ws.receive()
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                    return True
                if msg.type is aiohttp.WSMsgType.TEXT and msg.data == "2":
                    await ws.send_str("3")
    except TimeoutError:
        return False


async def metric(server, http: aiohttp.ClientSession, kind: str) -> float:
    text = await (await http.get(str(server.make_url("/metrics")), headers=ADMIN)).text()
    for line in text.splitlines():
        if line.startswith(f'interview_malformed_packets_total{{kind="{kind}"}}'):
            return float(line.split()[-1])
    return 0.0


async def test_a_huge_attachment_count_closes_the_connection_before_any_frame_is_buffered(aiohttp_server, settings):
    server = await aiohttp_server(create_app(settings))
    async with aiohttp.ClientSession() as http:
        ws = await open_namespace(server, http)
        await ws.send_str(f'459999999-{NS},["audio_chunk",{{"_placeholder":true,"num":0}}]')
        for _ in range(3):
            if ws.closed:
                break
            try:
                await ws.send_bytes(b"\0" * 100_000)
            except ConnectionResetError:
                break
        assert await closed_by_server(ws)
        assert server.app[SIO]._binary_packet == {}
        assert await metric(server, http, "too_many_attachments") == 1


async def test_an_assembled_packet_over_the_byte_limit_closes_the_connection(aiohttp_server, settings):
    app = create_app(settings.model_copy(update={"max_attachments": 4, "max_message_bytes": 200_000}))
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as http:
        ws = await open_namespace(server, http)
        placeholders = ",".join(f'{{"_placeholder":true,"num":{i}}}' for i in range(4))
        await ws.send_str(f'454-{NS},["audio_chunk",{placeholders}]')
        for _ in range(3):
            await ws.send_bytes(b"\0" * 90_000)
        assert await closed_by_server(ws)
        assert app[SIO]._binary_packet == {}
        assert await metric(server, http, "binary_packet_too_large") == 1


async def test_a_binary_frame_no_packet_announced_closes_the_connection(aiohttp_server, settings):
    server = await aiohttp_server(create_app(settings))
    async with aiohttp.ClientSession() as http:
        ws = await open_namespace(server, http)
        await ws.send_bytes(b"\x01\x02garbage")
        assert await closed_by_server(ws)
        assert await metric(server, http, "unannounced_binary_frame") == 1


async def test_a_normal_audio_chunk_still_arrives(aiohttp_server, settings):
    server = await aiohttp_server(create_app(settings))
    async with aiohttp.ClientSession() as http:
        ws = await open_namespace(server, http)
        await ws.send_str(f'451-{NS},1["audio_chunk",{{"_placeholder":true,"num":0}}]')
        await ws.send_bytes(b"\0" * 1000)
        async with asyncio.timeout(5):
            while True:
                reply = await ws.receive_str()
                if reply.startswith(f"43{NS},1"):
                    break
        assert '"no_session"' in reply, "the chunk reached the handler (which refuses it: no interview yet)"
        assert not await closed_by_server(ws, timeout=0.5)
        await ws.close()


def test_attachment_count_header():
    assert attachment_count("51-/interview,[]") == 1
    assert attachment_count("5459999999-/interview,[]") == 459999999
    assert attachment_count("5/interview,[]") is None and attachment_count("5x-") is None
