"""Issue 13 row 2: sockets and sessions are capped per client address and in total, before any work."""

from __future__ import annotations

import asyncio
import inspect
import json
import resource
import shutil
import socket
import subprocess
import time

import aiohttp
import engineio
import socketio

from sio_server.app import create_app
from sio_server.net.client_address import ClientAddress, parse_networks
from sio_server.transport.admission import raise_descriptor_limit, socket_budget
from sio_server.transport.upstream import InterviewEngineServer, InterviewSocketServer
from tests.support.services import need

NS = "/interview"


async def handshake(server, xff: str | None = None) -> tuple[int, dict | str]:
    """A polling handshake: (status, body)."""
    headers = {"X-Forwarded-For": xff} if xff else {}
    async with aiohttp.ClientSession() as http:
        r = await http.get(f"{server.make_url('/socket.io/')}?EIO=4&transport=polling", headers=headers)
        text = await r.text()
        return r.status, (json.loads(text) if r.content_type == "application/json" else text)


async def open_socket(server, headers: dict[str, str] | None = None) -> socketio.AsyncClient | None:
    client = socketio.AsyncClient(reconnection=False)
    try:
        await client.connect(str(server.make_url("/")), namespaces=[NS], transports=["websocket"], headers=headers or {}, wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        return None
    return client


async def test_sockets_per_client_are_capped_and_freed_on_disconnect(aiohttp_server, settings):
    server = await aiohttp_server(create_app(settings.model_copy(update={"max_sockets_per_client": 3})))
    clients = [await open_socket(server) for _ in range(3)]
    assert all(clients)
    assert await open_socket(server) is None
    status, body = await handshake(server)
    assert status == 429 and body["error"]["code"] == "too_many_sockets"
    await clients.pop().disconnect()
    for _ in range(100):  # the disconnect reaches the server
        if (extra := await open_socket(server)) is not None:
            break
        await asyncio.sleep(0.05)
    assert extra is not None
    for c in [*clients, extra]:
        await c.disconnect()


async def test_total_sockets_are_capped(aiohttp_server, settings):
    server = await aiohttp_server(create_app(settings.model_copy(update={"max_sockets": 2, "max_sockets_per_client": 100})))
    clients = [await open_socket(server) for _ in range(2)]
    status, body = await handshake(server)
    assert status == 503 and body["error"]["code"] == "server_busy"
    for c in clients:
        await c.disconnect()


async def test_forwarded_for_counts_only_behind_a_trusted_proxy(aiohttp_server, settings):
    trusting = settings.model_copy(update={"max_sockets_per_client": 1, "trusted_proxies": "127.0.0.1/32, ::1"})
    server = await aiohttp_server(create_app(trusting))
    one = await open_socket(server, {"X-Forwarded-For": "203.0.113.7"})
    other = await open_socket(server, {"X-Forwarded-For": "203.0.113.8"})
    assert one and other, "two clients behind the proxy, one socket each"
    assert await open_socket(server, {"X-Forwarded-For": "203.0.113.7"}) is None
    # A client writing its own header cannot pose as someone else: the proxy's hop is the one believed.
    assert await open_socket(server, {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}) is None
    for c in (one, other):
        await c.disconnect()

    direct = await aiohttp_server(create_app(settings.model_copy(update={"max_sockets_per_client": 1, "trusted_proxies": ""})))
    first = await open_socket(direct, {"X-Forwarded-For": "203.0.113.9"})
    assert first and await open_socket(direct, {"X-Forwarded-For": "203.0.113.10"}) is None, "no trusted proxy: the header is ignored"
    await first.disconnect()


def test_client_address_walks_from_the_right():
    addresses = ClientAddress(parse_networks("10.0.0.0/8, 127.0.0.1"))
    assert addresses.resolve("127.0.0.1", ["1.2.3.4, 10.1.1.1"]) == "1.2.3.4"
    assert addresses.resolve("127.0.0.1", ["6.6.6.6, 1.2.3.4"]) == "1.2.3.4", "spoofed hops to the left are ignored"
    assert addresses.resolve("5.5.5.5", ["1.2.3.4"]) == "5.5.5.5", "untrusted peer: header ignored"
    assert addresses.resolve("127.0.0.1", ["10.0.0.2", "10.0.0.3"]) == "10.0.0.2", "every hop trusted: the leftmost"
    assert addresses.resolve("::ffff:9.9.9.9", []) == "9.9.9.9"
    assert ClientAddress().resolve("127.0.0.1", ["1.2.3.4"]) == "127.0.0.1"


async def test_session_starts_are_capped_per_client_per_minute(aiohttp_server, settings, tmp_path):
    server = await aiohttp_server(create_app(settings.model_copy(update={"sessions_per_client_per_minute": 2})))
    codes = []
    for _ in range(4):  # a new socket each time: the cap is per address, not per socket
        client = await open_socket(server)
        ack = await client.call("start_interview", {"mode": "text", "max_questions": 1}, namespace=NS)
        codes.append("ok" if ack["ok"] else ack["error"]["code"])
        await client.disconnect()
    assert codes == ["ok", "ok", "too_many_sessions", "too_many_sessions"]
    assert len(list((tmp_path / "data" / "sessions").glob("*.json"))) == 2, "a refused start stores nothing"


async def test_active_sessions_are_capped_in_total(aiohttp_server, settings):
    server = await aiohttp_server(create_app(settings.model_copy(update={"max_active_sessions": 1})))
    first, second = await open_socket(server), await open_socket(server)
    assert (await first.call("start_interview", {"mode": "text"}, namespace=NS))["ok"]
    ack = await second.call("start_interview", {"mode": "text"}, namespace=NS)
    assert ack["error"]["code"] == "server_busy"
    await first.disconnect()
    await second.disconnect()


def test_descriptor_limit_is_raised_and_sockets_stay_below_it():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        assert raise_descriptor_limit() == (hard if hard != resource.RLIM_INFINITY else resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
        assert socket_budget(10_000, 64) == 1024 - 102, "refused before the limit, not at it"
        assert socket_budget(100, 64) == 100
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_idle_and_half_sent_requests_are_closed_quickly(server_factory):
    server = server_factory(env={"HTTP_IDLE_TIMEOUT": "1"}).start()
    idle = socket.create_connection(("127.0.0.1", server.port))
    half = socket.create_connection(("127.0.0.1", server.port))
    half.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
    started = time.monotonic()
    for conn in (idle, half):
        conn.settimeout(10)
        assert conn.recv(1024) == b"", "closed by the server"
        conn.close()
    assert time.monotonic() - started < 5, "aiohttp's default keeps such a connection 75 s"


def test_engineio_private_members_are_still_there():
    """The upstream members InterviewSocketServer and InterviewEngineServer rely on."""
    assert "_async" in inspect.getsource(engineio.base_server.BaseServer.__init__)
    assert {"translate_request", "websocket"} <= set(engineio.async_drivers.aiohttp._async)
    for name in ("_handle_connect",):
        assert hasattr(engineio.AsyncServer, name) and hasattr(InterviewEngineServer, name)
    # The override returns upstream's coroutine without awaiting it: upstream must await what it returns.
    assert "await self._handle_connect(" in inspect.getsource(engineio.AsyncServer.handle_request)
    for name in ("_engineio_server_class", "_handle_eio_connect", "_handle_eio_disconnect", "_handle_eio_message", "environ"):
        assert name in inspect.getsource(socketio.AsyncServer), name
    sio = InterviewSocketServer(async_mode="aiohttp")
    assert isinstance(sio.eio, InterviewEngineServer)


def test_the_listen_backlog_holds_a_reconnect_storm(server_factory):
    """``LISTEN_BACKLOG`` reaches listen(2): a listening socket's Send-Q in ``ss`` is its backlog."""
    need("ss (iproute2)", shutil.which("ss") is not None)
    server = server_factory(env={"LISTEN_BACKLOG": "1000"}).start()
    out = subprocess.run(["ss", "-Hltn", f"sport = :{server.port}"], capture_output=True, text=True, check=True).stdout
    backlogs = {int(line.split()[2]) for line in out.splitlines() if line.strip()}
    assert backlogs == {1000}, out
