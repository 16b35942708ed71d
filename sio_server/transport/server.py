"""The Socket.IO server class and client managers: python-socketio's, hardened and observable.

**Every use of a private member of python-socketio / python-engineio lives in
this module**, each with a comment naming the upstream behaviour it relies on;
``tests/unit/test_socketio_internals.py`` fails when an upgrade changes one of
them. Other modules use only public APIs and the helpers defined here.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import socketio
from socketio import packet

log = logging.getLogger(__name__)

INVALID_EVENT = "\x00invalid"
BINARY_PACKET_TYPES = (str(packet.BINARY_EVENT), str(packet.BINARY_ACK))
RESERVED_EVENTS = frozenset({"connect", "disconnect", "connect_error"})


class SafeJSON:
    """``json`` for python-socketio's packet decoder that never raises.

    A payload nested too deeply for the decoder (``RecursionError``) or
    malformed becomes the event ``INVALID_EVENT``, which the namespace answers
    with ``invalid_payload`` (after the rate limit), instead of an error
    logged without an ack.
    """

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(text: str | bytes, *args: Any, **kwargs: Any) -> Any:
        """Decode ``text``; undecodable input becomes ``[INVALID_EVENT]``."""
        try:
            return json.loads(text, *args, **kwargs)
        except (ValueError, RecursionError):
            return [INVALID_EVENT]


class SafePacket(packet.Packet):
    """Socket.IO packets decoded with :class:`SafeJSON`, whatever other code sets on ``Packet``."""

    json = SafeJSON


def attachment_count(header: str) -> int | None:
    """The attachment count a binary packet announces (``5<count>-…``), or None when malformed."""
    digits, dash, _ = header[1:12].partition("-")
    return int(digits) if dash and digits.isdigit() else None


class InterviewSocketServer(socketio.AsyncServer):
    """``AsyncServer`` with a decoder that never raises, refusing client events named like lifecycle events.

    Socket.IO delivers ``connect``/``disconnect`` to the namespace from the
    protocol itself; a client sending an *event* with one of those names must
    not reach those handlers.

    Binary packets are bounded: upstream buffers the attachments a packet
    announces with no limit on their number or total size (one frame is
    bounded by ``max_http_buffer_size``, the packet being assembled is not).
    A packet announcing more than ``max_attachments``, an assembled packet
    over ``max_packet_bytes``, or a binary frame no packet announced closes
    the connection; ``on_violation`` is told the kind.
    """

    def __init__(
        self,
        *args: Any,
        max_attachments: int = 1,
        max_packet_bytes: int = 1 << 20,
        on_violation: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.packet_class = SafePacket
        self.max_attachments = max_attachments
        self.max_packet_bytes = max_packet_bytes
        self.on_violation = on_violation

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        # Upstream (python-socketio 5.x): ``AsyncServer._handle_eio_message(eio_sid,
        # data)`` is the one entry point of every Engine.IO message; it keeps a
        # half-assembled binary packet in ``self._binary_packet[eio_sid]`` and
        # appends every following frame to it. No public hook sees raw frames.
        if eio_sid not in self.eio.sockets:
            return  # closed for a violation: what is still in flight is dropped unread
        violation = self._binary_violation(eio_sid, data)
        if violation is None:
            await super()._handle_eio_message(eio_sid, data)
            return
        self._binary_packet.pop(eio_sid, None)
        log.warning("closing a connection: %s", violation)
        if self.on_violation is not None:
            self.on_violation(violation)
        await self._close_now(eio_sid)

    async def _close_now(self, eio_sid: str) -> None:
        """Disconnect and close the transport at once.

        ``eio.disconnect`` runs the disconnect handlers and queues Engine.IO's
        CLOSE packet, but python-engineio's websocket writer then waits up to
        ``ping_interval + ping_timeout`` before it closes the websocket; a
        ``None`` in the socket's queue is its signal to close now.
        """
        socket = self.eio.sockets.get(eio_sid)
        await self.eio.disconnect(eio_sid)
        if socket is not None:
            # Upstream (python-engineio 4.x): the websocket writer task stops
            # and closes the websocket when it takes ``None`` from ``socket.queue``.
            socket.queue.put_nowait(None)

    def _binary_violation(self, eio_sid: str, data: Any) -> str | None:
        pending = self._binary_packet.get(eio_sid)
        if pending is not None:
            assembled = sum(len(a) for a in pending.attachments) + len(data)
            return "binary_packet_too_large" if assembled > self.max_packet_bytes else None
        if isinstance(data, (bytes, bytearray)):
            return "unannounced_binary_frame"
        if isinstance(data, str) and data[:1] in BINARY_PACKET_TYPES:
            count = attachment_count(data)
            if count is None or not 1 <= count <= self.max_attachments:
                return "too_many_attachments"
        return None

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None, data: Any) -> None:
        # Upstream (python-socketio 5.x): ``AsyncServer._handle_event(eio_sid,
        # namespace, id, data)`` dispatches a client EVENT packet (``data`` is
        # ``[name, *args]``); the namespace's ``trigger_event`` cannot tell a
        # client event named "connect" from the real connect. The refusal is
        # acked with ``_send_packet(eio_sid, pkt)``, the one way to send a packet
        # to a not-yet-identified socket.
        if isinstance(data, list) and data and data[0] in RESERVED_EVENTS:
            if id is not None:
                ns = namespace or "/"
                await self._send_packet(
                    eio_sid,
                    self.packet_class(
                        packet.ACK,
                        namespace=ns,
                        id=id,
                        data=[{"ok": False, "error": {"code": "unknown_event", "message": "reserved event name"}}],
                    ),
                )
            return
        await super()._handle_event(eio_sid, namespace, id, data)


# -- client managers -------------------------------------------------------------------


class ConnectSignals:
    """Client-manager mixin: lets a task wait until a socket is fully connected to a namespace.

    python-socketio runs the ``connect`` handler *before* it sends the CONNECT
    packet, then calls the manager's public ``connect(sid, namespace)``; events
    sent to the socket before that are not delivered in order. A resume
    replay waits here for that call instead of polling.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connect_waiters: dict[tuple[str, str], asyncio.Future[None]] = {}

    async def connect(self, sid: str, namespace: str) -> Any:
        """Register the client as connected (upstream), then wake whoever waits for it."""
        result = await super().connect(sid, namespace)  # type: ignore[misc]
        waiter = self._connect_waiters.pop((sid, namespace), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return result

    async def wait_connected(self, sid: str, namespace: str, timeout: float) -> bool:
        """True once ``sid`` is connected to ``namespace``; False when ``timeout`` passes first."""
        if self.is_connected(sid, namespace):  # type: ignore[attr-defined]
            return True
        key = (sid, namespace)
        waiter = self._connect_waiters.get(key)
        if waiter is None:
            waiter = self._connect_waiters[key] = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            if self._connect_waiters.get(key) is waiter and not waiter.done():
                del self._connect_waiters[key]


class LocalManager(ConnectSignals, socketio.AsyncManager):
    """The in-process client manager (one server process)."""


class ListenerRedisManager(ConnectSignals, socketio.AsyncRedisManager):
    """``AsyncRedisManager`` whose pub/sub listener loop is :meth:`listen_messages` (a subclass provides it)."""

    def listen_messages(self) -> AsyncIterator[dict[str, Any]]:
        """Yield the raw pub/sub messages of ``self.channel``, reconnecting as needed, forever."""
        raise NotImplementedError

    # Upstream (python-socketio 5.x): ``AsyncRedisManager._listen`` iterates
    # ``self._redis_listen_with_retries()``, an async generator of redis-py
    # pub/sub message dicts ({"type", "channel", "data"}), and keeps the ones of
    # ``self.channel``. There is no public hook for the listener's connection
    # and retry policy, so the generator is replaced.
    async def _redis_listen_with_retries(self) -> AsyncIterator[dict[str, Any]]:  # type: ignore[override]
        async for message in self.listen_messages():
            yield message


def restart_listener(manager: socketio.AsyncRedisManager, sio: socketio.AsyncServer) -> None:
    """Start a pub/sub manager's listener task again after it died."""
    manager.connected = False  # type: ignore[attr-defined]
    # Upstream: ``AsyncPubSubManager.initialize`` starts ``self._thread`` (the
    # listen loop) as a background task kept in ``self.thread``; the public
    # ``initialize`` also re-runs the base set-up, so only the task is restarted.
    manager.thread = sio.start_background_task(manager._thread)  # type: ignore[attr-defined]


def queued_packets(socket: Any) -> list[Any]:
    """The Engine.IO packets queued on ``socket`` and not yet written (a snapshot)."""
    # Upstream (python-engineio 4.x): ``AsyncSocket.queue`` is an
    # ``asyncio.Queue`` of packets the writer task has not sent yet; asyncio's
    # Queue keeps them in the deque ``_queue``. Only ``qsize()`` is public,
    # and the backlog bound needs their sizes.
    return list(socket.queue._queue)
