"""The file store shared by several processes (workers): the store contract, and fencing between processes."""

from __future__ import annotations

import asyncio
import os
import time
import multiprocessing
from pathlib import Path

import pytest

from sio_server.settings import Settings
from sio_server.store import make_store
from sio_server.store.base import VersionConflict
from sio_server.store.files import FileSessionStore
from sio_server.store.shared_files import SharedFileSessionStore
from tests.unit.store_contract import StoreContract, make_session


@pytest.fixture
async def store(tmp_path: Path) -> SharedFileSessionStore:
    s = SharedFileSessionStore(tmp_path / "data")
    await s.open()
    return s


class TestSharedFileStoreContract(StoreContract):
    pass


def test_redis_without_a_database_selects_the_shared_file_store(tmp_path: Path):
    assert type(make_store(Settings(data_dir=str(tmp_path), redis_url="redis://127.0.0.1:1/0"))) is SharedFileSessionStore
    assert type(make_store(Settings(data_dir=str(tmp_path)))) is FileSessionStore


async def test_a_process_that_lost_the_session_cannot_overwrite_the_new_holder(tmp_path: Path):
    """Two stores on one DATA_DIR are two processes: the old holder's write, based on what it last wrote,
    is refused once the new holder has written (the single-process store would have overwritten it)."""
    old, new = SharedFileSessionStore(tmp_path / "data"), SharedFileSessionStore(tmp_path / "data")
    await old.open()
    await new.open()
    session = make_session(questions=1)
    await old.save(session)

    taken = await new.reload(session)  # the new holder reads after taking the lease
    assert taken is not session and taken.version == 1
    taken.version = 2
    taken.end_reason = "the new holder's turn"
    await new.save(taken)

    stale = session.model_copy(deep=True)
    stale.version = 2
    stale.end_reason = "the old holder's turn"
    with pytest.raises(VersionConflict):
        await old.save(stale)
    assert (await new.load(session.id)).end_reason == "the new holder's turn"


def _write_many(data_dir: str, session_id_json: str, ready, start: multiprocessing.synchronize.Event, results) -> None:
    from sio_server.domain.model import Session

    async def go() -> None:
        store = SharedFileSessionStore(data_dir)
        await store.open()  # its start-up clean-up runs before any writer starts (the parent waits for every "ready")
        session = Session.model_validate_json(session_id_json)
        session.version = 2
        ready.put("ready")
        start.wait()
        try:
            await store.save(session)
            results.put("saved")
        except VersionConflict:
            results.put("conflict")

    asyncio.run(go())


def test_writers_in_separate_processes_with_the_same_base_one_wins(tmp_path: Path):
    store = SharedFileSessionStore(tmp_path / "data")
    session = make_session()
    asyncio.run(store.open())
    asyncio.run(store.save(session))
    ctx = multiprocessing.get_context("spawn")
    ready, start, results = ctx.Queue(), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_write_many, args=(str(tmp_path / "data"), session.model_dump_json(), ready, start, results))
             for _ in range(4)]
    for p in procs:
        p.start()
    for _ in procs:  # every store opened (a late opener's clean-up would remove another writer's temporary file)
        ready.get(timeout=60)
    start.set()
    outcomes = sorted(results.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(30)
    assert outcomes == ["conflict", "conflict", "conflict", "saved"]


async def test_more_concurrent_saves_on_one_stripe_than_executor_threads_all_finish(tmp_path: Path):
    """Before, each save waited for its stripe's flock blocking in an executor thread; a holder then found no
    thread left to write with (the --workers 2 resume storm hung in its set-up this way)."""
    store = SharedFileSessionStore(tmp_path / "data")
    await store.open()
    sessions = []
    while len(sessions) < 40:  # sessions of one stripe, more than the default executor's threads
        session = make_session(questions=1)
        if int(session.id.replace("-", "")[:8], 16) % 64 == 0:
            sessions.append(session)
    await asyncio.wait_for(asyncio.gather(*(store.save(s) for s in sessions)), 30)
    assert [(await store.load(s.id)).version for s in sessions] == [s.version for s in sessions]


async def test_a_worker_starting_leaves_another_writers_fresh_temp_file_and_removes_a_crash_leftover(tmp_path: Path):
    """A worker restarted by the supervisor opens the store while another worker writes: before, its start-up
    clean-up removed every ``*.tmp``, so the other worker's replace() of its finished temp file failed."""
    first = SharedFileSessionStore(tmp_path / "data")
    await first.open()
    writing = first.root / ".in-progress.1234abcd.tmp"
    writing.write_bytes(b"{}")
    leftover = first.root / ".crashed.5678ef01.tmp"
    leftover.write_bytes(b"{}")
    old = time.time() - 2 * SharedFileSessionStore.temp_grace
    os.utime(leftover, (old, old))
    await SharedFileSessionStore(tmp_path / "data").open()
    assert writing.exists() and not leftover.exists()
