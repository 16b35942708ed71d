"""The Socket.IO and Engine.IO server classes: python-socketio's and python-engineio's, hardened against
hostile packets (decoded by :mod:`..packets`), with admission control and the real client address.

Every private member of upstream used here carries a comment naming the
behaviour it relies on; ``tests/unit/test_socketio_internals.py``,
``tests/integration/test_admission.py`` and ``test_binary_limits.py`` fail when
an upgrade changes one of them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import engineio
import socketio
from aiohttp.web import WebSocketResponse
from engineio.async_drivers import aiohttp as eio_aiohttp
from socketio import packet

from ...net.client_address import ClientAddress, client_key
from ...observability.logs import KeyedGate
from ..admission import Admission, Refusal
from ..packet_queue import PacketQueue
from ..packets import INVALID_EVENT, SafePacket, attachment_count
from ..polling import WholeBody, malformed_text

log = logging.getLogger(__name__)

BINARY_PACKET_TYPES = (str(packet.BINARY_EVENT), str(packet.BINARY_ACK))
RESERVED_EVENTS = frozenset({"connect", "disconnect", "connect_error"})
MALFORMED_ERRORS = (ValueError, TypeError, IndexError, KeyError, AttributeError)


class GuardedWebSocket(eio_aiohttp.WebSocket):
    """python-engineio's aiohttp websocket wrapper, closing the socket on a frame Engine.IO cannot decode,
    and without permessage-deflate unless ``WS_COMPRESSION`` asks for it.

    Upstream (``AsyncSocket._websocket_handler``) logs a traceback ("Unknown
    receive error") for a text frame of an unknown packet type (``9garbage``)
    and reads on; here such a frame ends the connection like a closed one.

    Upstream's ``__call__`` makes the ``WebSocketResponse`` with aiohttp's
    default ``compress=True``, which keeps about 100 KiB of zlib state per
    socket a client offers deflate to; the audio this server carries does not
    compress. ``__call__`` below is upstream's with ``compress`` set from the
    server's ``ws_compression`` (it stores the response in ``_sock``, which
    upstream's ``send``/``wait``/``close`` use).
    """

    async def __call__(self, environ: dict[str, Any]) -> Any:
        request = environ["aiohttp.request"]
        self._sock = WebSocketResponse(
            max_msg_size=self.server.max_http_buffer_size, compress=self.server.ws_compression
        )
        await self._sock.prepare(request)
        self.environ = environ
        await self.handler(self)
        return self._sock

    async def wait(self) -> Any:
        data = await super().wait()
        if isinstance(data, str) and malformed_text(data):
            self.server.report_malformed(self.environ.get("REMOTE_ADDR", "?"), "unknown_packet_type")
            raise OSError("malformed Engine.IO frame")
        return data


class InterviewEngineServer(engineio.AsyncServer):
    """python-engineio's ``AsyncServer`` with admission, the real client address and whole polling bodies.

    Private members of python-engineio 4.x used here (pinned by
    ``tests/integration/test_admission.py::test_engineio_private_members_are_still_there``):
    ``_async`` (the driver table: its ``translate_request`` builds the environ
    with ``REMOTE_ADDR`` always 127.0.0.1 and ``wsgi.input`` the raw stream, its
    ``websocket`` class wraps aiohttp's websocket) and ``_handle_connect``
    (the handshake, before any socket exists).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._async = {**self._async, "translate_request": self._translate, "websocket": GuardedWebSocket}
        self.admission: Admission | None = None
        self.addresses = ClientAddress()
        self.body_timeout = 10.0
        self.on_malformed: Callable[[str], None] | None = None
        self.malformed_log = KeyedGate(60.0)
        self.ws_compression = False

    def create_queue(self, *args: Any, **kwargs: Any) -> Any:
        """Each socket's outgoing queue (python-engineio's public hook): a :class:`.packet_queue.PacketQueue`.

        A bounded queue (``maxsize``), which python-engineio never asks for, stays an ``asyncio.Queue``.
        """
        if args or kwargs:
            return super().create_queue(*args, **kwargs)
        return PacketQueue()

    def _translate(self, request: Any) -> dict[str, Any]:
        environ = eio_aiohttp.translate_request(request)
        environ["REMOTE_ADDR"] = self.addresses.resolve(request.remote, request.headers.getall("X-Forwarded-For", []))
        if request.method == "POST":
            # Upstream refuses a large CONTENT_LENGTH by raising, then waits for the socket's queue to drain
            # with the request open; WholeBody bounds the body itself (client_max_size) and answers at once.
            environ.pop("CONTENT_LENGTH", None)
            sid = request.query.get("sid", "")
            address = environ["REMOTE_ADDR"]
            environ["wsgi.input"] = WholeBody(request, self.body_timeout, lambda kind: self._refuse_body(sid, address, kind))
        return environ

    async def _refuse_body(self, sid: str, address: str, kind: str) -> None:
        """Count and log a refused polling body and close its socket without waiting for its queue."""
        self.report_malformed(address, kind)
        socket = self.sockets.get(sid)
        if socket is not None:
            await socket.close(wait=False, abort=False)

    def report_malformed(self, address: str, kind: str) -> None:
        """Count a malformed input of ``kind``; log it at most once per client address per interval.

        Per address, not per socket: a client opening a new socket for every
        bad packet still gets one line per interval.
        """
        if self.on_malformed is not None:
            self.on_malformed(kind)
        dropped = self.malformed_log.allow(client_key(address))
        if dropped is not None:
            log.warning("malformed input (%s) from %s (%d more from it since the last line)", kind, address, dropped)

    def _handle_connect(self, environ: dict[str, Any], transport: str, jsonp_index: int | None = None) -> Awaitable[Any]:
        # Upstream awaits this for every handshake; for a websocket it returns only when the socket closes.
        # A plain function handing back upstream's own coroutine keeps no frame of ours for that whole life.
        if self.admission is not None:
            if self.admission.sockets >= self.admission.max_sockets:
                self.admission.retain(self.sockets)
            try:
                self.admission.check_socket(environ["REMOTE_ADDR"])
            except Refusal as refusal:
                return _refused(refusal)
        return super()._handle_connect(environ, transport, jsonp_index)


async def _refused(refusal: Refusal) -> dict[str, Any]:
    """The WSGI-style response python-engineio sends for a refused handshake."""
    body = json.dumps({"error": {"code": refusal.code, "message": refusal.message}})
    status = "429 TOO MANY REQUESTS" if refusal.status == 429 else "503 SERVICE UNAVAILABLE"
    return {"status": status, "headers": [("Content-Type", "application/json")], "response": body.encode()}


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
        admission: Admission | None = None,
        addresses: ClientAddress | None = None,
        body_timeout: float = 10.0,
        malformed_log_interval: float = 60.0,
        ws_compression: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.packet_class = SafePacket
        self.max_attachments = max_attachments
        self.max_packet_bytes = max_packet_bytes
        self.on_violation = on_violation
        self.admission = admission
        self.eio.admission = admission
        self.eio.addresses = addresses or ClientAddress()
        self.eio.body_timeout = body_timeout
        self.eio.on_malformed = on_violation
        self.eio.malformed_log = KeyedGate(malformed_log_interval)
        self.eio.ws_compression = ws_compression

    def client_of(self, sid: str, namespace: str) -> str:
        """The client of socket ``sid`` as per-client caps count it: the address its handshake resolved.

        The one place the store quota's client is taken from; it must be the key admission counts.
        """
        environ = self.get_environ(sid, namespace) or {}
        return client_key(environ.get("REMOTE_ADDR", "?"))  # IPv6 per /64, as admission counts

    def admit_session(self, sid: str, namespace: str) -> None:
        """Raise ``too_many_sessions`` / ``server_busy`` when the socket's client may not start an interview now."""
        if self.admission is not None:
            self.admission.admit_session(self.client_of(sid, namespace))

    def queued_bytes(self, sid: str, namespace: str) -> int:
        """Bytes waiting in the outgoing Engine.IO queue of the socket ``sid`` of ``namespace`` (0 once it is gone)."""
        # Upstream (python-engineio 4.x): ``eio.sockets`` maps an Engine.IO sid to its socket, whose ``queue``
        # (made by ``create_queue``: a PacketQueue) holds the packets not yet written to the client.
        eio_sid = self.manager.eio_sid_from_sid(sid, namespace)
        socket = self.eio.sockets.get(eio_sid) if eio_sid else None
        return socket.queue.bytes if socket is not None else 0

    async def send_json(self, sid: str, event: str, data: Any, namespace: str) -> None:
        """``emit(event, data, to=sid, namespace=namespace, ignore_queue=True)`` for ``data`` holding no bytes.

        One packet for the one socket, without upstream's walk of ``data`` looking for binary
        attachments and its task per recipient (a resume replays a history this way).
        """
        # Upstream (python-socketio 5.x): ``AsyncManager.emit`` to one sid sends nothing once the socket left
        # the namespace (``eio_sid_from_sid`` is None then), else ``_send_packet``s one encoded packet;
        # ``binary=False`` skips ``Packet.data_is_binary``, which only decides the packet type.
        eio_sid = self.manager.eio_sid_from_sid(sid, namespace)
        if eio_sid is None:
            return
        await self._send_packet(eio_sid, self.packet_class(packet.EVENT, namespace=namespace, data=[event, data], binary=False))

    def _address(self, eio_sid: str) -> str:
        # Upstream keeps each Engine.IO socket's environ in ``self.environ`` until it disconnects.
        return self.environ.get(eio_sid, {}).get("REMOTE_ADDR", "?")

    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        # Upstream (python-socketio 5.x) builds its Engine.IO server from this class.
        return InterviewEngineServer

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        # Upstream calls this for every new Engine.IO socket (after ``_handle_connect`` admitted it).
        if self.admission is not None:
            self.admission.opened(eio_sid, environ.get("REMOTE_ADDR", "?"))
        return await super()._handle_eio_connect(eio_sid, environ)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any = None) -> None:
        # Upstream calls this once for every Engine.IO socket that closes.
        try:
            await super()._handle_eio_disconnect(eio_sid, reason)
        finally:
            if self.admission is not None:
                self.admission.closed(eio_sid)

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        # Upstream (python-socketio 5.x): ``AsyncServer._handle_eio_message(eio_sid,
        # data)`` is the one entry point of every Engine.IO message; it keeps a
        # half-assembled binary packet in ``self._binary_packet[eio_sid]`` and
        # appends every following frame to it. No public hook sees raw frames.
        if eio_sid not in self.eio.sockets:
            return  # closed for a violation: what is still in flight is dropped unread
        violation = self._binary_violation(eio_sid, data)
        if violation is None:
            try:
                await super()._handle_eio_message(eio_sid, data)
            except MALFORMED_ERRORS:
                # Upstream raises (and python-engineio logs a traceback) for a packet it cannot decode.
                self._binary_packet.pop(eio_sid, None)
                self.eio.report_malformed(self._address(eio_sid), "undecodable_packet")
                log.debug("undecodable packet from %s", eio_sid, exc_info=True)
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
        if not (isinstance(data, list) and data and isinstance(data[0], str)):
            # Upstream indexes ``data[0]`` unchecked; a malformed event goes to the namespace as
            # INVALID_EVENT so the rate limit applies before ``invalid_payload`` is acked.
            self.eio.report_malformed(self._address(eio_sid), "invalid_event")
            data = [INVALID_EVENT]
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
