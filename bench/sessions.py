"""1. Sessions per process: server RSS with N live interview sessions, and after they end and are swept.

Each session is a python-socketio ``AsyncClient`` on the websocket transport in a
load process (two load processes), which starts a text interview and waits
for its first ``question``; heartbeats run (``PING_INTERVAL=5``) while all N
are held. Then every client ends its interview, waits for ``feedback`` and
disconnects; the sweeper (``SWEEP_INTERVAL=1``, ``SESSION_TTL=1``) purges the
ended sessions, and the RSS is read again.

The clients offer permessage-deflate the way browsers do (``compress=15``);
python-socketio's client offers nothing by default, which would hide the
per-connection zlib state a browser costs the server. The server as it is
refuses the offer (``refuse_ws_deflate``); "deflate on" is the same server
with ``WS_COMPRESSION=true``, which accepts it as every version before did.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import socketio

from .common import (
    BROWSER_DEFLATE,
    NAMESPACE,
    BenchServer,
    LoadPool,
    Result,
    Table,
    check,
    gather_limited,
    mib,
    split,
)

KiB = 1024
SERVER_ENV = {"PING_INTERVAL": "5", "PING_TIMEOUT": "10", "SWEEP_INTERVAL": "1", "SESSION_TTL": "1"}
AS_IS = "as is (deflate refused)"
DEFLATE = "deflate on (WS_COMPRESSION=true, the former default)"
TRIM = "as is + malloc_trim (not adopted)"
VARIANTS: dict[str, tuple[list[str], dict[str, str]]] = {  # variant: (bench.serve patches, server env)
    AS_IS: (["debug"], {}),
    DEFLATE: (["debug"], {"WS_COMPRESSION": "true"}),
    TRIM: (["malloc_trim", "debug"], {}),
}


async def worker(ctrl: Any, url: str, n: int, deflate: bool, concurrency: int = 40) -> None:
    """Open ``n`` sessions, report, wait for "end", end them all, report."""
    clients: list[tuple[socketio.AsyncClient, asyncio.Event]] = []

    async def open_one() -> None:
        c = socketio.AsyncClient(
            reconnection=False, request_timeout=60, websocket_extra_options=dict(BROWSER_DEFLATE) if deflate else {}
        )
        question, feedback = asyncio.Event(), asyncio.Event()

        async def on_question(data: Any) -> None:
            question.set()

        async def on_feedback(data: Any) -> None:
            feedback.set()

        c.on("question", on_question, namespace=NAMESPACE)
        c.on("feedback", on_feedback, namespace=NAMESPACE)
        await c.connect(url, namespaces=[NAMESPACE], transports=["websocket"], wait_timeout=60)
        clients.append((c, feedback))
        ack = await c.call(
            "start_interview",
            {"language": "en", "mode": "text", "max_questions": 5, "job_title": "Backend Engineer"},
            namespace=NAMESPACE,
            timeout=60,
        )
        if not ack.get("ok"):
            raise RuntimeError(f"start_interview: {ack}")
        await asyncio.wait_for(question.wait(), 60)

    started = time.monotonic()
    results = await gather_limited((open_one() for _ in range(n)), concurrency)
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    compressed = sum(1 for c, _ in clients if getattr(c.eio.ws, "_compress", 0))
    ctrl.send({"opened": n - len(errors), "errors": errors[:3], "seconds": time.monotonic() - started, "deflate": compressed})
    await ctrl.recv()

    async def end_one(c: socketio.AsyncClient, feedback: asyncio.Event) -> None:
        try:
            if c.connected:
                await c.call("end_interview", {}, namespace=NAMESPACE, timeout=60)
                await asyncio.wait_for(feedback.wait(), 60)
        finally:
            await c.disconnect()

    results = await gather_limited((end_one(c, f) for c, f in clients), concurrency)
    ctrl.send({"ended": sum(1 for r in results if not isinstance(r, BaseException)), "errors": [repr(r) for r in results if isinstance(r, BaseException)][:3]})


def _run_clients(server: BenchServer, n: int, procs: int, deflate: bool) -> tuple[list[dict[str, Any]], LoadPool]:
    pool = LoadPool(worker, [{"url": server.url, "n": k, "deflate": deflate} for k in split(n, procs) if k])
    return pool.recv_all(timeout=600), pool


def _wait_purged(server: BenchServer, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.metrics().get('interview_swept_sessions_total{action="purged"}', 0) >= count:
            return True
        time.sleep(0.25)
    return False


def _blocks(server: BenchServer) -> int:
    """Python objects' allocated blocks (``sys.getallocatedblocks`` via the diagnostics route)."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"{server.url}/bench/debug", timeout=30) as r:
        return int(json.load(r)["blocks"])


def measure(
    n: int, patches: list[str], hold: float, deflate: bool = True, warmup: int = 20, waves: int = 1, settle: float = 2.5,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One server, ``n`` sessions: baselines, loaded RSS, RSS after the end and the sweep."""
    procs = 1 if n <= 50 else 2
    with BenchServer(env={**SERVER_ENV, **(env or {})}, patches=patches) as server:
        time.sleep(min(1.0, settle))
        cold = server.rss()
        purged = 0
        if warmup:  # lazy imports and one-time caches: part of a process that has served anyone
            opened, pool = _run_clients(server, warmup, 1, deflate)
            pool.send_all("end")
            pool.recv_all()
            pool.close()
            purged += warmup
            _wait_purged(server, purged, 15)
            time.sleep(settle)
        base = server.rss()
        base_blocks = _blocks(server)
        after_waves = []
        for _ in range(waves):
            wave = _wave(server, n, procs, deflate, hold)
            purged += n
            swept = _wait_purged(server, purged, 30)
            time.sleep(settle)  # at least two more sweeps (SWEEP_INTERVAL=1)
            after_waves.append(server.rss())
        after_blocks = _blocks(server)
    return {
        **wave,
        "n": n,
        "cold": cold,
        "base": base,
        "per_session": (wave["loaded"] - base) / max(wave["ok"], 1),
        "after": after_waves[0],
        "after_waves": after_waves,
        "swept": swept,
        "blocks": (base_blocks, after_blocks),
    }


def _wave(server: BenchServer, n: int, procs: int, deflate: bool, hold: float) -> dict[str, Any]:
    if True:
        opened, pool = _run_clients(server, n, procs, deflate)
        try:
            ok = sum(o["opened"] for o in opened)
            errors = [e for o in opened for e in o["errors"]]
            negotiated = sum(o["deflate"] for o in opened)
            ramp = max(o["seconds"] for o in opened)
            samples = []
            t_end = time.monotonic() + hold
            while True:
                samples.append(server.rss())
                if time.monotonic() >= t_end:
                    break
                time.sleep(0.25)
            loaded = max(samples)
            live = server.metrics()
            pool.send_all("end")
            ended = pool.recv_all(timeout=600)
        finally:
            pool.close()
    return {
        "ok": ok,
        "errors": errors,
        "negotiated": negotiated,
        "ramp_s": ramp,
        "loaded": loaded,
        "ended": sum(e["ended"] for e in ended),
        "sockets": live.get("interview_sockets_connected", 0),
    }


def run(quick: bool) -> Result:
    result = Result("1. Sessions per process")
    hold = 0.5 if quick else 6.0
    plan: list[tuple[str, int, int]]  # variant, N, waves
    if quick:
        plan = [(AS_IS, 20, 1)]
    else:
        plan = [(AS_IS, 100, 1), (AS_IS, 500, 1), (AS_IS, 1000, 2)]
        plan += [(DEFLATE, 100, 1), (DEFLATE, 500, 1), (DEFLATE, 1000, 1)]
        plan += [(TRIM, 1000, 1), (AS_IS, 5000, 1)]
    table = Table(
        "Server RSS with N live sessions (browser-like clients offering permessage-deflate; no LLM/TTS key: offline vendors)",
        [
            "server", "N", "deflate negotiated", "idle RSS MiB cold / warm", "RSS MiB, N live",
            "KiB per session", "RSS MiB after end + sweep", "vs warm idle", "Python blocks idle / after",
        ],
    )
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for variant, n, waves in plan:
        patches, env = VARIANTS[variant]
        r = measure(n, patches, hold, waves=waves, warmup=5 if quick else 20, settle=0.5 if quick else 2.5, env=env)
        rows[(variant, n)] = r
        after = " → ".join(mib(a) for a in r["after_waves"])
        growth = " → ".join(f"{(a - r['base']) / r['base'] * 100:+.0f}%" for a in r["after_waves"])
        table.rows.append(
            [
                variant, f"{r['ok']}/{n}", r["negotiated"], f"{mib(r['cold'])} / {mib(r['base'])}", mib(r["loaded"]),
                f"{r['per_session'] / KiB:.1f}", after, growth, f"{r['blocks'][0]:,} / {r['blocks'][1]:,}",
            ]
        )
        if r["errors"]:
            table.notes.append(f"{variant} N={n}: errors {r['errors']}")
        if not r["swept"]:
            table.notes.append(f"{variant} N={n}: the sweeper had not purged every session within 30 s")
    table.notes.append(
        "warm idle = after 20 warm-up sessions ran and were swept (lazy imports, caches); cold = just started. "
        "KiB per session = (RSS with N live - warm idle) / N. Two values after the end = two waves of N sessions "
        "on the same process. Python blocks = sys.getallocatedblocks() after gc (live Python objects), read through "
        "a diagnostics-only route (`debug` in bench/serve.py) that every server of this table carries. "
        "Every server of this table runs without vendor keys, so the openai SDK is not imported (as the server is now). "
        "Reference: bare python-socketio 5.18 on aiohttp, 1,000 websocket clients: 163 MB (deflate) / 73 MB (none); "
        "Node's socket.io about 28 KiB per connection."
    )
    result.tables.append(table)
    if not quick:
        for v in (AS_IS, DEFLATE):
            r = rows[(v, 1000)]
            check(result, f"1,000 sessions <= 100 MB RSS ({v})", r["loaded"] <= 100e6, f"{r['loaded'] / 1e6:.0f} MB")
        r = rows[(AS_IS, 5000)]
        check(result, f"5,000 sessions inside 512 MB ({AS_IS})", r["loaded"] <= 512 * MiB and r["ok"] == 5000,
              f"{r['loaded'] / 1e6:.0f} MB, {r['ok']}/5000")
        for v in (AS_IS, DEFLATE, TRIM):
            r = rows[(v, 1000)]
            growth = (r["after"] - r["base"]) / r["base"]
            check(result, f"after end + sweep within 10% of warm idle, N=1000 ({v})", growth <= 0.10, f"{growth * 100:+.1f}%")
    result.method = __doc__ or ""
    return result


MiB = 1024 * 1024
