"""The TTL sweeper: ends abandoned sessions, frees live state, purges expired reports.

Three clocks (see docs/protocol-notes.md): an active session nobody touched
for ``abandoned_ttl`` is ended; ``session_ttl`` after an interview ended its
live state (memory, STT listener, audio queue) is freed while the session
stays readable in the store; ``report_retention`` after it ended the session is
purged, leaving a tombstone so its token is answered ``expired``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain.model import SessionSummary, Status, utcnow
from ..observability.metrics import Metrics
from ..store.base import StoreError
from . import logic
from .committer import Committer
from .registry import SessionRegistry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepPolicy:
    """The sweeper's clocks, in seconds."""

    session_ttl: float = 3600
    abandoned_ttl: float = 86400
    report_retention: float = 2_592_000
    interval: float = 60


class Sweeper:
    """Applies a :class:`SweepPolicy` now (:meth:`sweep`) and every ``interval`` seconds once started."""

    def __init__(self, registry: SessionRegistry, committer: Committer, metrics: Metrics, policy: SweepPolicy) -> None:
        self.registry = registry
        self.committer = committer
        self.metrics = metrics
        self.policy = policy
        self._task: asyncio.Task[None] | None = None

    async def sweep(
        self,
        session_ttl: float | None = None,
        abandoned_ttl: float | None = None,
        now: datetime | None = None,
        report_retention: float | None = None,
    ) -> dict[str, int]:
        """One sweep; arguments left out come from the policy. Returns what was purged and ended."""
        now = now or utcnow()
        ttl = timedelta(seconds=self.policy.session_ttl if session_ttl is None else session_ttl)
        abandoned = timedelta(seconds=self.policy.abandoned_ttl if abandoned_ttl is None else abandoned_ttl)
        retention = timedelta(seconds=self.policy.report_retention if report_retention is None else report_retention)
        purged = ended = 0
        for summary in await self.registry.store.list_summaries():
            if summary.status is Status.ENDED:
                purged += await self._ended(summary, now, ttl, retention)
            elif now - summary.updated_at >= abandoned:
                ended += await self._abandon(summary.session_id, now)
        for live in list(self.registry.live.values()):
            self.registry.release(live)
        return {"purged": purged, "ended": ended}

    async def _ended(self, summary: SessionSummary, now: datetime, ttl: timedelta, retention: timedelta) -> int:
        """Purge an ended session past its retention (1), or free its live state past ``ttl`` (0)."""
        session_id = summary.session_id
        age = now - (summary.ended_at or summary.updated_at)
        live = self.registry.live.get(session_id)
        if age >= retention and self.registry.socket_of(session_id) is None:
            self.registry.forget(session_id)
            if await self.registry.store.purge(session_id, now):
                self.metrics.swept.labels("purged").inc()
                return 1
        elif age >= ttl and live is not None:
            self.registry.close_listener(live)
            self.registry.release(live)
            if self.registry.live.get(session_id) is not live:
                self.metrics.swept.labels("freed").inc()
        return 0

    async def _abandon(self, session_id: str, now: datetime) -> int:
        """End an active session nobody touched for too long (1 when it was ended here)."""
        live = await self.registry.get(session_id)
        if live is None or self.registry.socket_of(session_id) is not None:
            return 0
        done = 0
        async with live.lock:
            if live.session.status is Status.ACTIVE:
                await self.committer.commit(live, lambda s: logic.abandon(s, now))
                done = 1
                self.metrics.swept.labels("ended").inc()
                self.metrics.sessions_ended.labels("abandoned").inc()
        self.registry.release(live)
        return done

    # -- the periodic sweep ---------------------------------------------------------

    def start(self) -> None:
        """Sweep every ``policy.interval`` seconds until :meth:`stop`."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="ttl-sweeper")

    async def stop(self) -> None:
        """Cancel the periodic sweep and wait for it."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.policy.interval)
            try:
                result = await self.sweep()
                if any(result.values()):
                    log.info("ttl sweep: %s", result)
            except StoreError as exc:
                log.warning("ttl sweep failed: %s", exc)
            except Exception:  # pragma: no cover - keep sweeping whatever happened
                log.exception("ttl sweep failed")
