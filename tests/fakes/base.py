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
