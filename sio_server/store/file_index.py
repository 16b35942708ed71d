"""The file store's index: what the sweeper and the quota ask about each session, kept in memory.

One small :class:`Entry` per stored session (status, times, whether it was
answered, who started it), updated by every save, delete and purge of the
store, so finding the sessions due on a clock or counting a client's active
sessions reads no session file. The index is rebuilt when the store opens.
"""

from __future__ import annotations

import collections
import heapq
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.model import Session, Status
from .base import Clock


@dataclass(frozen=True, slots=True)
class Entry:
    """What the index knows of one session."""

    status: Status
    updated_at: datetime
    ended_at: datetime | None
    answered: bool
    client_key: str | None

    @classmethod
    def of(cls, session: Session) -> Entry:
        """The entry of ``session``."""
        return cls(session.status, session.updated_at, session.ended_at, session.answered, session.client_key)

    @classmethod
    def of_json(cls, raw: bytes) -> Entry:
        """The entry of a session file's bytes, without validating the whole session (ValueError, KeyError or
        TypeError when they are not a session)."""
        data: dict[str, Any] = json.loads(raw)
        ended_at = data.get("ended_at")
        return cls(
            Status(data["status"]),
            datetime.fromisoformat(data["updated_at"]),
            datetime.fromisoformat(ended_at) if ended_at else None,
            any(turn.get("answer") is not None for turn in data.get("turns") or ()),
            data.get("client_key"),
        )

    def due_at(self, clock: Clock) -> datetime | None:
        """The time ``clock`` measures from for this session, or None when the clock does not apply to it."""
        if clock is Clock.ENDED:
            return (self.ended_at or self.updated_at) if self.status is Status.ENDED else None
        if self.status is not Status.ACTIVE or (clock is Clock.UNANSWERED and self.answered):
            return None
        return self.updated_at


class SessionIndex:
    """Entries by session id, and the number of active sessions per client key."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._active: collections.Counter[str] = collections.Counter()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._entries

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()
        self._active.clear()

    def put(self, session_id: str, entry: Entry) -> None:
        """Record (or replace) the entry of ``session_id``."""
        self._uncount(self._entries.get(session_id))
        self._entries[session_id] = entry
        if entry.status is Status.ACTIVE and entry.client_key:
            self._active[entry.client_key] += 1

    def drop(self, session_id: str) -> None:
        """Forget ``session_id`` (deleted or purged)."""
        self._uncount(self._entries.pop(session_id, None))

    def _uncount(self, entry: Entry | None) -> None:
        if entry is not None and entry.status is Status.ACTIVE and entry.client_key:
            self._active[entry.client_key] -= 1
            if self._active[entry.client_key] <= 0:
                del self._active[entry.client_key]

    def count_active(self, client_key: str) -> int:
        """Active sessions started by ``client_key``."""
        return self._active.get(client_key, 0)

    def due(self, clock: Clock, before: datetime, limit: int) -> list[str]:
        """Ids due on ``clock`` (its time at or before ``before``), oldest first, at most ``limit``."""
        due = []
        for session_id, entry in self._entries.items():
            at = entry.due_at(clock)
            if at is not None and at <= before:
                due.append((at, session_id))
        return [session_id for _, session_id in heapq.nsmallest(max(0, limit), due)]
