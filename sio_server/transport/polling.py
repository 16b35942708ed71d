"""Long-polling request bodies, read whole and checked before python-engineio decodes them.

Upstream (python-engineio 4.x, ``AsyncSocket.handle_post_request``) reads a
polling body with one ``wsgi.input.read(CONTENT_LENGTH)``; on aiohttp that is
``StreamReader.read(n)``, which returns what has arrived so far, so a body
that arrives in several TCP pieces is cut (the rest is lost and the message
is undecodable). This is the one place that works around it: the transport
gives python-engineio a :class:`WholeBody` as ``wsgi.input``, which reads the
whole body (aiohttp's ``Request.read``, bounded by ``client_max_size`` =
``MAX_MESSAGE_BYTES``) within ``HTTP_BODY_TIMEOUT``, and refuses a body that
is not UTF-8 or holds an Engine.IO packet of an unknown type (or too many
packets) before python-engineio would log a traceback for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from engineio.payload import Payload

ENGINE_PACKET_TYPES = frozenset("0123456")
RECORD_SEPARATOR = "\x1e"


def malformed_text(frame: str) -> bool:
    """True when ``frame`` is not an Engine.IO packet python-engineio can decode (empty, unknown type)."""
    return not frame or frame[0] not in ENGINE_PACKET_TYPES


def body_problem(body: bytes) -> str | None:
    """Why a polling body is refused (``non_utf8_body``, ``unknown_packet_type``), or None."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "non_utf8_body"
    frames = text.split(RECORD_SEPARATOR)
    if len(frames) > Payload.max_decode_packets:
        return "too_many_packets"
    if any(malformed_text(frame) for frame in frames):
        return "unknown_packet_type"
    return None


class WholeBody:
    """``wsgi.input`` for python-engineio: ``read()`` returns the whole body, or nothing when it is refused.

    A refused body (``body_too_large``, ``body_timeout``, ``non_utf8_body``,
    ``unknown_packet_type``, ``too_many_packets``) is handed to ``on_refused``
    (which closes the socket) and read as empty, so python-engineio answers at
    once: raising its own ``EngineIOError`` instead would make it wait, with the
    request open, for the socket's queue to be drained by a GET that may never come.
    """

    def __init__(self, request: web.Request, timeout: float, on_refused: Callable[[str], Awaitable[None]]) -> None:
        self.request = request
        self.timeout = timeout
        self.on_refused = on_refused

    async def read(self, length: int = -1) -> bytes:
        """The whole body, whatever ``length`` asks (python-engineio asks for ``CONTENT_LENGTH``)."""
        try:
            async with asyncio.timeout(self.timeout):
                body = await self.request.read()
        except web.HTTPRequestEntityTooLarge:
            return await self._refuse("body_too_large")
        except TimeoutError:
            return await self._refuse("body_timeout")
        problem = body_problem(body)
        if problem is not None:
            return await self._refuse(problem)
        return body

    async def _refuse(self, kind: str) -> bytes:
        await self.on_refused(kind)
        return b""
