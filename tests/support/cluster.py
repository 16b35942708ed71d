"""Real helpers for the several-process tests: a private redis-server, a PostgreSQL schema, haproxy."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from string import Template

import asyncpg

from sio_server.devtools.redis_server import RedisServer

from .services import free_port, start_listening, stop_process

__all__ = ["PG_DSN", "HAProxy", "RedisServer", "drop_schema", "new_schema", "pg_available"]

ROOT = Path(__file__).resolve().parents[2]
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


class HAProxy:
    """haproxy in front of two server ports, from ``deploy/haproxy/haproxy.cfg.template``."""

    def __init__(self, binary: str, workdir: Path, port_a: int, port_b: int) -> None:
        self.binary = binary
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.conf = workdir / "haproxy.cfg"
        template = Template((ROOT / "deploy" / "haproxy" / "haproxy.cfg.template").read_text())
        self.conf.write_text(template.substitute(listen_port=self.port, port_a=port_a, port_b=port_b))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL through haproxy."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "HAProxy":
        """Start haproxy in the foreground and wait for its port."""
        self.proc = start_listening([self.binary, "-db", "-f", str(self.conf)], self.port, "haproxy")
        return self

    def stop(self) -> None:
        """Stop haproxy."""
        stop_process(self.proc)
