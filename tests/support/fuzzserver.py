"""An in-process server on its own event loop thread, for sync (hypothesis) tests.

The app runs on a real port in a background thread; tests submit coroutines
with :meth:`LoopServer.run`. Every log record at ERROR or above (from any
logger, asyncio's "exception was never retrieved" included) is captured, as
are exceptions that reach the loop's exception handler.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from sio_server.app import create_app
from sio_server.appkeys import SERVICE
from sio_server.settings import Settings

from .services import free_port

T = TypeVar("T")
CLIENT_LOGGERS = ("engineio.client", "socketio.client", "client_adapter")


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(CLIENT_LOGGERS):  # the test's own clients run in this process too
            self.records.append(record)


class LoopServer:
    """``create_app(settings)`` served on 127.0.0.1 from a background event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.capture = _Capture()
        self.loop_errors: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self.loop.run_forever, name="fuzz-server-loop", daemon=True)
        self._runner: web.AppRunner | None = None
        self.app: web.Application | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sessions_dir(self) -> Path:
        return Path(self.settings.data_dir).resolve() / "sessions"

    def start(self) -> "LoopServer":
        # What earlier tests of this process leaked is collected now, before the capture starts: an
        # unclosed aiohttp session says so on the ``asyncio`` logger when it is collected, and must not
        # be blamed on a fuzz input.
        gc.collect()
        logging.getLogger().addHandler(self.capture)
        self.loop.set_exception_handler(lambda loop, context: self.loop_errors.append(context))
        self._thread.start()
        self.run(self._start())
        return self

    async def _start(self) -> None:
        self.app = create_app(self.settings)
        self._runner = web.AppRunner(self.app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run ``coro`` on the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        try:
            if self._runner is not None:
                self.run(self._runner.cleanup(), timeout=15)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            logging.getLogger().removeHandler(self.capture)

    # -- checks ---------------------------------------------------------------------

    def errors(self) -> list[str]:
        """Captured ERROR records and loop exceptions, formatted."""
        out = []
        for r in self.capture.records:
            text = f"{r.levelname} {r.name}: {r.getMessage()}"
            if r.exc_info:
                text += "\n" + logging.Formatter().formatException(r.exc_info)
            out.append(text)
        out.extend(f"loop exception: {c.get('message')} {c.get('exception')!r}" for c in self.loop_errors)
        return out

    def snapshot(self) -> dict[str, bytes]:
        """The bytes of every session file (temp files left out)."""
        folder = self.sessions_dir
        if not folder.exists():
            return {}
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if not p.name.startswith(".")}

    async def _quiesce(self, timeout: float) -> None:
        service = self.app[SERVICE]  # type: ignore[index]
        deadline = self.loop.time() + timeout
        while self.loop.time() < deadline:
            if not any(live.busy for live in list(service.live.values())):
                await asyncio.sleep(0.002)
                if not any(live.busy for live in list(service.live.values())):
                    return
            await asyncio.sleep(0.005)
        raise TimeoutError("pending steps did not finish")

    def quiesce(self, timeout: float = 10.0) -> None:
        """Wait until no pending step (question or feedback being written) runs."""
        self.run(self._quiesce(timeout), timeout + 5)

    def live_ids(self) -> set[str]:
        return set(self.app[SERVICE].live)  # type: ignore[index]


def raw_http(port: int, request: bytes, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """Send raw request bytes (``Connection: close``) and parse the response: status, headers, body."""
    import http.client

    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock, method=request.split(b" ", 1)[0].decode("latin-1"))
        response.begin()
        body = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, body
