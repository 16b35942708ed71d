"""PostgreSQL store: one row per session, shared by every server process.

The whole session (turns, event log, feedback) lives in a ``jsonb`` column;
a few summary columns (status, times, counts) are kept in sync with it on
every write so the admin list never parses ``data``.

Saves are optimistic and race-free without any read-modify-write: version 1
is an ``INSERT ... ON CONFLICT DO NOTHING``, version n > 1 is an ``UPDATE``
conditioned on ``version = n - 1``; "no row written" is a
:class:`VersionConflict`.

The schema is created and migrated at :meth:`PostgresSessionStore.open`
(:mod:`.postgres_schema`: once, however many processes start together).
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import ValidationError

from ..domain.ids import parse_session_id
from ..domain.model import Session, SessionSummary, Status
from .base import Clock, SessionStore, StoreError, Tombstone, VersionConflict
from .postgres_schema import PostgresSchema
from .postgres_sql import DB_ERRORS, Wrap, session_json

log = logging.getLogger(__name__)


class PostgresSessionStore(SessionStore):
    """Sessions as rows of ``schema.table`` through an asyncpg pool."""

    name = "postgres"

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        schema: str = "public",
        table: str = "interview_sessions",
        connect_timeout: float = 10.0,
        command_timeout: float = 30.0,
        ping_timeout: float = 2.0,
    ) -> None:
        self._layout = PostgresSchema(schema, table)
        self.schema = schema
        self.table = table
        # SQLAlchemy-style URLs ("postgresql+asyncpg://") are accepted as plain ones.
        self._dsn = re.sub(r"^(postgres(?:ql)?)\+\w+://", r"\1://", dsn)
        self.min_size = min_size
        self.max_size = max_size
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.ping_timeout = ping_timeout
        self._pool: asyncpg.Pool | None = None
        self._open_lock = asyncio.Lock()
        self._qualified = self._layout.sessions
        self._tombstones = self._layout.tombstones

    # -- schema -------------------------------------------------------------

    @property
    def latest_version(self) -> int:
        """The schema version this code migrates to."""
        return self._layout.latest_version

    async def schema_version(self) -> int:
        """The migration number recorded in the database (0 when none)."""
        with Wrap("reading the schema version"):
            async with self._acquire() as conn:
                return await self._layout.version(conn)

    # -- lifecycle ------------------------------------------------------------

    async def open(self) -> None:
        """Create the pool, then create or migrate the schema (idempotent; safe to call twice)."""
        async with self._open_lock:
            created = False
            # A malformed DSN is a ValueError from asyncpg: also a StoreError here.
            with Wrap("connecting", (ValueError,)):
                if self._pool is None:
                    self._pool = await asyncio.wait_for(
                        asyncpg.create_pool(
                            self._dsn,
                            min_size=self.min_size,
                            max_size=self.max_size,
                            timeout=self.connect_timeout,
                            command_timeout=self.command_timeout,
                        ),
                        # create_pool opens min_size connections; bound the whole of it.
                        timeout=self.connect_timeout * 2,
                    )
                    created = True
            try:
                with Wrap("migrating the schema"):
                    async with self._acquire() as conn:
                        await self._layout.migrate(conn)
            except BaseException:
                if created:
                    await self._terminate_pool()
                raise

    async def close(self) -> None:
        """Close the pool (waits for connections in use, then terminates them)."""
        async with self._open_lock:
            pool, self._pool = self._pool, None
            if pool is None:
                return
            try:
                await asyncio.wait_for(pool.close(), timeout=self.command_timeout)
            except DB_ERRORS:
                pool.terminate()

    async def _terminate_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()

    def _acquire(self) -> Any:
        """A pooled connection (``async with``); StoreError when the store is not open."""
        pool = self._pool
        if pool is None:
            raise StoreError("postgres store is not open")
        return pool.acquire(timeout=self.command_timeout)

    # -- SessionStore ---------------------------------------------------------

    async def _row(self, what: str, query: str, session_id: str) -> asyncpg.Record | None:
        """The one row ``query`` selects for ``$1 = session_id`` (None for an invalid id: it never reaches the database)."""
        uid = parse_session_id(session_id)
        if uid is None:
            return None
        with Wrap(what):
            async with self._acquire() as conn:
                return await conn.fetchrow(query, uid)

    async def load(self, session_id: str) -> Session | None:
        """Return the stored session, or None (invalid ids never reach the database)."""
        row = await self._row("load", f"SELECT data::text FROM {self._qualified} WHERE session_id = $1", session_id)
        if row is None:
            return None
        try:
            return Session.model_validate_json(row[0])
        except ValidationError as exc:
            raise StoreError(f"corrupt session row {session_id}") from exc

    async def save(self, session: Session) -> None:
        """Insert (version 1) or update (version n, stored n - 1) in one statement; VersionConflict otherwise."""
        uid = parse_session_id(session.id)
        if uid is None:  # pragma: no cover - ids are made by us
            raise StoreError("invalid session id")
        version = session.version
        if version < 1:
            raise VersionConflict(f"session {uid}: version {version} can never be saved (first write is 1)")
        args = (
            uid,
            session.status.value,
            version,
            session.created_at,
            session.updated_at,
            session.ended_at,
            session.config.language,
            session.mode,
            len(session.turns),
            session.config.max_questions,
            session_json(session),
            session.client_key,
            session.answered,
        )
        t = self._qualified
        with Wrap("save"):
            async with self._acquire() as conn:
                if version == 1:
                    written = await conn.fetchval(
                        f"""INSERT INTO {t} (session_id, status, version, created_at, updated_at, ended_at,
                                             language, mode, questions_asked, max_questions, data, client_key, answered)
                            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13)
                            ON CONFLICT (session_id) DO NOTHING
                            RETURNING 1""",
                        *args,
                    )
                else:
                    written = await conn.fetchval(
                        f"""UPDATE {t} SET status = $2, version = $3, created_at = $4, updated_at = $5,
                                ended_at = $6, language = $7, mode = $8, questions_asked = $9,
                                max_questions = $10, data = $11::jsonb, client_key = $12, answered = $13
                            WHERE session_id = $1 AND version = $3 - 1
                            RETURNING 1""",
                        *args,
                    )
        if written is None:
            raise VersionConflict(f"session {uid}: write based on version {version - 1} is stale (or the row is gone)")

    async def delete(self, session_id: str) -> bool:
        """Remove a session; True when it existed."""
        uid = parse_session_id(session_id)
        if uid is None:
            return False
        with Wrap("delete"):
            async with self._acquire() as conn:
                deleted = await conn.fetchval(f"DELETE FROM {self._qualified} WHERE session_id = $1 RETURNING 1", uid)
        return deleted is not None

    async def purge(self, session_id: str, purged_at: datetime) -> bool:
        """Delete the row and insert its tombstone in one statement; True when it existed."""
        uid = parse_session_id(session_id)
        if uid is None:
            return False
        with Wrap("purge"):
            async with self._acquire() as conn:
                purged = await conn.fetchval(
                    f"""WITH gone AS (
                            DELETE FROM {self._qualified} WHERE session_id = $1
                            RETURNING session_id, data->>'token_hash' AS token_hash
                        )
                        INSERT INTO {self._tombstones} (session_id, token_hash, purged_at)
                        SELECT session_id, token_hash, $2 FROM gone
                        ON CONFLICT (session_id) DO UPDATE
                            SET token_hash = EXCLUDED.token_hash, purged_at = EXCLUDED.purged_at
                        RETURNING 1""",
                    uid,
                    purged_at,
                )
        return purged is not None

    async def tombstone(self, session_id: str) -> Tombstone | None:
        """The tombstone of a purged session, or None."""
        query = f"SELECT session_id, token_hash, purged_at FROM {self._tombstones} WHERE session_id = $1"
        row = await self._row("reading a tombstone", query, session_id)
        if row is None:
            return None
        return Tombstone(session_id=str(row["session_id"]), token_hash=row["token_hash"], purged_at=row["purged_at"])

    async def count(self) -> int:
        """How many session rows there are."""
        with Wrap("counting sessions"):
            async with self._acquire() as conn:
                return int(await conn.fetchval(f"SELECT count(*) FROM {self._qualified}"))

    async def due(self, clock: Clock, before: datetime, limit: int) -> list[str]:
        """Ids due on ``clock``, oldest first, through the clock's index (rows that are not due are not read)."""
        where, order = {
            Clock.ABANDONED: ("status = 'active' AND updated_at <= $1", "updated_at"),
            Clock.UNANSWERED: ("status = 'active' AND NOT answered AND updated_at <= $1", "updated_at"),
            Clock.ENDED: ("status = 'ended' AND ended_at <= $1", "ended_at"),
        }[clock]
        with Wrap("listing due sessions"):
            async with self._acquire() as conn:
                rows = await conn.fetch(
                    f"SELECT session_id FROM {self._qualified} WHERE {where} ORDER BY {order} LIMIT $2::bigint",
                    before,
                    max(0, int(limit)),
                )
        return [str(row[0]) for row in rows]

    async def expire_tombstones(self, before: datetime, limit: int) -> int:
        """Delete the oldest tombstones purged at or before ``before``, at most ``limit`` (through ``purged_at``'s index)."""
        tombs = self._tombstones
        with Wrap("expiring tombstones"):
            async with self._acquire() as conn:
                return int(
                    await conn.fetchval(
                        f"""WITH gone AS (
                                DELETE FROM {tombs} WHERE session_id IN (
                                    SELECT session_id FROM {tombs} WHERE purged_at <= $1 ORDER BY purged_at LIMIT $2::bigint
                                ) RETURNING 1
                            )
                            SELECT count(*) FROM gone""",
                        before,
                        max(0, int(limit)),
                    )
                )

    async def count_tombstones(self) -> int:
        """How many tombstone rows there are."""
        with Wrap("counting tombstones"):
            async with self._acquire() as conn:
                return int(await conn.fetchval(f"SELECT count(*) FROM {self._tombstones}"))

    async def count_active(self, client_key: str) -> int:
        """Active rows of ``client_key`` (a partial index)."""
        with Wrap("counting a client's sessions"):
            async with self._acquire() as conn:
                return int(
                    await conn.fetchval(
                        f"SELECT count(*) FROM {self._qualified} WHERE status = 'active' AND client_key = $1", client_key
                    )
                )

    async def list_summaries(self, status: Status | None = None, limit: int | None = None) -> list[SessionSummary]:
        """Summaries from the summary columns, newest ``updated_at`` first."""
        if limit is not None:
            limit = max(0, int(limit))
        with Wrap("listing sessions"):
            async with self._acquire() as conn:
                rows = await conn.fetch(
                    f"""SELECT session_id, status, language, mode, questions_asked, max_questions,
                               created_at, updated_at, ended_at
                        FROM {self._qualified}
                        WHERE ($1::text IS NULL OR status = $1::text)
                        ORDER BY updated_at DESC, session_id
                        LIMIT $2::bigint""",
                    status.value if status is not None else None,
                    limit,
                )
        summaries = []
        for row in rows:
            try:
                summaries.append(SessionSummary.model_validate({**dict(row), "session_id": str(row["session_id"])}))
            except ValidationError:
                log.warning("skipping session row %s with invalid summary columns", row["session_id"])
        return summaries

    async def ping(self) -> None:
        """``SELECT 1`` with a short timeout; StoreError when the database does not answer."""
        with Wrap("ping"):
            pool = self._pool
            if pool is None:
                raise StoreError("postgres store is not open")
            async with asyncio.timeout(self.ping_timeout):
                async with pool.acquire() as conn:
                    await conn.fetchval("SELECT 1", timeout=self.ping_timeout)
