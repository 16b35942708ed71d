"""The store's quota: at most ``max_sessions`` stored sessions, and at most ``max_per_client`` active ones
per client, so no client can fill the disk or push finished reports out of it.

A client (the address that started a session, hashed: ``Session.client_key``)
with ``max_per_client`` active sessions stored is refused ``too_many_sessions``
before anything is written. When a new session would pass ``max_sessions``,
room is made from what nobody will miss, in this order: never-answered
sessions idle for ``unanswered_ttl``, then ended sessions older than
``min_retention`` (oldest first); a session a socket holds is never taken. A
finished report younger than ``min_retention`` is never purged for someone
else: when nothing can go, the newcomer is refused ``store_full``. Each purge
leaves its tombstone, so the token is answered ``expired``. Counting and
finding what may go read no session (the store's indexes answer).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain.errors import InterviewError
from ..domain.model import utcnow
from ..observability.metrics import Metrics
from ..store.base import Clock
from .session_registry import SessionRegistry

log = logging.getLogger(__name__)


def client_hash(address: str) -> str:
    """What a session stores of the client address that started it: a hash, counted per client, never shown."""
    return hashlib.sha256(f"sio-server client {address}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class QuotaPolicy:
    """The quota's limits: sessions stored, active sessions per client, and the two ages that decide what may go."""

    max_sessions: int
    max_per_client: int | None = None
    unanswered_ttl: float = 3600
    min_retention: float = 604_800


class StoreQuota:
    """Makes room for one more session within the :class:`QuotaPolicy`, or refuses it."""

    def __init__(self, registry: SessionRegistry, metrics: Metrics, policy: QuotaPolicy) -> None:
        self.registry = registry
        self.metrics = metrics
        self.policy = policy

    async def make_room(self, client: str | None = None, now: datetime | None = None) -> None:
        """Check ``client``'s (a :func:`client_hash`) own cap, then purge what may go while the store is full.

        Raises ``too_many_sessions`` or ``store_full``; nothing is purged for a refused client.
        """
        store, policy = self.registry.store, self.policy
        if client is not None and policy.max_per_client is not None:
            if await store.count_active(client) >= policy.max_per_client:
                raise InterviewError(
                    "too_many_sessions", "too many unfinished interviews from your address; finish one or try later"
                )
        excess = await store.count() - policy.max_sessions + 1
        if excess <= 0:
            return
        now = now or utcnow()
        for clock, age in ((Clock.UNANSWERED, policy.unanswered_ttl), (Clock.ENDED, policy.min_retention)):
            excess -= await self._purge(clock, now - timedelta(seconds=age), excess, now)
            if excess <= 0:
                return
        log.warning("store full: %d sessions stored, none of them may be purged", policy.max_sessions)
        raise InterviewError("store_full", "the server cannot take new interviews right now; try again later")

    async def _purge(self, clock: Clock, before: datetime, wanted: int, now: datetime) -> int:
        """Purge up to ``wanted`` of the oldest sessions due on ``clock`` that no socket holds; how many went."""
        # Sessions held by a socket are skipped: ask for as many more as could be held here.
        ids = await self.registry.store.due(clock, before, wanted + len(self.registry.live))
        purged = 0
        for session_id in ids:
            if purged >= wanted:
                break
            if await self.registry.purge(session_id, now):
                purged += 1
                self.metrics.swept.labels("quota").inc()
        return purged
