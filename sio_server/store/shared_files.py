"""The file store shared by several processes of one machine (``REDIS_URL`` without ``DATABASE_URL``: workers).

:class:`FileSessionStore` is written for one process per ``DATA_DIR``: it
remembers the version it last read or wrote, so a save does not read the file
again, and a resume does not read it twice. With several processes on one
``DATA_DIR`` another process may have written since, so this store reads the
stored version again under an exclusive ``flock`` before every save (one of
``LOCK_STRIPES`` lock files in ``DATA_DIR/locks``, chosen by the session id),
and reads the session again after its lease is taken. A process that lost a
session's lease without noticing therefore gets :class:`VersionConflict`,
never the new holder's file overwritten: the same fencing as PostgreSQL's
version column.

Each process keeps its own index of what is due for the sweeper and the
quota (:class:`~.file_index.SessionIndex`): what it read at start-up and what
it wrote since. A session is swept by the process that last wrote it, and the
per-client quota counts per process; with PostgreSQL both are exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path

from ..domain.model import Session
from .base import StoreError
from .files import FileSessionStore

LOCK_STRIPES = 64


def _locked_fd(path: Path) -> int:
    """Open ``path`` and take its exclusive ``flock`` (blocking: runs in a thread)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        os.close(fd)
        raise
    return fd


class SharedFileSessionStore(FileSessionStore):
    """:class:`FileSessionStore` for several processes on one ``DATA_DIR``: see the module docstring."""

    def __init__(
        self, data_dir: str | os.PathLike[str], free_margin_bytes: int = 0, tombstone_retention: float = 31_536_000
    ) -> None:
        super().__init__(data_dir, free_margin_bytes, tombstone_retention)
        self.locks = self.root.parent / "locks"

    async def open(self) -> None:
        """Also create the lock folder."""
        await super().open()
        try:
            await asyncio.to_thread(self.locks.mkdir, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {self.locks}: {exc.strerror}") from exc

    @contextlib.asynccontextmanager
    async def _across_processes(self, session_id: str) -> AsyncIterator[None]:
        stripe = int(session_id.replace("-", "")[:8], 16) % LOCK_STRIPES if session_id else 0
        try:
            fd = await asyncio.to_thread(_locked_fd, self.locks / f"{stripe:02d}.lock")
        except OSError as exc:
            raise StoreError(f"cannot lock session {session_id}: {exc.strerror}") from exc
        try:
            yield
        finally:
            os.close(fd)  # closing the last descriptor of the open file releases the flock

    async def reload(self, seen: Session) -> Session | None:
        """Always a fresh read: another process may have written since ``seen`` was read."""
        return await self.load(seen.id)

    async def save(self, session: Session) -> None:
        """Write ``session`` if the version on disk, read under the lock, is the one it is based on."""
        async with self._across_processes(session.id):
            self.forget(session.id)  # the remembered version may be stale: read the file's
            await super().save(session)
