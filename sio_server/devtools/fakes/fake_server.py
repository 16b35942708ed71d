"""A local aiohttp server on 127.0.0.1 and a random port, used as an async context manager."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

from aiohttp import web


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for "connection refused" tests)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeServer:
    """Base of the fake vendors: ``async with Fake() as fake: fake.url``.

    Subclasses add their routes in :meth:`routes`. ``host``/``port`` are set
    once started; :meth:`stop` also closes open websockets and streams.
    """

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._open: set[Any] = set()

    def routes(self, app: web.Application) -> None:  # pragma: no cover - abstract
        """Add this fake's routes to ``app``."""
        raise NotImplementedError

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> FakeServer:
        """Listen on a random port."""
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Close open connections and stop listening."""
        for item in list(self._open):
            with contextlib.suppress(Exception):
                if isinstance(item, web.WebSocketResponse):
                    await asyncio.wait_for(item.close(), 0.5)
                elif isinstance(item, asyncio.Transport):
                    item.abort()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Any:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def cut(request: web.Request) -> None:
    """Close the TCP connection of ``request`` abruptly (after flushing what was written, no chunk terminator)."""
    transport = request.transport
    if transport is not None:
        transport.close()


async def stream_chunks(
    request: web.Request,
    resp: web.StreamResponse,
    data: bytes,
    *,
    chunk_size: int,
    chunk_delay: float = 0.0,
    cut_after: int | None = None,
) -> bool:
    """Write ``data`` in ``chunk_size`` pieces (``chunk_delay`` apart) to a prepared ``resp``.

    With ``cut_after`` the TCP connection is closed abruptly once that many
    bytes are out (0: before the first byte). True when all was sent and the
    body ended, False when it was cut.
    """
    sent = 0
    for start in range(0, len(data), chunk_size):
        piece = data[start : start + chunk_size]
        if cut_after is not None and sent + len(piece) > cut_after:
            piece = piece[: cut_after - sent]
            if piece:
                await resp.write(piece)
            await asyncio.sleep(0.01)
            cut(request)
            return False
        if start and chunk_delay:
            await asyncio.sleep(chunk_delay)
        await resp.write(piece)
        sent += len(piece)
    await resp.write_eof()
    return True


async def send_audio(
    request: web.Request, fake: Any, audio: bytes, headers: dict[str, str]
) -> tuple[web.StreamResponse, bool]:
    """Answer ``request`` with ``audio`` as a chunked body following the knobs of ``fake``.

    ``fake`` has ``first_byte_delay``, ``chunk_size``, ``chunk_delay`` and
    ``cut_after_bytes`` (used while ``cut_times`` > 0, which a cut decrements).
    Returns the response and whether all the audio was sent.
    """
    resp = web.StreamResponse(headers={"Content-Type": "audio/mpeg", **headers})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    if fake.first_byte_delay:
        await asyncio.sleep(fake.first_byte_delay)
    cut_at = fake.cut_after_bytes if fake.cut_times > 0 else None
    done = await stream_chunks(
        request, resp, audio, chunk_size=fake.chunk_size, chunk_delay=fake.chunk_delay, cut_after=cut_at
    )
    if not done:
        fake.cut_times -= 1
    return resp, done
