"""3. Resume storm: N sessions mid-interview, the server SIGKILLed and restarted; then N sockets dropping at once.

N (5,000) sockets of the official socket.io-client in two Node processes
(``bench/node/resume.mjs``: websocket, Socket.IO's own reconnection with the
Python adapter's back-off, 0.25 s doubling to 2 s with ±50 % jitter, and the
resume ``auth`` of the protocol) each start a text interview on the file store
and answer question 1, so every session sits at question 2 with history.
(Node clients, not the Python adapter: 5,000 Python clients on the same 2 cores
took more CPU than the server, so the storm measured the load generator.) The coordinator SIGKILLs the server
and starts it again on the same port and ``DATA_DIR`` (``ServerProcess``).
Each socket stamps (CLOCK_MONOTONIC, shared by the processes of one machine)
the ``session_resumed`` it receives after the kill. Reported: time from the
restart (the new process spawned) and from its first healthy ``/healthz`` to
the last resume; the server's resume handler (``on_connect`` → replay sent,
the ``interview_resume_seconds`` histogram of the new process, quantiles
interpolated inside its buckets); the new process's CPU time over the storm;
sessions lost (no ``session_resumed`` within 30 s, or ``resume_rejected``).
The server runs on CPU 0, the Node clients and the coordinator on CPU 1
(``os.sched_setaffinity``), as in the latency and ingest benchmarks.

The floor: the same storm against the bare peers of the memory benchmark
(python-socketio on aiohttp, Node's ``socket.io``; the same listen backlog of
4,096), whose sockets only reconnect (``resume.mjs bare``: the first
``connect`` after the kill counts), so the table shows what a reconnection
costs before any resume work.

Disconnect storm: after the resume storm the N clients disconnect at once (a
proxy restart does this); reported is the time from telling them until the
server's ``interview_sockets_connected`` reaches 0, and the server's CPU over
it. Compared in the same run against python-socketio's own
``basic_disconnect`` (``socketio_room_scan`` in ``bench/serve.py``), on N
sockets that only connected (``bench/node/hold.mjs bare``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from sio_server.devtools.redis_server import RedisServer

from .common import (
    BARE_NAMES,
    LOAD_CPUS,
    ROOT,
    SERVER_CPUS,
    BareServer,
    BenchServer,
    NodeHolders,
    Profile,
    Result,
    Table,
    TempServer,
    check,
    cpu_seconds,
    histogram_quantile,
    ms,
    pct,
    pinned_to,
    profile_table,
    split,
)

HOLDER = ROOT / "bench" / "node" / "resume.mjs"
CONNECTOR = ROOT / "bench" / "node" / "hold.mjs"
PROCESSES = 2  # Node processes holding the sessions (a few thousand sockets each)
APP = "this server (resume: token, session read, replay)"
WORKERS = 2  # the built-in workers' row: python -m sio_server --workers 2, on both cores
DRAIN_TIMEOUT = 180.0


class Holders(NodeHolders):
    """Node processes of ``bench/node/resume.mjs`` holding ``n`` sessions at question 2 (or bare sockets)."""

    def __init__(self, url: str, n: int, bare: bool = False) -> None:
        super().__init__(HOLDER, url, split(n, 1 if n <= 50 else PROCESSES), *(["bare"] if bare else []))

    def close(self) -> None:
        """Tell every process to disconnect its sockets and exit; kill one that does not."""
        with contextlib.suppress(OSError):
            self.say("close")
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)


class WorkersServer(BenchServer):
    """``python -m sio_server --workers N`` (file store + a private redis-server); a kill SIGKILLs every worker,
    then the supervisor (a crash of the whole server, as the one-process row's SIGKILL)."""

    def __init__(self, workers: int, redis_url: str, cpus: set[int] | None) -> None:
        super().__init__(env={"REDIS_URL": redis_url}, cpus=cpus)
        self.argv += ["--workers", str(workers)]

    def workers(self) -> set[int]:
        """The supervisor's live children."""
        try:
            with open(f"/proc/{self.pid}/task/{self.pid}/children") as f:
                return {int(p) for p in f.read().split()}
        except OSError:
            return set()

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            for pid in self.workers():
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        super().kill()

    def cpu(self) -> float:
        """CPU seconds of the supervisor and its live workers."""
        total = cpu_seconds(self.pid)
        for pid in self.workers():
            with contextlib.suppress(OSError):
                total += cpu_seconds(pid)
        return total


def _cpu(server: TempServer) -> float:
    return server.cpu() if isinstance(server, WorkersServer) else cpu_seconds(server.pid)


def _drain(server: TempServer, tell: Any) -> dict[str, float]:
    """Call ``tell()`` (the clients disconnect) and wait until the server counts no socket: seconds and CPU."""
    cpu = cpu_seconds(server.pid)
    started = time.monotonic()
    tell()
    while time.monotonic() - started < DRAIN_TIMEOUT:
        if server.metrics().get("interview_sockets_connected", 1) <= 0:
            break
        time.sleep(0.05)
    return {"seconds": time.monotonic() - started, "cpu": cpu_seconds(server.pid) - cpu}


def measure(kind: str, n: int, wait: float, profile_to: Path | None = None, workers: int = 1) -> dict[str, Any]:
    """The storm against ``kind`` ("app", or a bare peer: "python", "node"); ``workers`` > 1: the app's built-in
    workers on every CPU (set explicitly: a child inherits this process's pinning to the load CPU), sharing a
    private redis-server (their metrics are per worker: no handler figures)."""
    prof = None
    drained = None
    metrics: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        stack.enter_context(pinned_to(LOAD_CPUS))
        if workers > 1:
            redis = RedisServer(shutil.which("redis-server") or "redis-server", Path(tempfile.mkdtemp(prefix="bench-redis-")))
            stack.callback(redis.stop)
            server: TempServer = WorkersServer(workers, redis.start().url, cpus=set(range(os.cpu_count() or 1)))
        else:
            server = BenchServer(cpus=SERVER_CPUS) if kind == "app" else BareServer(kind, cpus=SERVER_CPUS)
        with server:
            holders = Holders(server.url, n, bare=kind != "app")
            try:
                ready = holders.read_all()
                t_kill = time.monotonic()
                server.kill()
                holders.say(f"kill {wait} all {t_kill}")
                t_spawn = time.monotonic()
                server.start()
                t_healthy = time.monotonic()
                if profile_to is not None:
                    prof = Profile(server.pid, 5, profile_to)
                parts = holders.read_all()
                cpu = _cpu(server)  # the new processes' CPU from their start to the end of the storm
                if kind == "app" and workers == 1:
                    metrics = server.metrics()
                    drained = _drain(server, lambda: holders.say("close"))
            finally:
                holders.close()
    resumed = [t for p in parts for t in p["resumed"]]
    count = metrics.get("interview_resume_seconds_count", 0) if metrics else len(resumed)
    return {
        "ready": sum(r["ready"] for r in ready),
        "errors": [e for r in ready for e in r["errors"]],
        "resumed": len(resumed),
        "lost": sum(p["lost"] for p in parts),
        "rejected": sum(p["rejected"] for p in parts),
        "from_spawn": [t - t_spawn for t in resumed],
        "from_healthy": [t - t_healthy for t in resumed],
        "startup": t_healthy - t_spawn,
        "kill": t_spawn - t_kill,
        "handler_p50": histogram_quantile(metrics, "interview_resume_seconds", 0.50) if metrics else None,
        "handler_p99": histogram_quantile(metrics, "interview_resume_seconds", 0.99) if metrics else None,
        "handler_count": count,
        "handler_mean": metrics.get("interview_resume_seconds_sum", 0) / max(count, 1) if metrics else None,
        "profile": prof,
        "cpu": cpu,
        "drained": drained,
    }


class Connectors(NodeHolders):
    """``bench/node/hold.mjs bare``: ``n`` sockets that only connect; "end" disconnects them all."""

    def __init__(self, url: str, n: int) -> None:
        super().__init__(CONNECTOR, url, split(n, 1 if n <= 50 else PROCESSES), "bare")


def disconnect_storm(n: int, patches: list[str]) -> dict[str, Any]:
    """``n`` connected sockets disconnecting at once, against the server with ``patches``."""
    with pinned_to(LOAD_CPUS), BenchServer(patches=patches, cpus=SERVER_CPUS) as server:
        holders = Connectors(server.url, n)
        try:
            opened = sum(r["opened"] for r in holders.read_all())
            drained = _drain(server, lambda: holders.say("end"))
            holders.read_all()
        finally:
            holders.kill()
    return {"opened": opened, **drained}


def _row(name: str, r: dict[str, Any]) -> list[Any]:
    per = r["cpu"] / max(r["handler_count"], 1) * 1000
    return [
        name, r["ready"], r["resumed"], r["lost"], ms(r["startup"]), ms(max(r["from_spawn"], default=None)),
        f"{ms(pct(r['from_healthy'], 50))} / {ms(pct(r['from_healthy'], 99))} / {ms(max(r['from_healthy'], default=None))}",
        f"{ms(r['handler_p50'])} / {ms(r['handler_p99'])}", ms(r["handler_mean"]), f"{r['cpu']:.1f} ({per:.2f})",
    ]


def run(quick: bool, profile_dir: Path | None = None) -> Result:
    result = Result("3. Resume storm")
    n = 20 if quick else 5000
    r = measure("app", n, 30.0, None if profile_dir is None else profile_dir / "resume.raw")
    w = measure("app", n, 30.0, workers=WORKERS) if shutil.which("redis-server") else None
    peers = {kind: measure(kind, n, 30.0) for kind in ("python", "node")}
    t = Table(
        f"{n} sessions mid-interview (at question 2), SIGKILL, restart; the bare peers' sockets only reconnect",
        ["server", "sessions", "resumed", "lost", "process start → healthy", "last resume after restart",
         "after healthy p50 / p99 / max", "handler p50 / p99 (histogram)", "handler mean", "server CPU s (ms per resume)"],
    )
    t.rows.append(_row(APP, r))
    if w is not None:
        t.rows.append(_row(f"this server, built-in `--workers {WORKERS}` (file store + Redis; both CPUs)", w))
    for kind, peer in peers.items():
        t.rows.append(_row(f"{BARE_NAMES[kind]} (reconnect only)", peer))
    t.notes.append(
        "times in ms; server on CPU 0, clients on CPU 1; 'after restart' counts from spawning the new process (its "
        "start-up included); clients retry with the adapter's back-off (0.25 s doubling to 2 s, ±50 % jitter), so up "
        f"to ~2 s of the wait is the clients' own back-off. Resume-handler samples: {r['handler_count']:.0f}; a bare "
        "peer's CPU is divided by its reconnections."
    )
    t.notes.append(
        f"`--workers {WORKERS}`: a supervisor and {WORKERS} workers forked from it, accepting from its one listening "
        "socket, sharing the file store and a private redis-server (leases, Socket.IO messages), on both CPUs (the "
        "clients stay on CPU 1); killed "
        "as a whole (every worker SIGKILLed); CPU is the workers' together, divided by the sessions resumed; the "
        "handler histogram is per worker, so not shown" if w is not None else
        "no redis-server on this machine: the built-in workers' row was not measured"
    )
    if r["errors"]:
        t.notes.append(f"set-up errors: {r['errors']}")
    result.tables.append(t)
    scan = disconnect_storm(n, ["socketio_room_scan"])
    index = disconnect_storm(n, [])
    d = Table(
        f"{n} sockets disconnecting at once: until the server counts none",
        ["server", "sockets", "all disconnects handled (ms)", "server CPU s (ms per disconnect)"],
    )
    drained = r["drained"] or {"seconds": float("nan"), "cpu": float("nan")}
    d.rows.append([f"as is (room index), the {r['resumed']} resumed sessions above", r["resumed"], ms(drained["seconds"]),
                   f"{drained['cpu']:.2f} ({drained['cpu'] / max(r['resumed'], 1) * 1000:.2f})"])
    for name, x in (("as is (room index), sockets only connected", index),
                    ("python-socketio's scan of every room (`socketio_room_scan`), sockets only connected", scan)):
        d.rows.append([name, x["opened"], ms(x["seconds"]), f"{x['cpu']:.2f} ({x['cpu'] / max(x['opened'], 1) * 1000:.2f})"])
    d.notes.append("each socket of this server is in its own room and (resumed) its session's room; upstream's "
                   "`basic_disconnect` copies the namespace's room table and tests every room, so its cost per "
                   "disconnect grows with the sockets connected")
    result.tables.append(d)
    if r["profile"] is not None:
        pt = profile_table("py-spy of the restarted server during the storm (its first 5 s)", r["profile"])
        if pt is not None:
            result.tables.append(pt)
    last = max(r["from_spawn"], default=float("inf"))
    floor = peers["python"]
    if w is not None:
        last_w = max(w["from_spawn"], default=float("inf"))
        check(result, f"every session resumed within 10 s of the restart (built-in --workers {WORKERS})",
              last_w <= 10.0 and w["resumed"] == w["ready"] == n,
              f"{last_w:.2f} s ({w['lost']} lost); one process: {last:.2f} s")
    check(result, "every session resumed within 10 s of the restart (one process)", None if w is not None else
          last <= 10.0 and r["resumed"] == r["ready"], f"{last:.2f} s")
    check(result, "(report only) bare python-socketio, the same storm reconnecting only: last reconnection", None,
          f"{max(floor['from_spawn'], default=float('nan')):.2f} s; server CPU per resume "
          f"{r['cpu'] / max(r['handler_count'], 1) / max(floor['cpu'] / max(floor['handler_count'], 1), 1e-9):.2f}x "
          "its CPU per reconnection")
    check(result, "(report only) resume handler p50 / p99", None, f"{ms(r['handler_p50'])} / {ms(r['handler_p99'])} ms")
    check(result, "0 sessions lost", r["lost"] == 0 and r["ready"] == n, f"{r['lost']} lost of {r['ready']}")
    faster = scan["seconds"] / max(index["seconds"], 1e-9)
    check(result, f"{n} sockets disconnecting at once: handled >= 2x faster than python-socketio's room scan",
          None if quick else faster >= 2.0, f"{faster:.1f}x ({ms(scan['seconds'])} → {ms(index['seconds'])} ms)")
    result.method = __doc__ or ""
    return result
