"""``python -m bench.bare_server PORT``: the bare python-socketio server of the ingest comparison.

python-socketio's ``AsyncServer`` on aiohttp with the library defaults (the same
``max_http_buffer_size`` as the app), no application logic: the
``audio_chunk`` handler only puts the bytes in a bounded queue (dropping when
full, as the app's queue does with no consumer) and counts them.
Every socket joins one room of its own, as the app's sockets do.
The turn benchmark's CPU floor (``bench/latency.py``): ``start_interview`` and
``answer_text`` are acked at once, then the next question's events go out as the
app sends them (``question``, ``BARE_TURN_CHUNKS`` binary ``tts_chunk``s of
``BARE_TURN_CHUNK_BYTES``, ``tts_end``), with no vendor, store or interview logic.
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
    turn_chunks = int(os.environ.get("BARE_TURN_CHUNKS", "3"))
    audio = bytes(int(os.environ.get("BARE_TURN_CHUNK_BYTES", "1261")))
    speaking: set[asyncio.Task[None]] = set()  # owned here: each ends by itself, the set keeps it referenced

    async def speak(sid: str, index: int) -> None:
        await sio.emit("question", {"seq": index, "index": index, "text": "Next question?", "is_last": False},
                       to=sid, namespace="/interview")
        for chunk in range(turn_chunks):
            await sio.emit("tts_chunk", {"index": index, "chunk": chunk, "mime": "audio/mpeg", "audio": audio},
                           to=sid, namespace="/interview")
        await sio.emit("tts_end", {"index": index, "chunks": turn_chunks, "ok": True}, to=sid, namespace="/interview")

    def spoken(sid: str, index: int) -> None:
        task = asyncio.get_running_loop().create_task(speak(sid, index))
        speaking.add(task)
        task.add_done_callback(speaking.discard)

    @sio.on("start_interview", namespace="/interview")
    async def start_interview(sid: str, data: object = None) -> dict:
        spoken(sid, 1)
        return {"ok": True}

    @sio.on("answer_text", namespace="/interview")
    async def answer_text(sid: str, data: dict) -> dict:
        spoken(sid, int(data["index"]) + 1)
        return {"ok": True}

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
