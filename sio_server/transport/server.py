"""The Socket.IO server class: python-socketio's, hardened against hostile packets."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
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
        # Upstream (python-socketio 5.x) keeps a half-assembled binary packet in
        # ``self._binary_packet[eio_sid]`` and appends every following frame to it.
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
