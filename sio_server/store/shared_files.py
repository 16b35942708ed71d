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


LOCK_RETRY = (0.001, 0.05)  # seconds: first and longest wait between two tries of a stripe another process holds


def _try_lock(path: Path) -> int | None:
    """Open ``path`` and take its exclusive ``flock`` without waiting: the descriptor, or None when it is held.

    Never a blocking ``flock`` in an executor thread: a holder needs those threads to write (and to let go),
    so threads waiting there could leave none for it (with more concurrent saves than threads, a deadlock).
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except OSError:
        os.close(fd)
        raise
    return fd


class SharedFileSessionStore(FileSessionStore):
    """:class:`FileSessionStore` for several processes on one ``DATA_DIR``: see the module docstring."""

    # A worker (re)started while another writes leaves that writer's temp file alone: only a temp file older
    # than any write takes is a crash's leftover.
    temp_grace = 60.0

    def __init__(
        self, data_dir: str | os.PathLike[str], free_margin_bytes: int = 0, tombstone_retention: float = 31_536_000
    ) -> None:
        super().__init__(data_dir, free_margin_bytes, tombstone_retention)
        self.locks = self.root.parent / "locks"
        self._stripes = [asyncio.Lock() for _ in range(LOCK_STRIPES)]

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
        async with self._stripes[stripe]:  # this process's savers of one stripe take turns here, not at the flock
            delay = LOCK_RETRY[0]
            while True:
                try:
                    fd = _try_lock(self.locks / f"{stripe:02d}.lock")
                except OSError as exc:
                    raise StoreError(f"cannot lock session {session_id}: {exc.strerror}") from exc
                if fd is not None:
                    break
                await asyncio.sleep(delay)  # another process holds the stripe
                delay = min(delay * 2, LOCK_RETRY[1])
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
