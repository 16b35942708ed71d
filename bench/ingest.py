"""4. Audio ingest: 50 clients streaming 4 KiB binary ``audio_chunk``s as fast as they can, against bare peers.

Every server runs in the same benchmark run, one after the other, each with the
same two load processes of 50 python-socketio clients: this server as is (on uvloop
when it is installed), on asyncio's own loop, with orjson (``bench/serve.py`` patches), bare python-socketio on aiohttp
(``bench/bare_server.py``) and Node's ``socket.io`` (``bench/node/bare_server.mjs``). Each client emits
4,096-byte binary ``audio_chunk`` events in a loop, keeping at most 16
Engine.IO packets (8 chunks) queued in its client so the socket's own
backpressure sets the pace. The app runs text interviews (``start_interview``
first, so the socket is bound) with its per-socket rate limits raised
(``RATE_EVENTS_PER_SECOND=1e9``, ``RATE_AUDIO_BYTES_PER_SECOND=1e12``);
the defaults (20 events/s, 256,000 B/s a socket) would cap 50 sockets at 12.8 MB/s.
The app refuses permessage-deflate as it is; the rows with deflate offered
run it with ``WS_COMPRESSION=true``, so both servers negotiate it.

Accepted = chunks that reached the server's ``audio_chunk`` handler, counted by
the server over a fixed window after a warm-up: for the app, the increase of
``interview_audio_dropped_chunks_total`` (a text session queues no audio: every
chunk its handler takes is counted as dropped; ``interview_rate_limited_total``
is checked to stay 0); for the bare server (``bench/bare_server.py``), its own handler counter.
Client-side sent bytes over the same window are shown too. MB = 10^6 bytes.
"""

from __future__ import annotations

import asyncio
import os
import time
import zlib
from typing import Any

import socketio

from .common import (
    BARE_NAMES,
    BROWSER_DEFLATE,
    LOAD_CPUS,
    NAMESPACE,
    SERVER_CPUS,
    BareServer,
    BenchServer,
    LoadPool,
    Result,
    Table,
    check,
    cpu_seconds,
    pinned_to,
    split,
)

CHUNK = 4096
APP_ENV = {"RATE_EVENTS_PER_SECOND": "1000000000", "RATE_AUDIO_BYTES_PER_SECOND": "1000000000000"}


async def worker(ctrl: Any, url: str, n: int, app: bool, deflate: bool) -> None:
    clients = []
    for _ in range(n):
        c = socketio.AsyncClient(reconnection=False, websocket_extra_options=dict(BROWSER_DEFLATE) if deflate else {})
        await c.connect(url, namespaces=[NAMESPACE], transports=["websocket"], wait_timeout=30)
        if app:
            ack = await c.call("start_interview", {"language": "en", "mode": "text"}, namespace=NAMESPACE, timeout=30)
            if not ack.get("ok"):
                raise RuntimeError(f"start_interview: {ack}")
        clients.append(c)
    negotiated = sum(1 for c in clients if getattr(c.eio.ws, "_compress", 0))
    ctrl.send({"ready": len(clients), "deflate": negotiated})
    await ctrl.recv()
    sent = [0] * len(clients)
    running = True
    payload = os.urandom(CHUNK)  # incompressible, like opus or mp3

    async def pump(i: int, c: socketio.AsyncClient) -> None:
        while running and c.connected:
            if c.eio.queue.qsize() > 16:
                await asyncio.sleep(0.002)
                continue
            await c.emit("audio_chunk", payload, namespace=NAMESPACE)
            sent[i] += 1

    tasks = [asyncio.create_task(pump(i, c)) for i, c in enumerate(clients)]
    while await ctrl.recv() == "mark":
        ctrl.send(sum(sent))
    running = False
    await asyncio.gather(*tasks, return_exceptions=True)
    ctrl.send(sum(sent))
    for c in clients:
        await c.disconnect()


def measure(
    kind: str, deflate: bool, n: int, warm: float, window: float, patches: tuple[str, ...] = ()
) -> dict[str, Any]:
    server: Any
    if kind == "app":
        # the server as is refuses deflate; to compare like with like when the clients offer it, turn it on
        env = {**APP_ENV, **({"WS_COMPRESSION": "true"} if deflate else {})}
        server = BenchServer(env=env, patches=patches, cpus=SERVER_CPUS).start()

        def accepted() -> int:
            return int(server.metrics().get("interview_audio_dropped_chunks_total", 0))
    else:
        server = BareServer(kind, cpus=SERVER_CPUS).start()

        def accepted() -> int:
            return int(server.stats()["chunks"])
    try:
        with LoadPool(worker, [{"url": server.url, "n": k, "app": kind == "app", "deflate": deflate} for k in split(n, 2)]) as pool:
            ready = pool.recv_all(timeout=120)
            pool.send_all("go")
            time.sleep(warm)
            pool.send_all("mark")
            s0, a0, t0, c0 = sum(pool.recv_all()), accepted(), time.monotonic(), cpu_seconds(server.pid)
            time.sleep(window)
            pool.send_all("mark")
            s1, a1, t1, c1 = sum(pool.recv_all()), accepted(), time.monotonic(), cpu_seconds(server.pid)
            pool.send_all("stop")
            pool.recv_all()
        limited = 0
        if kind == "app":
            limited = int(sum(v for k, v in server.metrics().items() if k.startswith("interview_rate_limited_total")))
    finally:
        server.close()
    dt = t1 - t0
    return {
        "clients": sum(r["ready"] for r in ready),
        "deflate": sum(r["deflate"] for r in ready),
        "accepted_mbs": (a1 - a0) * CHUNK / dt / 1e6,
        "sent_mbs": (s1 - s0) * CHUNK / dt / 1e6,
        "cpu_per_mb": (c1 - c0) / max((a1 - a0) * CHUNK / 1e6, 1e-9),
        "rate_limited": limited,
    }


def wire_table() -> Table:
    """Bytes on the websocket for one TTS chunk: binary attachment (now) vs base64 in a text frame (the seed's way)."""
    from socketio import packet

    def ws_header(n: int) -> int:  # server → client frames are unmasked
        return 2 if n < 126 else 4 if n < 65536 else 10

    def deflated(data: bytes) -> int:  # permessage-deflate: raw deflate, the 4-byte tail stripped
        c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        return len(c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)) - 4

    t = Table(
        "Bytes on the wire for one tts_chunk (incompressible audio), Engine.IO v4 / Socket.IO v5 framing",
        ["audio bytes", "binary event: frames", "binary: bytes", "base64 text frame: bytes", "base64 overhead",
         "binary, deflated", "base64, deflated"],
    )
    for size in (512, 2048, 4096, 16384):
        audio = os.urandom(size)
        data = {"index": 3, "chunk": 12, "mime": "audio/mpeg", "audio": audio}
        encoded = packet.Packet(packet.EVENT, namespace=NAMESPACE, data=["tts_chunk", data]).encode()
        frames = [(b"4" + encoded[0].encode()) if isinstance(encoded[0], str) else encoded[0]] + list(encoded[1:])
        binary = sum(len(f) + ws_header(len(f)) for f in frames)
        import base64

        text = packet.Packet(
            packet.EVENT, namespace=NAMESPACE, data=["tts_chunk", {**data, "audio": base64.b64encode(audio).decode()}]
        ).encode()
        text_frame = b"4" + text.encode()
        b64 = len(text_frame) + ws_header(len(text_frame))
        bin_defl = sum(deflated(f) + ws_header(deflated(f)) for f in frames)
        b64_defl = deflated(text_frame) + ws_header(deflated(text_frame))
        t.rows.append([size, len(frames), binary, b64, f"{(b64 - binary) / binary * 100:+.1f}%", bin_defl, b64_defl])
    t.notes.append(
        "encoded with python-socketio's own packet encoder; + the websocket frame header of each frame; TCP/IP "
        "headers not counted. 'deflated' = what permessage-deflate would send (zlib raw deflate of each message)."
    )
    return t


AS_IS = "app (as is, limits raised)"
# name: (server kind, clients offer deflate, bench.serve patches)
VARIANTS: dict[str, tuple[str, bool, tuple[str, ...]]] = {
    AS_IS: ("app", False, ()),
    "app + asyncio_loop (uvloop hidden)": ("app", False, ("asyncio_loop",)),
    "app + orjson (not adopted)": ("app", False, ("orjson",)),
    BARE_NAMES["python"]: ("python", False, ()),
    BARE_NAMES["node"]: ("node", False, ()),
    "app (WS_COMPRESSION=true, limits raised)": ("app", True, ()),
    f"{BARE_NAMES['python']}, deflate": ("python", True, ()),
}
QUICK = [AS_IS, BARE_NAMES["python"], BARE_NAMES["node"]]


def run(quick: bool) -> Result:
    result = Result("4. Audio ingest")
    n, warm, window = (10, 0.3, 0.5) if quick else (50, 2.0, 5.0)
    with pinned_to(LOAD_CPUS):
        names = QUICK if quick else list(VARIANTS)
        rows = {name: measure(*VARIANTS[name][:2], n, warm, window, VARIANTS[name][2]) for name in names}
    t = Table(
        f"{n} clients streaming {CHUNK}-byte binary audio_chunk events, {window:.0f} s window after {warm:.1f} s warm-up",
        ["server", "client offers deflate", "negotiated", "accepted MB/s (server count)", "sent MB/s (clients)",
         "vs bare python", "server CPU s per MB", "rate-limited"],
    )
    for name, r in rows.items():
        kind, deflate, _ = VARIANTS[name]
        bare = rows.get(f"{BARE_NAMES['python']}, deflate" if deflate else BARE_NAMES["python"])
        ratio = r["accepted_mbs"] / bare["accepted_mbs"] if bare and bare["accepted_mbs"] else float("nan")
        t.rows.append([name, "yes" if deflate else "no", f"{r['deflate']}/{r['clients']}", f"{r['accepted_mbs']:.1f}",
                       f"{r['sent_mbs']:.1f}", f"{ratio:.2f}x", f"{r['cpu_per_mb']:.3f}", r["rate_limited"]])
    t.notes.append("the same python-socketio load clients against every server, one server after the other. The app as "
                   "is refuses permessage-deflate; the deflate rows run it with WS_COMPRESSION=true so that both servers "
                   "negotiate it. Node's socket.io leaves permessage-deflate off by default. CPU = the server process's "
                   "user + system time over the window (/proc/PID/stat). Server pinned to CPU 0, load clients to CPU 1 "
                   "(os.sched_setaffinity), as in the latency benchmark.")
    result.tables.append(t)
    result.tables.append(wire_table())
    for deflate in (False, True):
        app = rows.get("app (WS_COMPRESSION=true, limits raised)" if deflate else AS_IS)
        bare = rows.get(f"{BARE_NAMES['python']}, deflate" if deflate else BARE_NAMES["python"])
        if app and bare:
            ratio = app["accepted_mbs"] / max(bare["accepted_mbs"], 1e-9)
            check(result, f"ingest >= 0.8x bare ({'deflate offered' if deflate else 'no deflate'})", ratio >= 0.8, f"{ratio:.2f}x")
    result.method = __doc__ or ""
    return result
