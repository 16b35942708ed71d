"""9. Failover: the process holding sessions is SIGKILLed behind haproxy; the other process takes them over.

Two server processes (``python -m sio_server``, the defaults: ``LEASE_TTL`` 5 s,
``LEASE_LIVENESS_TTL`` 1.5 s) share a PostgreSQL store (a schema of the run's own)
and a private redis-server (leases, liveness keys, Socket.IO messages), behind
haproxy with ``deploy/haproxy/haproxy.cfg.template`` (round robin, health check
every 300 ms, ``option redispatch``). N (100) sockets of the official
socket.io-client in one Node process (``bench/node/resume.mjs``: websocket,
Socket.IO's own reconnection with the Python adapter's back-off, 0.25 s doubling
to 2 s with ±50 % jitter, the resume ``auth`` of the protocol) each start a text
interview through haproxy and answer question 1, so every session sits at
question 2 with history, about half of them on each process.

Each round SIGKILLs one process (the sessions it holds are the ones its
``interview_sockets_connected`` counted just before), tells the clients
(``kill SECONDS EXPECTED``: stamps of the round, with CLOCK_MONOTONIC, of every
disconnect and of the first ``session_resumed`` after it), and waits until as
many sessions as the victim held resumed. Reported from the kill: the clients'
disconnects, their resumes (p50 / max), the survivor's resume handler
(``interview_resume_seconds``: its CONNECT to the replay sent) and its lease
takeovers. The victim is then started again on its port; the next round kills
the other process, which by then holds every session (the second round is the
bigger one). Without the liveness key a survivor waited for the lease to expire
(the 5 s ``LEASE_TTL``); a session is never written by two processes (fencing,
``tests/integration/test_cluster.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from sio_server.devtools.haproxy import HAProxy
from sio_server.devtools.process import find_program
from sio_server.devtools.redis_server import RedisServer

from .common import BenchServer, NodeHolders, Result, Table, check, histogram_quantile, ms, pct
from .resume import HOLDER
from .store import DEFAULT_DSN, _drop_schema

ROUNDS = 2
WAIT = 30.0  # seconds a round waits for the dropped sessions to resume before it counts them lost
CHECKS_TO_RISE = 1.0  # seconds for haproxy to see a restarted process up again (checks every 300 ms, rise 1)
TARGET = 2.0  # seconds from the kill to the last dropped session resumed


def _round(victim: BenchServer, survivor: BenchServer, holders: NodeHolders) -> dict[str, Any]:
    """SIGKILL ``victim``; the clients it held resume on ``survivor``; then start ``victim`` again."""
    expected = int(victim.metrics().get("interview_sockets_connected", 0))
    takeovers = survivor.metrics().get("interview_lease_takeovers_total", 0)
    killed = time.monotonic()
    victim.kill()
    holders.say(f"kill {WAIT} {expected} {killed}")
    (out,) = holders.read_all()
    after = survivor.metrics()
    victim.start()
    return {
        "expected": expected,
        "dropped": [t - killed for t in out["dropped"]],
        "resumed": [t - killed for t in out["resumed"]],
        "lost": out["lost"],
        "rejected": out["rejected"],
        "handler_p50": histogram_quantile(after, "interview_resume_seconds", 0.50),
        "handler_p99": histogram_quantile(after, "interview_resume_seconds", 0.99),
        "takeovers": after.get("interview_lease_takeovers_total", 0) - takeovers,
    }


def measure(n: int) -> dict[str, Any]:
    """``n`` sessions through haproxy to two processes; ``ROUNDS`` rounds of killing one of them."""
    haproxy, redis_binary = find_program("haproxy"), find_program("redis-server")
    if haproxy is None or redis_binary is None:
        raise RuntimeError("failover needs haproxy and redis-server")
    dsn = os.environ.get("DATABASE_URL") or DEFAULT_DSN
    schema = f"bench_failover_{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix="bench-failover-"))
    rounds = []
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, work, True)
        stack.callback(lambda: asyncio.run(_drop_schema(dsn, schema)))
        redis = RedisServer(redis_binary, work / "redis").start()
        stack.callback(redis.stop)
        env = {"DATABASE_URL": dsn, "DATABASE_SCHEMA": schema, "REDIS_URL": redis.url,
               "TRUSTED_PROXIES": "127.0.0.1, ::1"}  # haproxy's address, as docs/deploy.md says
        servers = [stack.enter_context(BenchServer(env=env)) for _ in range(2)]
        proxy = HAProxy(haproxy, work / "haproxy", servers[0].port, servers[1].port).start()
        stack.callback(proxy.stop)
        holders = NodeHolders(HOLDER, proxy.url, [n])
        stack.callback(holders.kill)
        (ready,) = holders.read_all()
        split = [int(s.metrics().get("interview_sockets_connected", 0)) for s in servers]
        for i in range(ROUNDS):
            if i:
                time.sleep(CHECKS_TO_RISE)  # the restarted process back in haproxy's pool before the next kill
            rounds.append(_round(servers[i % 2], servers[1 - i % 2], holders))
        holders.say("close")
    return {"ready": ready["ready"], "errors": ready["errors"], "split": split, "rounds": rounds}


def run(quick: bool) -> Result:
    result = Result("9. Failover")
    n = 10 if quick else 100
    m = measure(n)
    t = Table(
        f"{n} sessions mid-interview (at question 2) behind haproxy, two processes (PostgreSQL + Redis); "
        "each round SIGKILLs one of them",
        ["round", "sessions on the killed process", "dropped", "resumed", "lost", "disconnect noticed (max)",
         "resumed after the kill p50 / max", "survivor's resume handler p50 / p99", "lease takeovers"],
    )
    for i, r in enumerate(m["rounds"], 1):
        t.rows.append([
            i, r["expected"], len(r["dropped"]), len(r["resumed"]), r["lost"] + r["rejected"],
            ms(max(r["dropped"], default=None)),
            f"{ms(pct(r['resumed'], 50))} / {ms(max(r['resumed'], default=None))}",
            f"{ms(r['handler_p50'])} / {ms(r['handler_p99'])}", f"{r['takeovers']:.0f}",
        ])
    t.notes.append(
        f"times in ms from the SIGKILL; {m['ready']} of {n} sessions started, split {m['split'][0]} / {m['split'][1]} "
        "between the processes; round 2 kills the process that took round 1's sessions (all of them by then); "
        "clients retry with the adapter's back-off (0.25 s doubling to 2 s, ±50 % jitter)"
    )
    if m["errors"]:
        t.notes.append(f"set-up errors: {m['errors']}")
    result.tables.append(t)
    worst = max((max(r["resumed"], default=float("inf")) for r in m["rounds"]), default=float("inf"))
    lost = sum(r["lost"] + r["rejected"] for r in m["rounds"])
    whole = all(len(r["resumed"]) == r["expected"] > 0 for r in m["rounds"]) and m["ready"] == n
    check(result,
          f"failover: every session of the killed process resumed on the other within {TARGET:.0f} s of the kill",
          worst <= TARGET and whole and lost == 0,
          f"{worst:.2f} s at most over {ROUNDS} rounds ({', '.join(str(r['expected']) for r in m['rounds'])} sessions "
          f"dropped), {lost} lost")
    result.method = __doc__ or ""
    return result
