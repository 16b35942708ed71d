"""7. Soak: interviews back to back for minutes with short TTLs; the store holds what its windows say.

``N`` clients (python-socketio through ``client_adapter``, in two load processes) each hold one-question
text interviews back to back (connect, start, answer, feedback, disconnect) for the run's duration,
against ``python -m sio_server`` with the offline providers and ``SESSION_TTL=20``,
``REPORT_RETENTION=60``, ``TOMBSTONE_RETENTION=60``, ``SWEEP_INTERVAL=5`` (the quick run: shorter),
on the file store and on PostgreSQL (a schema of its own, dropped afterwards; skipped, and said so,
when no database answers). Every few seconds the coordinator samples the server's RSS and
``GET /api/v1/maintenance/store`` (sessions and tombstones kept). At the measured rate ``r`` the
windows hold about ``r × (REPORT_RETENTION + SWEEP_INTERVAL)`` sessions and ``r × (TOMBSTONE_RETENTION
+ SWEEP_INTERVAL)`` tombstones more; the targets (issue 25) are at most 1.5× the retention window in
sessions, at most 1.5× both windows in sessions and tombstones, and RSS at the end within 5 % of RSS at
half time, with no failed interview.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
from typing import Any

from .common import BenchServer, LoadPool, Result, Table, check, mib, split

ADMIN = "soak-admin-token-0123456789abcdef0123456789"
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
FULL = {"clients": 20, "seconds": 240, "session_ttl": 20, "retention": 60, "tombstones": 60, "sweep": 5}
QUICK = {"clients": 4, "seconds": 15, "session_ttl": 2, "retention": 4, "tombstones": 4, "sweep": 1}


async def worker(ctrl: Any, url: str, n: int, seconds: float) -> None:
    """``n`` clients holding interviews back to back for ``seconds``; sends (done, failures, first errors)."""
    from client_adapter import InterviewClient

    deadline = time.monotonic() + seconds
    done = failed = 0
    errors: list[str] = []

    async def one() -> None:
        client = InterviewClient(url)
        try:
            await client.connect(timeout=30)
            await client.start(language="en", mode="text", max_questions=1)
            question = await client.next_question(timeout=30)
            await client.answer_text(question["index"], "I split the monolith and cut deploys from an hour to minutes.")
            await client.feedback(timeout=30)
        finally:
            await client.close()

    async def loop() -> None:
        nonlocal done, failed
        while time.monotonic() < deadline:
            try:
                await one()
                done += 1
            except Exception as exc:  # counted and reported: a soak failure is a result, not a crash
                failed += 1
                if len(errors) < 5:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])

    await asyncio.gather(*(loop() for _ in range(n)))
    ctrl.send((done, failed, errors))


def _counts(url: str) -> dict[str, int]:
    request = urllib.request.Request(f"{url}/api/v1/maintenance/store", headers={"Authorization": f"Bearer {ADMIN}"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.loads(r.read())


def soak(store: str, p: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """One soak on ``store``: interviews, failures, RSS and store samples (time, rss, sessions, tombstones)."""
    settings = {
        "ADMIN_TOKEN": ADMIN, "SESSION_TTL": str(p["session_ttl"]), "REPORT_RETENTION": str(p["retention"]),
        "TOMBSTONE_RETENTION": str(p["tombstones"]), "SWEEP_INTERVAL": str(p["sweep"]), **env,
    }
    with BenchServer(env=settings) as server:
        samples = []
        every = max(1.0, p["seconds"] / 24)
        started = time.monotonic()
        with LoadPool(worker, [{"url": server.url, "n": k, "seconds": p["seconds"]} for k in split(p["clients"], 2)]) as pool:
            while (elapsed := time.monotonic() - started) < p["seconds"]:
                time.sleep(min(every, p["seconds"] - elapsed))
                samples.append((time.monotonic() - started, server.rss(), _counts(server.url)))
            results = pool.recv_all(timeout=120)
        seconds = time.monotonic() - started
        files = None
        if store == "files":
            files = sum(len(os.listdir(server.data_dir / d)) for d in ("sessions", "tombstones") if (server.data_dir / d).is_dir())
    done = sum(r[0] for r in results)
    return {
        "store": store, "done": done, "failed": sum(r[1] for r in results), "errors": [e for r in results for e in r[2]],
        "rate": done / seconds, "samples": samples, "files": files,
    }


def _rss_at(samples: list[tuple[float, int, dict[str, int]]], t: float) -> int:
    return min(samples, key=lambda s: abs(s[0] - t))[1]


def run(quick: bool) -> Result:
    p = QUICK if quick else FULL
    result = Result("7. Soak")
    runs = [soak("files", p, {})]
    dsn = os.environ.get("DATABASE_URL") or DEFAULT_DSN
    schema = f"bench_soak_{os.getpid()}"
    skipped = None
    try:
        from .store import _drop_schema

        try:
            runs.append(soak("PostgreSQL", p, {"DATABASE_URL": dsn, "DATABASE_SCHEMA": schema}))
        except RuntimeError as exc:  # the server did not start: no database here
            skipped = f"PostgreSQL skipped: {str(exc).splitlines()[0]}"
        finally:
            asyncio.run(_drop_schema(dsn, schema))
    except ImportError as exc:
        skipped = f"PostgreSQL skipped: {exc}"
    t = Table(
        f"{p['clients']} clients, {p['seconds']} s of one-question text interviews back to back; SESSION_TTL={p['session_ttl']}, "
        f"REPORT_RETENTION={p['retention']}, TOMBSTONE_RETENTION={p['tombstones']}, SWEEP_INTERVAL={p['sweep']}",
        ["store", "interviews", "per s", "failures", "sessions left (window)", "tombstones left (window)",
         "files left (both windows)", "RSS at 1/4, 1/2, end"],
    )
    for r in runs:
        samples, seconds = r["samples"], p["seconds"]
        last = samples[-1][2]
        sessions_window = r["rate"] * (p["retention"] + p["sweep"])
        tombstone_window = r["rate"] * (p["tombstones"] + p["sweep"])
        rss = [_rss_at(samples, seconds / 4), _rss_at(samples, seconds / 2), samples[-1][1]]
        files = r["files"] if r["files"] is not None else last["sessions"] + last["tombstones"]
        t.rows.append([
            r["store"], f"{r['done']:,}", f"{r['rate']:.1f}", r["failed"], f"{last['sessions']:,} ({sessions_window:,.0f})",
            f"{last['tombstones']:,} ({tombstone_window:,.0f})", f"{files:,} ({sessions_window + tombstone_window:,.0f})",
            ", ".join(mib(x) for x in rss),
        ])
        name = r["store"]
        check(result, f"{name}: no failed interview", r["failed"] == 0, f"{r['failed']} failed" + (f" ({r['errors'][0]})" if r["errors"] else ""))
        check(result, f"{name}: sessions left ≤ 1.5× the retention window", last["sessions"] <= 1.5 * r["rate"] * p["retention"],
              f"{last['sessions']:,} vs {1.5 * r['rate'] * p['retention']:,.0f}")
        check(result, f"{name}: sessions and tombstones left ≤ 1.5× both windows",
              files <= 1.5 * r["rate"] * (p["retention"] + p["tombstones"]),
              f"{files:,} vs {1.5 * r['rate'] * (p['retention'] + p['tombstones']):,.0f}")
        check(result, f"{name}: RSS at the end within 5 % of RSS at half time", None if quick else abs(rss[2] - rss[1]) <= 0.05 * rss[1],
              f"{mib(rss[1])} → {mib(rss[2])}")
        t.notes.append(f"{name}, sessions / tombstones kept over time: " + ", ".join(
            f"{s[0]:.0f} s: {s[2]['sessions']:,} / {s[2]['tombstones']:,}" for s in samples[:: max(1, len(samples) // 8)]))
    if skipped:
        t.notes.append(skipped)
    t.notes.append("the windows in brackets are the measured rate × (retention + SWEEP_INTERVAL): what a sweep that keeps up leaves.")
    result.tables.append(t)
    result.method = __doc__ or ""
    return result
