"""The Socket.IO server class: python-socketio's, hardened against hostile packets."""

from __future__ import annotations

import json
from typing import Any

import socketio
from socketio import packet

INVALID_EVENT = "\x00invalid"
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


class InterviewSocketServer(socketio.AsyncServer):
    """``AsyncServer`` with a decoder that never raises, refusing client events named like lifecycle events.

    Socket.IO delivers ``connect``/``disconnect`` to the namespace from the
    protocol itself; a client sending an *event* with one of those names must
    not reach those handlers.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.packet_class = SafePacket

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
