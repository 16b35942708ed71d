"""``python -m bench.bare_server PORT``: the bare python-socketio server of the ingest comparison.

python-socketio's ``AsyncServer`` on aiohttp with the library defaults (the same
``max_http_buffer_size`` as the app), no application logic: the
``audio_chunk`` handler only puts the bytes in a bounded queue (dropping when
full, as the app's queue does with no consumer) and counts them.
Every socket joins one room of its own, as the app's sockets do.
With ``BENCH_TRACEMALLOC=1``, ``/bench/tracemalloc`` too (bench/tracing.py).
``GET /stats`` answers ``{"chunks": n, "bytes": n}``; ``GET /healthz`` 200.
"""

from __future__ import annotations

import asyncio
import os
import sys

import socketio
from aiohttp import web

stats = {"chunks": 0, "bytes": 0, "dropped": 0}


def main() -> None:
    port = int(sys.argv[1])
    tracing = os.environ.get("BENCH_TRACEMALLOC") == "1"
    if tracing:
        from . import tracing as tracer

        tracer.start()
    sio = socketio.AsyncServer(async_mode="aiohttp", max_http_buffer_size=524288, cors_allowed_origins="*")
    app = web.Application()
    sio.attach(app)
    queues: dict[str, asyncio.Queue[bytes]] = {}

    @sio.on("audio_chunk", namespace="/interview")
    async def audio_chunk(sid: str, data: bytes) -> None:
        stats["chunks"] += 1
        stats["bytes"] += len(data)
        q = queues.setdefault(sid, asyncio.Queue(100))
        try:
            q.put_nowait(data)
        except asyncio.QueueFull:
            stats["dropped"] += 1

    @sio.on("connect", namespace="/interview")
    async def connect(sid: str, environ: dict, auth: object = None) -> None:
        await sio.enter_room(sid, f"room-{sid}", namespace="/interview")  # one room per socket, as the app

    @sio.on("disconnect", namespace="/interview")
    async def disconnect(sid: str, reason: object = None) -> None:
        queues.pop(sid, None)

    async def get_stats(request: web.Request) -> web.Response:
        return web.json_response(stats)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/stats", get_stats)
    app.router.add_get("/healthz", healthz)
    if tracing:
        tracer.install(app)
    # the app's LISTEN_BACKLOG default: aiohttp's 128 drops SYNs when thousands reconnect at once
    web.run_app(app, host="127.0.0.1", port=port, print=None, shutdown_timeout=1.0, backlog=4096)


if __name__ == "__main__":
    main()
