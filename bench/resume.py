"""3. Resume storm: N sessions mid-interview, the server SIGKILLed and restarted.

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
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path
from typing import Any

from .common import (
    ROOT,
    BenchServer,
    NodeHolders,
    Profile,
    Result,
    Table,
    check,
    cpu_seconds,
    histogram_quantile,
    ms,
    pct,
    profile_table,
    split,
)

HOLDER = ROOT / "bench" / "node" / "resume.mjs"
PROCESSES = 2  # Node processes holding the sessions (a few thousand sockets each)


class Holders(NodeHolders):
    """Node processes of ``bench/node/resume.mjs`` holding ``n`` sessions at question 2 between them."""

    def __init__(self, url: str, n: int) -> None:
        super().__init__(HOLDER, url, split(n, 1 if n <= 50 else PROCESSES))

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


def measure(n: int, wait: float, profile_to: Path | None = None) -> dict[str, Any]:
    prof = None
    with BenchServer() as server:
        holders = Holders(server.url, n)
        try:
            ready = holders.read_all()
            t_kill = time.monotonic()
            server.kill()
            holders.say(f"kill {wait}")
            t_spawn = time.monotonic()
            server.start()
            t_healthy = time.monotonic()
            if profile_to is not None:
                prof = Profile(server.pid, 5, profile_to)
            parts = holders.read_all()
            cpu = cpu_seconds(server.pid)  # the new process's CPU from its start to the end of the storm
            metrics = server.metrics()
        finally:
            holders.close()
    resumed = [t for p in parts for t in p["resumed"]]
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
        "handler_p50": histogram_quantile(metrics, "interview_resume_seconds", 0.50),
        "handler_p99": histogram_quantile(metrics, "interview_resume_seconds", 0.99),
        "handler_count": metrics.get("interview_resume_seconds_count", 0),
        "profile": prof,
        "cpu": cpu,
        "handler_mean": metrics.get("interview_resume_seconds_sum", 0) / max(metrics.get("interview_resume_seconds_count", 0), 1),
    }


def run(quick: bool, profile_dir: Path | None = None) -> Result:
    result = Result("3. Resume storm")
    n = 20 if quick else 5000
    r = measure(n, 30.0, None if profile_dir is None else profile_dir / "resume.raw")
    t = Table(
        f"{n} sessions mid-interview (at question 2), SIGKILL, restart",
        ["sessions", "resumed", "lost", "process start → healthy", "last resume after restart", "after healthy p50 / p99 / max",
         "handler p50 / p99 (histogram)", "handler mean", "server CPU s (ms per resume)"],
    )
    t.rows.append(
        [r["ready"], r["resumed"], r["lost"], ms(r["startup"]), ms(max(r["from_spawn"], default=None)),
         f"{ms(pct(r['from_healthy'], 50))} / {ms(pct(r['from_healthy'], 99))} / {ms(max(r['from_healthy'], default=None))}",
         f"{ms(r['handler_p50'])} / {ms(r['handler_p99'])}", ms(r["handler_mean"]),
         f"{r['cpu']:.1f} ({r['cpu'] / max(r['handler_count'], 1) * 1000:.1f})"]
    )
    t.notes.append(
        "times in ms; 'after restart' counts from spawning the new process (its Python start-up included); clients "
        "retry with the adapter's back-off (0.25 s doubling to 2 s, ±50 % jitter), so up to ~2 s of the wait is the "
        f"clients' own back-off. Resume-handler samples: {r['handler_count']:.0f}."
    )
    if r["errors"]:
        t.notes.append(f"set-up errors: {r['errors']}")
    result.tables.append(t)
    if r["profile"] is not None:
        pt = profile_table("py-spy of the restarted server during the storm (its first 5 s)", r["profile"])
        if pt is not None:
            result.tables.append(pt)
    last = max(r["from_spawn"], default=float("inf"))
    check(result, "every session resumed within 10 s of the restart", last <= 10.0 and r["resumed"] == r["ready"], f"{last:.2f} s")
    check(result, "(report only) resume handler p50 / p99", None, f"{ms(r['handler_p50'])} / {ms(r['handler_p99'])} ms")
    check(result, "0 sessions lost", r["lost"] == 0 and r["ready"] == n, f"{r['lost']} lost of {r['ready']}")
    result.method = __doc__ or ""
    return result
