"""Decoding Socket.IO packets without ever raising: hostile JSON becomes an event the namespace refuses.

python-socketio's packet class takes its ``json`` module as a class attribute
(a public hook); :class:`SafePacket` is the one :class:`~.upstream.server.InterviewSocketServer`
uses. :func:`attachment_count` reads a binary packet's header before any
attachment is buffered.
"""

from __future__ import annotations

import json
from typing import Any

from socketio import packet

INVALID_EVENT = "\x00invalid"


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
