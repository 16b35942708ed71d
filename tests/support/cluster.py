"""Real helpers for the several-process tests: a private redis-server, a PostgreSQL schema, haproxy."""

from __future__ import annotations

import uuid

import asyncpg

from sio_server.devtools.haproxy import HAProxy
from sio_server.devtools.redis_server import RedisServer

__all__ = ["PG_DSN", "HAProxy", "RedisServer", "drop_schema", "new_schema", "pg_available"]

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"


async def pg_available() -> bool:
    """True when the PostgreSQL server answers."""
    try:
        conn = await asyncpg.connect(PG_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


async def drop_schema(schema: str) -> None:
    """Drop a test schema and everything in it."""
    conn = await asyncpg.connect(PG_DSN, timeout=5)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def new_schema() -> str:
    """A unique schema name for one test."""
    return f"test_cluster_{uuid.uuid4().hex[:12]}"
