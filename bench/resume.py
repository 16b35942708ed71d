"""3. Resume storm: N sessions mid-interview, the server SIGKILLed and restarted.

N (5,000) clients of the project's Python adapter (``InterviewClient``, Socket.IO's own
reconnection with its default 0.25–2 s back-off) in four load processes each
start a text interview on the file store and answer question 1, so every
session sits at question 2 with history. The coordinator SIGKILLs the server
and starts it again on the same port and ``DATA_DIR`` (``ServerProcess``).
Each client stamps (CLOCK_MONOTONIC, shared by the processes of one machine)
the ``session_resumed`` it receives after the kill. Reported: time from the
restart (the new process spawned) and from its first healthy ``/healthz`` to
the last resume; the server's resume handler (``on_connect`` → replay sent,
the ``interview_resume_seconds`` histogram of the new process, quantiles
interpolated inside its buckets); the new process's CPU time over the storm;
sessions lost (no ``session_resumed`` within 30 s, or ``resume_rejected``).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from client_adapter import InterviewClient

from .common import (
    BenchServer,
    LoadPool,
    Profile,
    Result,
    Table,
    check,
    cpu_seconds,
    gather_limited,
    histogram_quantile,
    ms,
    pct,
    profile_table,
    split,
)


class StampedClient(InterviewClient):
    """The adapter, stamping every ``session_resumed``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.resumed_at: list[float] = []

    async def _on_resumed(self, data: dict[str, Any]) -> None:
        self.resumed_at.append(time.monotonic())
        await super()._on_resumed(data)


async def worker(ctrl: Any, url: str, n: int) -> None:
    clients: list[StampedClient] = []

    async def open_one() -> None:
        c = StampedClient(url, request_timeout=60)
        await c.connect(timeout=60)
        await c.start(language="en", mode="text", max_questions=5, job_title="Backend Engineer")
        q = await c.next_question(timeout=60)
        await c.answer_text(q["index"], "I led the migration of our billing service to an event-driven design.")
        await c.next_question(timeout=60)
        clients.append(c)

    res = await gather_limited((open_one() for _ in range(n)), 25)
    ctrl.send({"ready": len(clients), "errors": [repr(r) for r in res if isinstance(r, BaseException)][:3]})
    deadline_s = await ctrl.recv()  # sent right after the kill
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline and not all(c.resumed_at or c.fatal for c in clients):
        await asyncio.sleep(0.05)
    ctrl.send(
        {
            "resumed": [c.resumed_at[0] for c in clients if c.resumed_at],
            "rejected": sum(1 for c in clients if c.fatal is not None),
            "lost": sum(1 for c in clients if not c.resumed_at),
        }
    )
    await ctrl.recv()
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


def measure(n: int, wait: float, profile_to: Path | None = None) -> dict[str, Any]:
    prof = None
    with BenchServer() as server:
        with LoadPool(worker, [{"url": server.url, "n": k} for k in split(n, 1 if n <= 50 else 4)]) as pool:
            ready = pool.recv_all(timeout=900)
            t_kill = time.monotonic()
            server.kill()
            pool.send_all(wait)
            t_spawn = time.monotonic()
            server.start()
            t_healthy = time.monotonic()
            if profile_to is not None:
                prof = Profile(server.pid, 5, profile_to)
            parts = pool.recv_all(timeout=wait + 30)
            cpu = cpu_seconds(server.pid)  # the new process's CPU from its start to the end of the storm
            metrics = server.metrics()
            pool.send_all("close")
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
