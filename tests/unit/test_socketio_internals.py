"""Pins the python-socketio / python-engineio internals that transport/upstream/ relies on.

Each test names the upstream behaviour a comment in ``sio_server/transport/upstream/``
relies on; an upgrade that changes it fails here, before it breaks the server.
"""

from __future__ import annotations

import asyncio
import inspect

import engineio
import socketio
from engineio.async_socket import AsyncSocket
from socketio import packet
from socketio.async_pubsub_manager import AsyncPubSubManager

from sio_server.transport.packet_queue import PacketQueue
from sio_server.transport.upstream import (
    InterviewEngineServer,
    InterviewSocketServer,
    ListenerRedisManager,
    LocalManager,
    restart_listener,
)


def params(func) -> list[str]:
    return list(inspect.signature(func).parameters)


def test_handle_eio_message_is_the_entry_of_every_message_and_binary_packets_wait_in_a_dict():
    assert params(socketio.AsyncServer._handle_eio_message) == ["self", "eio_sid", "data"]
    assert inspect.iscoroutinefunction(socketio.AsyncServer._handle_eio_message)
    sio = InterviewSocketServer(async_mode="aiohttp")
    assert sio._binary_packet == {}
    source = inspect.getsource(socketio.AsyncServer._handle_eio_message)
    assert "self._binary_packet[eio_sid]" in source and ".add_attachment(" in source


def test_handle_event_and_send_packet_keep_their_signatures():
    assert params(socketio.AsyncServer._handle_event) == ["self", "eio_sid", "namespace", "id", "data"]
    assert params(socketio.AsyncServer._send_packet) == ["self", "eio_sid", "pkt"]
    assert "_handle_event(" in inspect.getsource(socketio.AsyncServer._handle_eio_message)


async def test_a_client_event_named_connect_is_acked_through_send_packet():
    sio = InterviewSocketServer(async_mode="aiohttp")
    sent: list[packet.Packet] = []

    async def record(eio_sid: str, pkt: packet.Packet) -> None:
        sent.append(pkt)

    sio._send_packet = record  # type: ignore[method-assign]
    await sio._handle_event("eio-1", "/interview", 7, ["connect", {}])
    assert len(sent) == 1 and sent[0].packet_type == packet.ACK and sent[0].id == 7
    assert sent[0].data[0]["error"]["code"] == "unknown_event"


async def test_engineio_sockets_take_their_queue_from_create_queue_and_poll_through_it():
    """``BaseSocket.__init__`` calls ``server.create_queue()``; ``poll`` uses get/get_nowait/task_done/put_nowait."""
    server = InterviewEngineServer(async_mode="aiohttp")
    socket = AsyncSocket(server, "sid-1")
    assert isinstance(socket.queue, PacketQueue)
    first, second = engineio.packet.Packet(engineio.packet.MESSAGE, "a"), engineio.packet.Packet(engineio.packet.MESSAGE, b"bb")
    await socket.queue.put(first)
    await socket.queue.put(second)
    assert socket.queue.qsize() == 2 and socket.queue.bytes == 3
    assert await socket.poll() == [first, second]
    assert socket.queue.bytes == 0
    socket.queue.put_nowait(None)
    assert await socket.poll() == [], "the websocket writer closes the connection on an empty poll"
    assert server.get_queue_empty_exception() is asyncio.QueueEmpty


async def test_the_pubsub_listener_iterates_the_listen_seam_and_ours_yields_the_channels_data():
    """``AsyncPubSubManager._thread`` handles what ``_listen()`` yields; ours keeps the data of our channel's messages."""
    assert "async for message in self._listen()" in inspect.getsource(AsyncPubSubManager._thread)
    assert "self.json.loads(message)" in inspect.getsource(AsyncPubSubManager._thread)
    assert inspect.isasyncgenfunction(ListenerRedisManager._listen)
    for name in ("redis_url", "redis_options", "channel"):
        manager = socketio.AsyncRedisManager("redis://127.0.0.1:1/0", channel="c", redis_options={"x": 1})
        assert hasattr(manager, name), name

    class Scripted(ListenerRedisManager):
        async def listen_messages(self):
            yield {"type": "subscribe", "channel": b"c", "data": 1}
            yield {"type": "message", "channel": b"other", "data": b"no"}
            yield {"type": "message", "channel": b"c", "data": b'{"method": "emit"}'}
            yield {"type": "message", "channel": "c", "data": "text"}

    manager = Scripted("redis://127.0.0.1:1/0", channel="c")
    assert [m async for m in manager._listen()] == [b'{"method": "emit"}', "text"]


async def test_the_pubsub_listener_task_is_thread_started_from_initialize():
    assert inspect.iscoroutinefunction(AsyncPubSubManager._thread)
    source = inspect.getsource(AsyncPubSubManager.initialize)
    assert "self.thread = self.server.start_background_task(self._thread)" in source

    class Quiet(ListenerRedisManager):
        async def listen_messages(self):
            await asyncio.Event().wait()
            yield {}  # pragma: no cover

    manager = Quiet("redis://127.0.0.1:1/0")
    sio = socketio.AsyncServer(async_mode="aiohttp", client_manager=manager)
    restart_listener(manager, sio)
    assert isinstance(manager.thread, asyncio.Task) and not manager.thread.done()
    manager.thread.cancel()
    await asyncio.gather(manager.thread, return_exceptions=True)


def test_connect_handler_runs_before_the_connect_packet_and_manager_connect_follows_it():
    source = inspect.getsource(socketio.AsyncServer._handle_connect)
    handler = source.index("self._trigger_event(\n                    'connect'")
    tail = source[handler:]
    assert tail.index("packet.CONNECT, {'sid': sid}") < tail.index("await self.manager.connect(sid, namespace)")
    assert params(socketio.AsyncManager.connect) == ["self", "sid", "namespace"]


async def test_wait_connected_wakes_on_manager_connect_and_gives_up_after_its_timeout(aiohttp_server):
    from aiohttp import web

    manager = LocalManager()
    sio = InterviewSocketServer(async_mode="aiohttp", client_manager=manager)
    seen: dict[str, bool] = {}
    waits: list[asyncio.Task[None]] = []

    async def after_connect(sid: str) -> None:
        seen["waited"] = await manager.wait_connected(sid, "/", 10)
        await sio.emit("hello", {"ok": True}, to=sid)

    @sio.event
    async def connect(sid, environ, auth=None):
        seen["at_handler"] = manager.is_connected(sid, "/")
        waits.append(asyncio.create_task(after_connect(sid)))

    app = web.Application()
    sio.attach(app)
    server = await aiohttp_server(app)
    client = socketio.AsyncClient()
    got = asyncio.get_running_loop().create_future()
    client.on("hello", lambda data: got.set_result(data))
    await client.connect(str(server.make_url("/")), transports=["websocket"])
    try:
        assert await asyncio.wait_for(got, 10) == {"ok": True}
        assert seen == {"at_handler": False, "waited": True}
    finally:
        await client.disconnect()
        await asyncio.gather(*waits, return_exceptions=True)
    assert await manager.wait_connected("never-connected", "/", 0.05) is False
    assert manager._connect_waiters == {}


async def test_send_json_sends_what_emit_to_one_sid_sends_and_nothing_once_the_socket_left():
    """``send_json`` (the replay's emit) relies on ``eio_sid_from_sid``, ``_send_packet`` and Packet's ``binary``
    argument; its frame must be the one upstream's ``emit(..., to=sid, ignore_queue=True)`` sends."""
    sio = InterviewSocketServer(async_mode="aiohttp", client_manager=LocalManager())
    sid = await sio.manager.connect("eio-1", "/interview")
    frames: list[tuple[str, str]] = []

    async def send(eio_sid: str, data: str) -> None:
        frames.append((eio_sid, data))

    async def send_packet(eio_sid: str, pkt) -> None:
        frames.append((eio_sid, pkt.data))

    sio.eio.send = send  # type: ignore[method-assign]
    sio.eio.send_packet = send_packet  # type: ignore[method-assign]
    data = {"history": [{"index": 1, "question": "Pourquoi é?", "answer": None}], "last_seq": 2}
    await sio.emit("session_resumed", data, to=sid, namespace="/interview", ignore_queue=True)
    await sio.send_json(sid, "session_resumed", data, "/interview")
    assert len(frames) == 2 and frames[0] == frames[1]
    await sio.manager.disconnect(sid, "/interview")
    await sio.send_json(sid, "state", {"status": "awaiting_answer"}, "/interview")
    assert len(frames) == 2
