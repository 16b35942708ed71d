"""5. Store writes: p50/p99 of one session save with 20 turns, file store and PostgreSQL store.

In-process, one save at a time, on the stores of ``sio_server.store``: a
session with 20 answered turns (each question and answer a few sentences,
as the interview writes them, plus its event log) is saved again and again,
its version bumped each time as ``InterviewService._commit`` does. The file
store writes under a temporary folder on the same disk as the repository
(temp file, fsync, rename, folder fsync). "As is" is the adopted save: the
version check from the store's in-memory cache (no re-read of the file), the
temp file written unbuffered through aiofiles (no flush hop), then fsync,
``os.replace`` and the folder fsync (about six executor round trips: open, write, fsync, close, replace, folder fsync).
``store_onehop`` (not adopted; the product keeps aiofiles) is the same save
with the writing done in one ``asyncio.to_thread`` call (``bench/serve.py``).
Saves here are one at a time, so the size of the default executor (the
server's ``IO_THREADS``) does not matter; it does under 100 concurrent saves
(see the acks of 2. Turn latency). The PostgreSQL store uses
``DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``) in a
schema of its own that is dropped afterwards. The PostgreSQL row is skipped
(and said so) when no database answers.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from typing import Any

from .common import Result, Table, check, ms, pct

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def make_session() -> Any:
    from sio_server.domain.model import InterviewConfig
    from sio_server.interview import rules

    config = InterviewConfig(language="en", mode="text", max_questions=20, job_title="Backend Engineer",
                             job_description="Build and run the billing platform. " * 20, resume_text="Python, PostgreSQL. " * 40)
    session = rules.new_session(config, token_hash="0" * 64, mode="text")
    for i in range(1, 21):
        rules.add_question(session, f"Question {i}: tell me about a system you designed, its load and how it failed? " * 2,
                           False, timings={"llm_first_token_s": 0.3, "llm_total_s": 1.2, "tts_first_byte_s": 0.45})
        rules.record_answer(session, i, f"Answer {i}: we sharded the queue and added backpressure, then alerts. " * 6)
    return session


async def _bench(store: Any, saves: int) -> list[float]:
    session = make_session()
    await store.open()
    try:
        session.version = 1
        await store.save(session)
        out = []
        for _ in range(saves):
            session.version += 1
            started = time.perf_counter()
            await store.save(session)
            out.append(time.perf_counter() - started)
        return out
    finally:
        await store.delete(session.id)
        await store.close()


def run(quick: bool) -> Result:
    from sio_server.store.files import FileSessionStore

    result = Result("5. Store writes")
    saves = 20 if quick else 500
    session_bytes = len(make_session().model_dump_json())
    t = Table(f"Save of a 20-turn session ({session_bytes:,} bytes of JSON), {saves} saves one after another (ms)",
              ["store", "p50", "p95", "p99", "max"])
    tmp = tempfile.mkdtemp(prefix="bench-store-", dir=os.environ.get("BENCH_TMP"))  # /tmp: the same ext4 disk here
    try:
        files = asyncio.run(_bench(FileSessionStore(tmp), saves))
        original = FileSessionStore.save
        try:
            from .serve import _patch_file_store

            _patch_file_store()
            onehop = asyncio.run(_bench(FileSessionStore(tmp), saves))
        finally:
            FileSessionStore.save = original  # type: ignore[method-assign]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t.rows.append(["files, as is (aiofiles, version cache, unbuffered: ~6 executor hops)", ms(pct(files, 50)), ms(pct(files, 95)), ms(pct(files, 99)), ms(max(files))])
    t.rows.append(["files + store_onehop (not adopted: 1 hop)", ms(pct(onehop, 50)), ms(pct(onehop, 95)), ms(pct(onehop, 99)), ms(max(onehop))])
    dsn = os.environ.get("DATABASE_URL") or DEFAULT_DSN
    schema = f"bench_{os.getpid()}"
    pg: list[float] | None = None
    try:
        from sio_server.store.postgres import PostgresSessionStore

        pg = asyncio.run(_bench(PostgresSessionStore(dsn, schema=schema), saves))
    except Exception as exc:  # no database here: say so instead of failing the smoke run
        t.notes.append(f"PostgreSQL skipped: {type(exc).__name__}: {exc}")
    finally:
        asyncio.run(_drop_schema(dsn, schema))
    if pg is not None:
        t.rows.append(["PostgreSQL (jsonb row, one UPDATE)", ms(pct(pg, 50)), ms(pct(pg, 95)), ms(pct(pg, 99)), ms(max(pg))])
    t.notes.append("no target is set for this figure; it is the floor under every persisted event (save before emit).")
    result.tables.append(t)
    check(result, "(report only) file store p99", None, f"{pct(files, 99) * 1000:.1f} ms")
    if pg is not None:
        check(result, "(report only) PostgreSQL store p99", None, f"{pct(pg, 99) * 1000:.1f} ms")
    result.method = __doc__ or ""
    return result


async def _drop_schema(dsn: str, schema: str) -> None:
    try:
        import asyncpg

        conn = await asyncio.wait_for(asyncpg.connect(dsn), 5)
    except Exception:
        return
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()
