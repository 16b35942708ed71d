"""Crash consistency: many interviews through the Python adapter while the server is SIGKILLed 50 times.

One real server process (the offline LLM slowed a little so kills land while
turns are pending), ``WORKERS`` clients each running text interviews back to
back, and a killer that waits a seeded random moment, SIGKILLs the server,
checks every session file while it is down and starts it again. Afterwards the
interviews in flight are finished without kills and everything is checked
once more.

Replay a failure with ``CRASH_SEED=<seed printed> pytest tests/integration/test_crash_consistency.py -s``
(the kill timing and interview settings are seeded; the scheduling of course is not).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

import pytest

from tests.support.crashloop import Ledger, check_clients, check_store, kill_loop, worker

pytestmark = pytest.mark.integration

KILLS = int(os.environ.get("CRASH_KILLS", "50"))
WORKERS = int(os.environ.get("CRASH_WORKERS", "8"))
FINISH_TIMEOUT = 60.0


@pytest.mark.timeout(240)
async def test_sigkill_loop_keeps_every_acked_answer_exactly_once(server_factory):
    seed = int(os.environ.get("CRASH_SEED") or random.SystemRandom().randrange(1, 2**31))
    print(f"\ncrash-consistency seed: CRASH_SEED={seed}")
    rng = random.Random(seed)
    load = {  # 8 workers on one address
        "SESSIONS_PER_CLIENT_PER_MINUTE": "100000",
        "MAX_SOCKETS_PER_CLIENT": "10000",
        "MAX_STORED_SESSIONS_PER_CLIENT": "100000",
    }
    server = server_factory(env={"OFFLINE_LLM_DELAY": f"{rng.uniform(0.05, 0.2):.3f}", **load}).start()
    sessions_dir = Path(server.data_dir) / "sessions"
    ledger = Ledger(seed=seed)
    stop = asyncio.Event()
    began = time.monotonic()

    workers = [
        asyncio.create_task(worker(server.url, n, ledger, stop, random.Random(f"{seed}-{n}")), name=f"worker-{n}")
        for n in range(WORKERS)
    ]
    try:
        figures = await kill_loop(server, ledger, rng, KILLS, min_up=0.1, max_up=0.8)
        killed_in = time.monotonic() - began
        if server.proc is None or server.proc.poll() is not None:
            await asyncio.to_thread(server.start)  # the loop stopped early on a problem
        # No more kills: the interviews in flight finish, no new ones start.
        stop.set()
        done, pending = await asyncio.wait(workers, timeout=FINISH_TIMEOUT)
        for task in done:
            if task.exception() is not None:
                ledger.problems.append(f"{task.get_name()} crashed: {task.exception()!r}")
        if pending:
            ledger.problems.append(f"{len(pending)} workers did not finish within {FINISH_TIMEOUT}s")
    finally:
        stop.set()
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        await asyncio.to_thread(server.kill)

    acked = ledger.acked_snapshot()
    final = check_store(sessions_dir, acked, finished={sid: i.max_questions for sid, i in ledger.interviews.items()})
    problems = ledger.problems + final.problems + check_clients(ledger, sessions_dir)
    interviews = ledger.interviews.values()
    print(
        f"crash-consistency seed={seed}: {figures['kills']} kills in {killed_in:.1f}s "
        f"({figures['kills_with_pending_step']} with a turn pending on disk, {figures['pending_steps_cut']} turns cut short, restarts {figures['restart_s']:.1f}s), "
        f"{len(ledger.interviews)} interviews started and acked, {ledger.starts_lost} start acks lost, "
        f"{final.files - len(ledger.interviews)} orphan sessions, {sum(len(i.acked) for i in interviews)} answers acked "
        f"({sum(i.duplicate_acks for i in interviews)} as duplicates after a resend), "
        f"{sum(i.resumes for i in interviews)} resumes, {sum(i.duplicates_dropped for i in interviews)} replayed events dropped, "
        f"{figures['answers_checked'] + final.answers_checked} answer checks, "
        f"{sum(i.feedback_seen for i in interviews)} feedbacks, total {time.monotonic() - began:.1f}s"
    )
    assert not problems, f"CRASH_SEED={seed}: {len(problems)} problems:\n" + "\n".join(problems[:40]) + "\n" + server.log()[-3000:]
    assert figures["kills"] == KILLS, f"CRASH_SEED={seed}"
    assert ledger.interviews, f"CRASH_SEED={seed}: no interview was ever started"
    assert all(i.feedback_seen for i in interviews), f"CRASH_SEED={seed}"
