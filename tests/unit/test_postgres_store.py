"""The PostgreSQL store: the shared contract plus what only a shared database has.

Needs PostgreSQL (``TEST_DATABASE_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``);
skips without it, fails under ``REQUIRE_SERVICES=1``. Every test works in its own
fresh schema, dropped at the end, so other users of the database are not touched.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

import asyncpg
import pytest

from sio_server.domain.model import Event, Status
from sio_server.store.base import StoreError, VersionConflict
from sio_server.store.postgres import PostgresSessionStore
from sio_server.store.postgres_schema import VERSION_TABLE
from tests.support.services import free_port, need, port_open
from tests.unit.store_contract import BAD_IDS, StoreContract, make_session

pytestmark = pytest.mark.services

DSN = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
_URL = urlsplit(DSN)
HOST, PORT = _URL.hostname or "127.0.0.1", _URL.port or 5432

StoreFactory = Callable[..., PostgresSessionStore]


async def _postgres_answers() -> bool:
    if not port_open(HOST, PORT):
        return False
    try:
        conn = await asyncpg.connect(DSN, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    try:
        return await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    """A unique schema name for this test; the schema is dropped (cascade) afterwards."""
    need(f"PostgreSQL at {HOST}:{PORT}", await _postgres_answers())
    name = f"test_sio_{secrets.token_hex(6)}"
    yield name
    conn = await asyncpg.connect(DSN, timeout=5)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture
async def make_store(schema: str) -> AsyncIterator[StoreFactory]:
    """Make stores (unopened) on the test's schema; all are closed at the end."""
    stores: list[PostgresSessionStore] = []

    def make(**kwargs) -> PostgresSessionStore:
        kwargs.setdefault("schema", schema)
        kwargs.setdefault("max_size", 5)
        s = PostgresSessionStore(kwargs.pop("dsn", DSN), **kwargs)
        stores.append(s)
        return s

    yield make
    for s in stores:
        await s.close()


@pytest.fixture
async def store(make_store: StoreFactory) -> PostgresSessionStore:
    s = make_store()
    await s.open()
    return s


async def _sql(query: str, *args, fetch: str = "fetch"):
    conn = await asyncpg.connect(DSN, timeout=5)
    try:
        return await getattr(conn, fetch)(query, *args)
    finally:
        await conn.close()


class TestPostgresStoreContract(StoreContract):
    pass


# -- several processes on one database ------------------------------------------


async def test_two_stores_concurrent_stale_writers_exactly_one_wins(make_store: StoreFactory):
    a, b = make_store(), make_store()
    await asyncio.gather(a.open(), b.open())
    session = make_session()
    await a.save(session)
    writers = []
    for i in range(10):
        copy = session.model_copy(deep=True)
        copy.version = 2
        copy.end_reason = f"writer {i}"
        writers.append((a if i % 2 else b, copy))
    results = await asyncio.gather(*(s.save(w) for s, w in writers), return_exceptions=True)
    assert sum(r is None for r in results) == 1, results
    assert all(isinstance(r, VersionConflict) for r in results if r is not None), results
    winner = writers[results.index(None)][1]
    for s in (a, b):
        loaded = await s.load(session.id)
        assert loaded.version == 2
        assert loaded.end_reason == winner.end_reason
    # The losers' retry on the winner's base is what a caller must do; a stale one still loses.
    with pytest.raises(VersionConflict):
        await b.save(writers[results.index(None) - 1][1])


async def test_two_stores_no_write_is_lost(make_store: StoreFactory):
    """Load-modify-save workers on two pools, retrying on conflicts: every change lands."""
    a, b = make_store(), make_store()
    await asyncio.gather(a.open(), b.open())
    session = make_session()
    await a.save(session)
    conflicts = 0
    names = [f"w{i}" for i in range(12)]
    first_round = asyncio.Barrier(len(names))  # everyone loads version 1 before anyone saves

    async def worker(store: PostgresSessionStore, name: str) -> None:
        nonlocal conflicts
        first = True
        while True:
            current = await store.load(session.id)
            current.events.append(Event(seq=current.last_seq + 1, name=name, data={}))
            current.version += 1
            if first:
                first = False
                await first_round.wait()
            try:
                await store.save(current)
                return
            except VersionConflict:
                conflicts += 1
                await asyncio.sleep(0)

    await asyncio.gather(*(worker(a if i % 2 else b, n) for i, n in enumerate(names)))
    final = await b.load(session.id)
    assert sorted(e.name for e in final.events) == sorted(names)
    assert [e.seq for e in final.events] == list(range(1, len(names) + 1))
    assert final.version == 1 + len(names)
    assert conflicts >= len(names) - 1  # the race did happen, and was detected


async def test_first_write_of_an_existing_session_conflicts_across_stores(make_store: StoreFactory):
    a, b = make_store(), make_store()
    await a.open()
    await b.open()
    session = make_session()
    results = await asyncio.gather(a.save(session), b.save(session.model_copy(deep=True)), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["NoneType", "VersionConflict"]


async def test_versions_below_one_never_save(store: PostgresSessionStore):
    session = make_session()
    session.version = 0
    with pytest.raises(VersionConflict):
        await store.save(session)
    assert await store.load(session.id) is None


async def test_update_of_a_deleted_session_conflicts(store: PostgresSessionStore):
    session = make_session()
    await store.save(session)
    await store.delete(session.id)
    session.version = 2
    with pytest.raises(VersionConflict):
        await store.save(session)


# -- schema and migrations --------------------------------------------------------


async def test_open_twice_and_concurrent_opens_are_fine(make_store: StoreFactory, schema: str):
    stores = [make_store(min_size=1, max_size=2) for _ in range(6)]
    await asyncio.gather(*(s.open() for s in stores))
    await stores[0].open()  # again on an open store
    session = make_session(questions=2)
    await stores[0].save(session)
    for s in stores:
        assert (await s.load(session.id)).model_dump() == session.model_dump()
        assert await s.schema_version() == s.latest_version == 3
    rows = await _sql(f'SELECT table_name, version FROM "{schema}".{VERSION_TABLE}')
    assert [tuple(r) for r in rows] == [("interview_sessions", 3)]
    # A later process reopening a migrated schema changes nothing and keeps the data.
    later = make_store()
    await later.open()
    assert (await later.load(session.id)).version == 1
    assert len(await _sql(f'SELECT * FROM "{schema}".{VERSION_TABLE}')) == 1


async def test_migration_creates_the_documented_table_and_index(store: PostgresSessionStore, schema: str):
    columns = await _sql(
        """SELECT column_name, data_type, is_nullable FROM information_schema.columns
           WHERE table_schema = $1 AND table_name = 'interview_sessions'""",
        schema,
    )
    types = {r["column_name"]: (r["data_type"], r["is_nullable"]) for r in columns}
    assert types["session_id"][0] == "uuid"
    assert types["version"] == ("bigint", "NO")
    assert types["data"] == ("jsonb", "NO")
    assert types["ended_at"] == ("timestamp with time zone", "YES")
    assert {"status", "created_at", "updated_at", "language", "mode", "questions_asked", "max_questions"} <= set(types)
    indexes = await _sql("SELECT indexdef FROM pg_indexes WHERE schemaname = $1", schema)
    assert any("(status, updated_at DESC)" in r["indexdef"] for r in indexes)


async def test_migration_3_fills_the_quota_columns_of_existing_rows(make_store: StoreFactory, schema: str):
    store = make_store()
    await store.open()
    answered, asked = make_session(questions=1, client_key="k" * 32), make_session(client_key="k" * 32)
    for session in (answered, asked):
        await store.save(session)
    table = f'"{schema}".interview_sessions'
    for statement in (  # back to schema version 2, as a server of the previous release left it
        f"ALTER TABLE {table} DROP COLUMN client_key, DROP COLUMN answered",
        f'DROP INDEX "{schema}".interview_sessions_ended_idx',
        f'DROP INDEX "{schema}".interview_sessions_tomb_purged_idx',
        f"UPDATE \"{schema}\".{VERSION_TABLE} SET version = 2",
    ):
        await _sql(statement, fetch="execute")
    await store.close()
    again = make_store()
    await again.open()
    assert await again.schema_version() == 3
    rows = await _sql(f"SELECT session_id::text AS id, client_key, answered FROM {table}")
    assert {r["id"]: (r["client_key"], r["answered"]) for r in rows} == {
        answered.id: ("k" * 32, True),
        asked.id: ("k" * 32, False),
    }
    assert await again.count_active("k" * 32) == 2


async def test_two_tables_in_one_schema_have_their_own_versions(make_store: StoreFactory, schema: str):
    first, second = make_store(), make_store(table="other_sessions")
    await asyncio.gather(first.open(), second.open())
    session = make_session()
    await first.save(session)
    assert await second.load(session.id) is None
    rows = await _sql(f'SELECT table_name FROM "{schema}".{VERSION_TABLE} ORDER BY 1')
    assert [r["table_name"] for r in rows] == ["interview_sessions", "other_sessions"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"schema": 'x"; DROP TABLE users; --'},
        {"schema": "Public"},
        {"schema": ""},
        {"table": "sessions; DELETE"},
        {"table": "a" * 60},  # its index name would not fit in 63 characters
        {"schema": "sch\u0435ma"},  # Cyrillic e
    ],
)
def test_unsafe_identifiers_are_refused(kwargs):
    with pytest.raises(ValueError):
        PostgresSessionStore(DSN, **kwargs)


# -- data ---------------------------------------------------------------------------


async def test_summary_columns_follow_the_data(store: PostgresSessionStore, schema: str):
    session = make_session(questions=1, max_questions=7)
    await store.save(session)
    session.version = 2
    session.status = Status.ENDED
    session.ended_at = session.updated_at
    session.turns.append(session.turns[0].model_copy(update={"index": 2}))
    await store.save(session)
    row = await _sql(
        f'SELECT * FROM "{schema}".interview_sessions WHERE session_id = $1', session.session_id, fetch="fetchrow"
    )
    assert row["status"] == "ended"
    assert row["version"] == 2
    assert row["questions_asked"] == 2
    assert row["max_questions"] == 7
    assert row["language"] == session.config.language
    assert row["mode"] == session.mode
    assert row["ended_at"] == session.ended_at
    assert row["updated_at"] == session.updated_at
    [summary] = await store.list_summaries(Status.ENDED)
    assert summary.questions_asked == 2 and summary.ended_at == session.ended_at
    assert await store.list_summaries(Status.ACTIVE) == []
    assert await store.list_summaries(limit=0) == []


async def test_nul_characters_are_replaced_not_fatal(store: PostgresSessionStore):
    """jsonb cannot hold U+0000: it becomes U+FFFD; a literal backslash-u0000 text survives."""
    session = make_session(questions=1)
    session.turns[0].answer = "a\x00b \\u0000 c"
    session.events.append(Event(seq=session.last_seq + 1, name="x", data={"k\x00": "v\x00"}))
    await store.save(session)
    loaded = await store.load(session.id)
    assert loaded.turns[0].answer == "a\ufffdb \\u0000 c"
    assert loaded.events[-1].data == {"k\ufffd": "v\ufffd"}


async def test_corrupt_row_is_a_store_error(store: PostgresSessionStore, schema: str):
    session = make_session()
    await store.save(session)
    await _sql(
        f"""UPDATE "{schema}".interview_sessions SET data = '{{"nope": 1}}'::jsonb WHERE session_id = $1""",
        session.session_id,
        fetch="execute",
    )
    with pytest.raises(StoreError):
        await store.load(session.id)


# -- errors -----------------------------------------------------------------------------


async def test_unreachable_server_is_a_store_error(make_store: StoreFactory):
    dead = make_store(dsn=f"postgresql://postgres@127.0.0.1:{free_port()}/test", connect_timeout=2)
    started = time.monotonic()
    with pytest.raises(StoreError) as info:
        await dead.open()
    assert not isinstance(info.value, VersionConflict)
    assert isinstance(info.value.__cause__, (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError))
    with pytest.raises(StoreError):
        await dead.ping()
    with pytest.raises(StoreError):
        await dead.load(str(uuid.uuid4()))
    with pytest.raises(StoreError):
        await dead.save(make_session())
    with pytest.raises(StoreError):
        await dead.list_summaries()
    assert time.monotonic() - started < 10


async def test_malformed_dsn_is_a_store_error(make_store: StoreFactory):
    with pytest.raises(StoreError):
        await make_store(dsn="postgresql://postgres@127.0.0.1:notaport/test").open()


async def test_closed_pool_is_a_store_error(store: PostgresSessionStore):
    await store.close()
    await store.close()  # twice is fine
    for op in (
        store.ping(),
        store.load(str(uuid.uuid4())),
        store.delete(str(uuid.uuid4())),
        store.save(make_session()),
        store.list_summaries(),
    ):
        with pytest.raises(StoreError):
            await op


async def test_closed_asyncpg_pool_underneath_is_a_store_error(store: PostgresSessionStore):
    """Even when the asyncpg pool itself is closed behind the store's back: StoreError, not InterfaceError."""
    await store._pool.close()
    with pytest.raises(StoreError) as info:
        await store.load(str(uuid.uuid4()))
    assert isinstance(info.value.__cause__, asyncpg.InterfaceError)
    with pytest.raises(StoreError):
        await store.ping()


async def test_ping_times_out_quickly_as_a_store_error(make_store: StoreFactory):
    busy = make_store(min_size=1, max_size=1, ping_timeout=0.3)
    await busy.open()
    async with busy._pool.acquire():  # the only connection is taken: ping cannot get one
        started = time.monotonic()
        with pytest.raises(StoreError):
            await busy.ping()
        assert time.monotonic() - started < 2
    await busy.ping()


async def test_database_errors_are_wrapped(store: PostgresSessionStore, schema: str):
    await _sql(f'DROP TABLE "{schema}".interview_sessions', fetch="execute")
    with pytest.raises(StoreError) as info:
        await store.load(str(uuid.uuid4()))
    assert isinstance(info.value.__cause__, asyncpg.PostgresError)
    with pytest.raises(StoreError) as info:
        await store.save(make_session())
    assert not isinstance(info.value, VersionConflict)


async def _never_queries(store: PostgresSessionStore) -> None:
    for bad in BAD_IDS:
        assert await store.load(bad) is None
        assert await store.delete(bad) is False


async def test_invalid_ids_never_reach_the_database(make_store: StoreFactory, store: PostgresSessionStore):
    # An unopened store and a closed one would raise on any query: they answer for bad ids.
    unopened = make_store()
    await _never_queries(unopened)
    await store.close()
    started = time.monotonic()
    await _never_queries(store)
    assert time.monotonic() - started < 0.5
    # A dead server, too.
    await _never_queries(make_store(dsn=f"postgresql://postgres@127.0.0.1:{free_port()}/test"))
