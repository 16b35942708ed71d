"""The ``SessionStore`` interface that every store (files, PostgreSQL) implements."""

from __future__ import annotations

import abc
from datetime import datetime
from enum import Enum

from pydantic import BaseModel

from ..domain.model import Session, SessionSummary, Status


class StoreError(Exception):
    """The store could not carry out an operation (disk full, database down...)."""


class VersionConflict(StoreError):
    """A save was based on a stale version: someone else wrote the session first."""


class Tombstone(BaseModel):
    """What is left of a session purged after its report retention: no content, only enough to say ``expired``."""

    session_id: str
    token_hash: str
    purged_at: datetime


class Clock(str, Enum):
    """What makes a stored session due for the sweeper or the quota (see :meth:`SessionStore.due`)."""

    ABANDONED = "abandoned"  # active, ``updated_at`` at or before the bound
    UNANSWERED = "unanswered"  # active, no answer recorded, ``updated_at`` at or before the bound
    ENDED = "ended"  # ended, ``ended_at`` at or before the bound


class SessionStore(abc.ABC):
    """Durable home of sessions.

    ``save`` is optimistic: it writes ``session`` only when the stored copy has
    version ``session.version - 1`` (or does not exist and ``session.version``
    is 1), and raises :class:`VersionConflict` otherwise. Callers bump the
    version before saving. Ids that are not canonical UUID4 text are never
    found and never touch the disk or the database.
    """

    name: str = "store"

    async def open(self) -> None:
        """Prepare the store (create folders, schema, pools)."""

    async def close(self) -> None:
        """Release what :meth:`open` acquired."""

    def forget(self, session_id: str) -> None:
        """Drop anything cached about a session that left this process's memory."""

    @abc.abstractmethod
    async def load(self, session_id: str) -> Session | None:
        """Return the stored session, or None when there is none (or the id is invalid)."""

    async def reload(self, seen: Session) -> Session | None:
        """The stored session ``seen`` was read from: ``seen`` itself when this store knows nothing
        was written since it was read, otherwise a fresh :meth:`load`.

        A session is read before its lease is taken (to check a resume token)
        and must be current after it; a store that cannot tell reads again.
        """
        return await self.load(seen.id)

    @abc.abstractmethod
    async def save(self, session: Session) -> None:
        """Persist ``session`` atomically (see the class docstring on versions)."""

    @abc.abstractmethod
    async def delete(self, session_id: str) -> bool:
        """Remove a session; True when it existed."""

    @abc.abstractmethod
    async def purge(self, session_id: str, purged_at: datetime) -> bool:
        """Remove a session and leave its :class:`Tombstone`, atomically; True when it existed."""

    @abc.abstractmethod
    async def tombstone(self, session_id: str) -> Tombstone | None:
        """The tombstone of a purged session, or None."""

    @abc.abstractmethod
    async def count(self) -> int:
        """How many sessions are stored (tombstones are not counted)."""

    @abc.abstractmethod
    async def list_summaries(self, status: Status | None = None, limit: int | None = None) -> list[SessionSummary]:
        """Summaries of stored sessions, newest ``updated_at`` first."""

    @abc.abstractmethod
    async def due(self, clock: Clock, before: datetime, limit: int) -> list[str]:
        """Ids of the sessions due on ``clock`` at ``before``, oldest first, at most ``limit``.

        Costs what it returns: sessions that are not due are not read.
        """

    @abc.abstractmethod
    async def expire_tombstones(self, before: datetime, limit: int) -> int:
        """Delete tombstones purged at or before ``before``, about ``limit`` at a time at most; how many went.

        Costs what it deletes: younger tombstones are not read. A token whose tombstone went is unknown (401).
        """

    @abc.abstractmethod
    async def count_tombstones(self) -> int:
        """How many tombstones are kept."""

    @abc.abstractmethod
    async def count_active(self, client_key: str) -> int:
        """How many active sessions were started by ``client_key`` (see ``Session.client_key``)."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise :class:`StoreError` when the store cannot be used right now."""
