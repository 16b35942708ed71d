"""``python -m sio_server --workers 2``: two processes on one port under a supervisor (file store + Redis)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from client_adapter import InterviewClient
from sio_server.store.files import FileSessionStore
from tests.support.cluster import RedisServer
from tests.support.server import ADMIN, ROOT
from tests.support.services import need_program
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.services]
ANSWER = "I split the monolith into three services and cut deploy time from an hour to ten minutes."


def pid_answering(url: str) -> int | None:
    """The pid of the worker that answers one request on a new connection (None while none answers)."""
    request = urllib.request.Request(f"{url}/metrics", headers={**ADMIN, "Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    return int(re.search(r'^interview_process_info\{pid="(\d+)"\}', text, re.M).group(1))


def workers_of(supervisor: int) -> set[int]:
    """The live child processes of the supervisor."""
    try:
        text = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text()
    except OSError:
        return set()
    return {int(p) for p in text.split()}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def answering_pids(url: str, want: set[int], tries: int = 400) -> set[int]:
    """Pids seen answering over up to ``tries`` new connections, stopping once ``want`` are all seen."""
    seen: set[int] = set()
    for _ in range(tries):
        pid = pid_answering(url)
        if pid is not None:
            seen.add(pid)
        if want <= seen:
            break
    return seen


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(need_program("redis-server"), tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
async def workers(server_factory, redis_server):
    server = server_factory(env={"REDIS_URL": redis_server.url, "PING_INTERVAL": "2", "PING_TIMEOUT": "2"})
    server.argv += ["--workers", "2"]
    server.start()
    await wait_until(lambda: len(workers_of(server.pid)) == 2, timeout=20, what="two workers")
    pids = workers_of(server.pid)
    assert answering_pids(server.url, pids) == pids  # both accept connections on the one port
    return server


async def holder_pid(redis_url: str, session_id: str) -> int | None:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        owner = await client.get(f"interview:lease:{session_id}")
    finally:
        await client.aclose()
    return int(owner.split(":")[1]) if owner else None


async def test_both_workers_accept_and_a_killed_one_is_started_again(workers):
    before = workers_of(workers.pid)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    await wait_until(lambda: len(workers_of(workers.pid) - {victim}) == 2, timeout=20, what="a new worker")
    after = workers_of(workers.pid)
    assert victim not in after and len(after & before) == 1
    await wait_until(lambda: answering_pids(workers.url, after, tries=50) == after, timeout=30,
                     what="both workers answering, the new one included")


def test_the_workers_are_forked_from_the_supervisor(workers):
    """The supervisor imported the server once and forked the workers (the same command line, no interpreter
    started for a worker): a worker started again after a crash serves without importing anything."""
    supervisor = Path(f"/proc/{workers.pid}/cmdline").read_bytes()
    children = workers_of(workers.pid)
    assert len(children) == 2
    assert all(Path(f"/proc/{pid}/cmdline").read_bytes() == supervisor for pid in children)


async def test_a_connection_waits_while_no_worker_is_up(workers):
    """The workers accept from the supervisor's one listening socket: with every worker SIGKILLed, a new
    connection is not refused; it waits in the backlog and the worker started again answers it."""
    before = workers_of(workers.pid)
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    with socket.create_connection(("127.0.0.1", workers.port), timeout=20) as conn:  # refused, were no one listening
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        conn.settimeout(20)
        assert conn.recv(64).startswith(b"HTTP/1.1 200")
    assert not before & workers_of(workers.pid)


async def test_an_interview_survives_its_worker_being_killed(workers, redis_server):
    client = InterviewClient(workers.url)
    await client.connect()
    ack = await client.start(language="en", mode="text", max_questions=3)
    q = await client.next_question()
    await client.answer_text(q["index"], ANSWER)
    await client.wait_for(lambda: client.questions.get(2))
    holder = await holder_pid(redis_server.url, ack["session_id"])
    assert holder in workers_of(workers.pid)

    os.kill(holder, signal.SIGKILL)
    killed = time.monotonic()
    await client.wait_for(lambda: client.resumes >= 1, timeout=30)
    print(f"resumed {time.monotonic() - killed:.2f} s after its worker was SIGKILLed")
    now_held = await holder_pid(redis_server.url, ack["session_id"])
    assert now_held is not None and now_held != holder
    q = await client.next_question()
    await client.answer_text(q["index"], ANSWER)
    q = await client.next_question()
    assert q["is_last"]
    await client.answer_text(q["index"], ANSWER)
    feedback = await client.feedback(timeout=30)
    await client.close()
    assert [q["index"] for q in feedback["per_question"]] == [1, 2, 3]
    stored = await FileSessionStore(workers.data_dir).load(ack["session_id"])
    assert [t.index for t in stored.turns] == [1, 2, 3] and all(t.answer for t in stored.turns)
    assert [e.seq for e in stored.events] == list(range(1, len(stored.events) + 1))
    assert [e.data["index"] for e in stored.events if e.name == "question"] == [1, 2, 3]  # each asked once


async def test_sigterm_ends_the_supervisor_and_every_worker(workers):
    children = workers_of(workers.pid)
    started = time.monotonic()
    assert workers.terminate(timeout=10) == 0
    took = time.monotonic() - started
    await wait_until(lambda: not any(alive(p) for p in children), timeout=5, what="the workers gone")
    assert took < 5, took


async def test_a_sigkilled_supervisor_takes_its_workers_with_it(workers):
    children = workers_of(workers.pid)
    workers.kill()
    await wait_until(lambda: not any(alive(p) for p in children), timeout=10, what="the orphaned workers gone")


def test_polling_is_refused_by_every_worker(workers):
    """Long-polling would meet another worker on most requests: every worker refuses it alike (40 new connections,
    taken from the one accept queue by either), so clients stay on websocket."""
    for _ in range(40):
        request = urllib.request.Request(f"{workers.url}/socket.io/?EIO=4&transport=polling", headers={"Connection": "close"})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=5)
        assert info.value.code == 400


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, "needs REDIS_URL"), ({"REDIS_URL": "redis://127.0.0.1:6379/0", "PORT": "0"}, "needs a fixed PORT")],
)
def test_a_refused_combination_exits_with_a_clear_message(tmp_path, env, expected):
    clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "WORKERS")}
    result = subprocess.run(
        [sys.executable, "-m", "sio_server", "--workers", "2"], cwd=ROOT, capture_output=True, text=True, timeout=30,
        env={**clean, "DATA_DIR": str(tmp_path), "PORT": "18999", **env},
    )
    assert result.returncode == 2
    assert expected in result.stderr and result.stderr.startswith("not starting: --workers 2"), result.stderr
    assert "Traceback" not in result.stderr
