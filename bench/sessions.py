"""1. Sessions per process: server RSS idle, with N held sessions, and over three waves of N on one process.

Measured from outside: the official ``socket.io-client`` in Node
(``bench/node/hold.mjs``, websocket transport, no permessage-deflate) holds N
sockets on ``/interview``. Against this server each socket starts a text
interview and waits for its first ``question`` (offline providers, file store,
``PING_INTERVAL=5`` so heartbeats run while they are held). Against the bare
peers (``bench/bare_server.py``: python-socketio on aiohttp; ``bench/node/bare_server.mjs``:
Node's ``socket.io``; a namespace and one room per socket, no application logic)
each socket only connects. Warm idle = RSS after 20 warm-up sessions came, went
and (for this server) were swept. Per session = (RSS with N held - warm idle) / N.

Waves: on the same process, N sessions are opened, held, ended (``end_interview``,
``feedback``, disconnect) and swept (``SWEEP_INTERVAL=1``, ``SESSION_TTL=1``, ``REPORT_RETENTION=1``),
three times. "held" is the peak RSS while a wave is held (sampled for a few seconds
from ``MEMORY_TRIM_INTERVAL`` + 1 s after the last session opened, for every server alike,
so it is the sessions' RSS and not the opening burst's); "after" the RSS once
it ended and was swept. A process that keeps nothing per ended session shows a
ratio wave 3 / wave 1 of 1.00 on both: RSS after the first wave stays above idle
(CPython's allocator keeps its arenas: a high-water mark, not a leak), so the
target is no growth between waves, not a return to idle.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sio_server.settings import Settings

from .common import (
    BARE_NAMES,
    ROOT,
    BareServer,
    BenchServer,
    NodeHolders,
    Result,
    Table,
    TempServer,
    check,
    mib,
    split,
)

# The server's default MEMORY_TRIM_INTERVAL and a second: held RSS is sampled once it has handed back the
# free pages the burst of starts left (sio_server/heap.py); every server waits as long.
SETTLE_HELD = Settings.model_fields["memory_trim_interval"].default + 1.0
KiB = 1024
MiB = 1024 * 1024
SERVER_ENV = {"PING_INTERVAL": "5", "PING_TIMEOUT": "10", "SWEEP_INTERVAL": "1", "SESSION_TTL": "1", "REPORT_RETENTION": "1"}
APP = "this server, default install (offline providers, file store, asyncio loop)"
FAST = "this server with the `fast` extra (uvloop)"
HOLDER = ROOT / "bench" / "node" / "hold.mjs"
PER_HOLDER = 1000


class Holders(NodeHolders):
    """Node processes holding ``n`` sockets (``bench/node/hold.mjs``), at most 1,000 each."""

    def __init__(self, url: str, n: int, mode: str) -> None:
        super().__init__(HOLDER, url, split(n, max(1, -(-n // PER_HOLDER))), mode)

    def opened(self) -> tuple[int, list[str], float]:
        replies = self.read_all()
        return (sum(r["opened"] for r in replies), [e for r in replies for e in r["errors"]],
                max(r["seconds"] for r in replies))

    def end(self) -> int:
        self.say("end")
        ended = sum(r["ended"] for r in self.read_all())
        for p in self.procs:
            p.wait(30)
        return ended


def _purged(server: TempServer) -> float:
    return server.metrics().get('interview_swept_sessions_total{action="purged"}', 0)


def _wave(
    server: TempServer, n: int, app: bool, hold: float, settle: float, end: bool = True, settle_held: float = 0.0
) -> dict[str, Any]:
    """Open ``n`` sessions, sample RSS while they are held, end them, wait until swept, read RSS.

    ``end=False``: only hold them (the holders are killed, nothing is swept).
    """
    purged = _purged(server) if app else 0
    holders = Holders(server.url, n, "interview" if app else "bare")
    try:
        ok, errors, ramp = holders.opened()
        time.sleep(settle_held)  # RSS of the held sessions, not of the burst that opened them (any server)
        samples = [server.rss()]
        t_end = time.monotonic() + hold
        while time.monotonic() < t_end:
            time.sleep(0.25)
            samples.append(server.rss())
        if not end:
            return {"ok": ok, "errors": errors, "ramp": ramp, "held": max(samples)}
        ended = holders.end()
    finally:
        holders.kill()
    deadline = time.monotonic() + 60
    while app and _purged(server) < purged + ok and time.monotonic() < deadline:
        time.sleep(0.25)
    swept = not app or _purged(server) >= purged + ok
    time.sleep(settle)
    return {"ok": ok, "errors": errors, "ramp": ramp, "held": max(samples), "after": server.rss(), "ended": ended,
            "swept": swept}


def measure(
    server: TempServer, n: int, waves: int, hold: float, settle: float, warmup: int, settle_held: float = 0.0
) -> dict[str, Any]:
    """One started server: cold and warm idle RSS, then ``waves`` waves of ``n`` sessions."""
    app = isinstance(server, BenchServer)
    time.sleep(settle)
    cold = server.rss()
    if warmup:
        _wave(server, warmup, app, 0, settle)
    idle = server.rss()
    runs = [_wave(server, n, app, hold, settle, settle_held=settle_held) for _ in range(waves)]
    if not runs:  # idle only
        return {"n": n, "cold": cold, "idle": idle, "waves": []}
    first = runs[0]
    return {
        "n": n, "cold": cold, "idle": idle, "waves": runs,
        "per_session": (first["held"] - idle) / max(first["ok"], 1),
        "held_ratio": runs[-1]["held"] / first["held"],
        "after_ratio": runs[-1]["after"] / first["after"],
    }


FULL_IMPORTS = "this server, socketio imported with requests and redis (before)"


def _server(kind: str) -> TempServer:
    if kind == APP:  # uvloop may be installed here; the default install has none
        return BenchServer(env=SERVER_ENV, patches=["asyncio_loop"])
    if kind == FAST:
        return BenchServer(env=SERVER_ENV)
    if kind == FULL_IMPORTS:
        return BenchServer(env=SERVER_ENV, patches=["socketio_full_imports", "asyncio_loop"])
    return BareServer(kind)


def _uvloop_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("uvloop") is not None


def run(quick: bool) -> Result:
    result = Result("1. Sessions per process")
    n, waves, hold, settle = (20, 2, 0.1, 0.1) if quick else (1000, 3, 3.0, 2.0)
    settle_held = 0.0 if quick else SETTLE_HELD
    plan = {APP: waves, "python": waves, "node": waves}
    if not quick:
        fast = {FAST: 1} if _uvloop_installed() else {}
        plan = {APP: waves, **fast, FULL_IMPORTS: 0, "python": waves, "node": waves}
    kinds = list(plan)
    rows: dict[str, dict[str, Any]] = {}
    for kind, k in plan.items():
        with _server(kind) as server:
            rows[kind] = measure(server, n, k, hold, settle, warmup=5 if quick else 20, settle_held=settle_held)
    table = Table(
        f"RSS idle, with {n:,} held sessions, and over {waves} waves of {n:,} on one process "
        "(official socket.io-client in Node, websocket, no deflate)",
        ["server", "held", "idle RSS MiB cold / warm", f"RSS MiB, {n:,} held", "KiB per session", "vs bare python",
         "held RSS MiB by wave", "after-end RSS MiB by wave", f"wave {waves} / wave 1 (held, after)"],
    )
    bare = rows["python"]
    for kind in kinds:
        r = rows[kind]
        name, idle = BARE_NAMES.get(kind, kind), f"{mib(r['cold'])} / {mib(r['idle'])}"
        if not r["waves"]:
            table.rows.append([name, "–", idle, "–", "–", "–", "–", "–", "–"])
            continue
        first = r["waves"][0]
        table.rows.append([
            name, f"{first['ok']}/{n}", idle,
            mib(first["held"]), f"{r['per_session'] / KiB:.1f}", f"{r['per_session'] / bare['per_session']:.2f}x",
            " → ".join(mib(w["held"]) for w in r["waves"]), " → ".join(mib(w["after"]) for w in r["waves"]),
            f"{r['held_ratio']:.3f} / {r['after_ratio']:.3f}" if len(r["waves"]) > 1 else "–",
        ])
        for i, w in enumerate(r["waves"], 1):
            if w["errors"] or w["ok"] < n or not w["swept"]:
                table.notes.append(f"{kind} wave {i}: {w['ok']}/{n} opened, swept={w['swept']}, errors {w['errors']}")
    if FULL_IMPORTS in rows:
        table.notes.append(f"{FULL_IMPORTS}: idle only, to show what sio_server.transport.optional_imports saves")
    if FAST in rows:
        table.notes.append(f"{FAST}: one wave; uvloop costs memory (its own loop and per-connection objects) for "
                           "less CPU per turn and per MB ingested (latency and ingest benchmarks)")
    table.notes.append(
        "Every server measured one after the other in this run, on the same machine (2 shared cores): compare "
        "ratios within the table rather than absolute MiB with another run"
    )
    result.tables.append(table)
    result.tables += session_cost(quick)
    if not quick:
        app, node = rows[APP], rows["node"]
        held = app["waves"][0]["held"]
        check(result, "1,000 held sessions <= 90 MiB RSS (default install)", held <= 90 * MiB, f"{mib(held)} MiB")
        if FAST in rows:
            fast = rows[FAST]["waves"][0]["held"]
            check(result, "1,000 held sessions <= 100 MB (95.4 MiB) RSS (`fast` extra: uvloop)", fast <= 100e6,
                  f"{mib(fast)} MiB")
        gap = app["idle"] - bare["idle"]
        check(result, "idle RSS within 10 MiB of bare python-socketio", gap <= 10 * MiB, f"{gap / MiB:+.1f} MiB")
        ratio = app["per_session"] / bare["per_session"]
        check(result, "per session <= 1.15x bare python-socketio", ratio <= 1.15, f"{ratio:.2f}x")
        for label, key in (("held", "held"), ("after end + sweep", "after")):
            worst = max(w[key] for w in app["waves"][1:]) / app["waves"][0][key]
            check(result, f"waves 2 and 3 end at the RSS of wave 1 ({label}; ratio <= 1.05)", worst <= 1.05,
                  f"{worst:.3f}")
        with _server(APP) as server:
            time.sleep(settle)
            idle = server.rss()
            w = _wave(server, 5000, True, hold, settle, end=False, settle_held=settle_held)
        per_session = (w["held"] - idle) / max(w["ok"], 1)
        check(result, "5,000 held sessions inside 512 MB", w["held"] <= 512 * MiB and w["ok"] == 5000,
              f"{w['held'] / 1e6:.0f} MB, {w['ok']}/5000, {per_session / KiB:.1f} KiB a session")
        check(result, "(report only) Node socket.io per session", None,
              f"{node['per_session'] / KiB:.1f} KiB, idle {mib(node['idle'])} MiB")
    result.method = __doc__ or ""
    return result


def _traced(server: TempServer, query: str) -> Any:
    import urllib.request

    with urllib.request.urlopen(f"{server.url}/bench/tracemalloc?{query}", timeout=60) as r:
        return json.load(r)


def _category(where: str) -> str:
    path = where.rsplit(":", 1)[0]
    if path == "aiohttp/web.py":  # run_app: allocated by the event loop itself (transports, handles, tasks)
        return "asyncio event loop (under aiohttp.web.run_app)"
    if path.startswith("sio_server/"):
        return path
    top = path.split("/", 1)[0]
    return top if "/" in path else path


def traced_growth(server: TempServer, n: int, app: bool, warmup: int) -> list[dict[str, Any]]:
    """Allocations (tracemalloc) grown while ``n`` sessions are held, by source line."""
    _wave(server, warmup, app, 0, 0.5)
    _traced(server, "mark=1")
    holders = Holders(server.url, n, "interview" if app else "bare")
    try:
        holders.opened()
        time.sleep(1.0)
        rows = _traced(server, "diff=1")
        holders.end()
    finally:
        holders.kill()
    return rows


def session_cost(quick: bool) -> list[Table]:
    """Where a held session's memory goes: tracemalloc growth per session, this server against bare python-socketio."""
    n, warmup = (5, 2) if quick else (300, 20)
    with BenchServer(env=SERVER_ENV, patches=["tracemalloc"]) as server:
        app_rows = traced_growth(server, n, True, warmup)
    with BareServer("python", env={"BENCH_TRACEMALLOC": "1"}) as server:
        bare_rows = traced_growth(server, n, False, warmup)
    by_cat: dict[str, list[float]] = {}
    for i, rows in enumerate((app_rows, bare_rows)):
        for r in rows:
            by_cat.setdefault(_category(r["where"]), [0.0, 0.0])[i] += r["bytes"] / n
    totals = [sum(r["bytes"] for r in rows) / n for rows in (app_rows, bare_rows)]
    cats = Table(
        f"Python allocations per held session by package or module (tracemalloc growth with {n} held / {n})",
        ["allocated in", "this server, B/session", "bare python-socketio, B/session", "difference"],
    )
    for cat, (a, b) in sorted(by_cat.items(), key=lambda kv: -max(kv[1]))[:20]:
        cats.rows.append([f"`{cat}`", f"{a:,.0f}", f"{b:,.0f}", f"{a - b:+,.0f}"])
    cats.rows.append(["**total traced**", f"{totals[0]:,.0f}", f"{totals[1]:,.0f}", f"{totals[0] - totals[1]:+,.0f}"])
    cats.notes.append(
        "tracemalloc counts Python allocations only (not the kernel's socket buffers nor pymalloc's free space), so "
        "its totals are below the RSS per session; each allocation is charged to the innermost frame in `sio_server`, "
        "else in a third-party package, else the standard library (8 frames traced)"
    )
    lines = Table(
        f"Largest allocation sites of this server per held session (tracemalloc, {n} sessions)",
        ["source line", "B/session", "blocks/session"],
    )
    for r in app_rows[:20]:
        lines.rows.append([f"`{r['where']}`", f"{r['bytes'] / n:,.0f}", f"{r['count'] / n:.1f}"])
    return [cats, lines]
