"""The PostgreSQL store's schema: its table names, its numbered migrations, and applying them once.

:meth:`PostgresSchema.migrate` runs inside one transaction holding a
transaction-level advisory lock, so several processes starting at once apply
each migration exactly once; the version reached is recorded per table in
``interview_schema_version``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

import asyncpg

from .postgres_sql import MAX_IDENT, ident

log = logging.getLogger(__name__)

_INDEX_SUFFIX = "_status_updated_idx"  # the longest suffix added to the table name (see _TOMBSTONE_SUFFIX)
_TOMBSTONE_SUFFIX = "_tombstones"
VERSION_TABLE = "interview_schema_version"


class PostgresSchema:
    """The quoted names of ``schema.table`` and its tombstones, and the migrations that create them.

    ValueError when ``schema`` or ``table`` is not a plain lower-case identifier.
    """

    def __init__(self, schema: str, table: str) -> None:
        self.schema = schema
        self.table = table
        self.schema_q = ident(schema, "schema")
        # The index name "<table>_status_updated_idx" must fit in an identifier too.
        self.table_q = ident(table, "table", MAX_IDENT - len(_INDEX_SUFFIX))
        self.sessions = f"{self.schema_q}.{self.table_q}"
        self.versions = f"{self.schema_q}.{ident(VERSION_TABLE, 'table')}"
        self.tombstones = f"{self.schema_q}.{ident(table + _TOMBSTONE_SUFFIX, 'table')}"
        # Advisory lock key for migrations of this schema: stable across processes (and releases: keep the text).
        digest = hashlib.sha256(f"sio_server.store.postgres:{schema}".encode()).digest()
        self._lock_key = int.from_bytes(digest[:8], "big", signed=True)

    def migrations(self) -> list[Callable[[], list[str]]]:
        """Migration n (1-based) is ``self.migrations()[n - 1]``; append only, never edit one that shipped."""
        t = self.sessions
        index = ident(self.table + _INDEX_SUFFIX, "index")

        def m1() -> list[str]:
            return [
                f"""CREATE TABLE {t} (
                    session_id uuid PRIMARY KEY,
                    status text NOT NULL,
                    version bigint NOT NULL,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    ended_at timestamptz NULL,
                    language text NOT NULL,
                    mode text NOT NULL,
                    questions_asked int NOT NULL,
                    max_questions int NOT NULL,
                    data jsonb NOT NULL
                )""",
                f"CREATE INDEX {index} ON {t} (status, updated_at DESC)",
            ]

        def m2() -> list[str]:
            return [
                f"""CREATE TABLE {self.tombstones} (
                    session_id uuid PRIMARY KEY,
                    token_hash text NOT NULL,
                    purged_at timestamptz NOT NULL
                )""",
            ]

        def m3() -> list[str]:
            # What the sweeper and the quota ask, answered from indexes: who started an active session,
            # whether it was ever answered, the sessions due on each clock, and the tombstones past theirs.
            answered = "EXISTS (SELECT 1 FROM jsonb_array_elements(data->'turns') turn WHERE turn->>'answer' IS NOT NULL)"
            return [
                f"ALTER TABLE {t} ADD COLUMN client_key text NULL, ADD COLUMN answered boolean NOT NULL DEFAULT false",
                f"UPDATE {t} SET client_key = data->>'client_key', answered = {answered}",
                f"CREATE INDEX {ident(self.table + '_ended_idx', 'index')} ON {t} (ended_at) WHERE status = 'ended'",
                f"""CREATE INDEX {ident(self.table + '_unanswered_idx', 'index')} ON {t} (updated_at)
                    WHERE status = 'active' AND NOT answered""",
                f"CREATE INDEX {ident(self.table + '_client_idx', 'index')} ON {t} (client_key) WHERE status = 'active'",
                f"CREATE INDEX {ident(self.table + '_tomb_purged_idx', 'index')} ON {self.tombstones} (purged_at)",
            ]

        return [m1, m2, m3]

    @property
    def latest_version(self) -> int:
        """The schema version this code migrates to."""
        return len(self.migrations())

    async def migrate(self, conn: asyncpg.Connection) -> None:
        """Create the schema and apply the migrations it lacks, under the advisory lock (one transaction)."""
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", self._lock_key)
            # Look before creating, so a fully migrated database needs no DDL rights.
            if not await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", self.schema):
                await conn.execute(f"CREATE SCHEMA {self.schema_q}")
            if await conn.fetchval("SELECT to_regclass($1)", f"{self.schema_q}.{VERSION_TABLE}") is None:
                await conn.execute(
                    f"""CREATE TABLE {self.versions} (
                        table_name text PRIMARY KEY,
                        version int NOT NULL,
                        migrated_at timestamptz NOT NULL DEFAULT now()
                    )"""
                )
            current = await conn.fetchval(f"SELECT version FROM {self.versions} WHERE table_name = $1", self.table)
            current = current or 0
            migrations = self.migrations()
            if current > len(migrations):
                log.warning(
                    "schema of %s.%s is at version %d, newer than this server's %d; using it as is",
                    self.schema,
                    self.table,
                    current,
                    len(migrations),
                )
                return
            for number in range(current + 1, len(migrations) + 1):
                for statement in migrations[number - 1]():
                    await conn.execute(statement)
                log.info("applied migration %d to %s.%s", number, self.schema, self.table)
            if current < len(migrations):
                await conn.execute(
                    f"""INSERT INTO {self.versions} (table_name, version) VALUES ($1, $2)
                        ON CONFLICT (table_name) DO UPDATE SET version = EXCLUDED.version, migrated_at = now()""",
                    self.table,
                    len(migrations),
                )

    async def version(self, conn: asyncpg.Connection) -> int:
        """The migration number recorded in the database (0 when none)."""
        if await conn.fetchval("SELECT to_regclass($1)", f"{self.schema_q}.{VERSION_TABLE}") is None:
            return 0
        value = await conn.fetchval(f"SELECT version FROM {self.versions} WHERE table_name = $1", self.table)
        return value or 0
