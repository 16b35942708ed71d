"""The store's quota: at most ``max_sessions`` stored sessions, so one client cannot fill the disk.

When a new session would pass the quota, the oldest ended sessions nobody is
connected to are purged first (each leaves its tombstone, so its token is
answered ``expired``); when nothing can be purged, the new session is refused
with ``store_full`` before anything is written. Counting is cheap (no session
is read); the listing only happens when the store is full.
"""

from __future__ import annotations

import logging

from ..domain.errors import InterviewError
from ..domain.model import Status, utcnow
from ..observability.metrics import Metrics
from .registry import SessionRegistry

log = logging.getLogger(__name__)


class StoreQuota:
    """Makes room for one more session within ``max_sessions``, or refuses it."""

    def __init__(self, registry: SessionRegistry, metrics: Metrics, max_sessions: int) -> None:
        self.registry = registry
        self.metrics = metrics
        self.max_sessions = max_sessions

    async def make_room(self) -> None:
        """Purge the oldest ended sessions while the store is full; ``store_full`` when none can go."""
        store = self.registry.store
        excess = await store.count() - self.max_sessions + 1
        if excess <= 0:
            return
        ended = [
            s
            for s in await store.list_summaries(status=Status.ENDED)
            if self.registry.socket_of(s.session_id) is None
        ]
        ended.sort(key=lambda s: s.ended_at or s.updated_at)
        now = utcnow()
        for summary in ended[:excess]:
            self.registry.forget(summary.session_id)
            if await store.purge(summary.session_id, now):
                excess -= 1
                self.metrics.swept.labels("quota").inc()
        if excess > 0:
            log.warning("store full: %d sessions stored, none of them can be purged", self.max_sessions)
            raise InterviewError("store_full", "the server cannot take new interviews right now; try again later")
