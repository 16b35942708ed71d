"""The TTL sweeper: ends abandoned sessions, frees and compacts live state, purges expired reports and idle unanswered sessions.

Five clocks (see docs/protocol-notes.md): an active session nobody touched
for ``abandoned_ttl`` is ended; an active session never answered and idle for
``unanswered_ttl`` is purged; ``session_ttl`` after an interview ended its
live state (memory, STT listener, audio queue) is freed while the session
stays readable in the store; every sweep, a held session that no step, lock
or speech uses is kept as its compressed JSON until it is used again (the model's
objects are a few times larger); ``report_retention`` after it ended the session is
purged. A purge leaves a tombstone so the token is answered ``expired``; a
session a socket holds is never purged. ``tombstone_retention`` after the
purge the tombstone goes too, and the token is as unknown as any other.

A sweep costs what it does: the store names the sessions due on each clock
(:meth:`~sio_server.store.base.SessionStore.due`, from an index), batch by
batch, and only those are read; live state is freed from what this process
holds in memory; tombstones go through the store's expiry index.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain.model import Status, utcnow
from ..observability.metrics import Metrics
from ..store.base import Clock, StoreError
from . import rules
from .committer import Committer
from .session_registry import SessionRegistry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepPolicy:
    """The sweeper's clocks, in seconds; how many due sessions it asks the store for at a time, and handles at once."""

    session_ttl: float = 3600
    abandoned_ttl: float = 86400
    report_retention: float = 2_592_000
    unanswered_ttl: float = 3600
    tombstone_retention: float = 31_536_000
    interval: float = 60
    batch: int = 500
    concurrency: int = 16


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
        policy = self.policy
        ttl = timedelta(seconds=policy.session_ttl if session_ttl is None else session_ttl)
        abandoned = timedelta(seconds=policy.abandoned_ttl if abandoned_ttl is None else abandoned_ttl)
        retention = timedelta(seconds=policy.report_retention if report_retention is None else report_retention)
        unanswered = timedelta(seconds=policy.unanswered_ttl)
        purged = await self._each(Clock.UNANSWERED, now - unanswered, lambda sid: self._purge(sid, now, "unanswered"))
        ended = await self._each(Clock.ABANDONED, now - abandoned, lambda sid: self._abandon(sid, now))
        purged += await self._each(Clock.ENDED, now - retention, lambda sid: self._purge(sid, now, "purged"))
        self._free(now - ttl)
        for live in list(self.registry.live.values()):
            self.registry.release(live)
        self._compact()
        await self._expire_tombstones(now - timedelta(seconds=policy.tombstone_retention))
        store = self.registry.store
        self.metrics.stored.set(await store.count())
        self.metrics.tombstones.set(await store.count_tombstones())
        return {"purged": purged, "ended": ended}

    async def _expire_tombstones(self, before: datetime) -> None:
        """Delete the tombstones purged by ``before``, a batch at a time (their tokens become unknown)."""
        while True:
            gone = await self.registry.store.expire_tombstones(before, self.policy.batch)
            self.metrics.swept.labels("tombstone_expired").inc(gone)
            if gone < self.policy.batch:
                return

    async def _each(self, clock: Clock, before: datetime, act: Callable[[str], Awaitable[int]]) -> int:
        """Apply ``act`` to the sessions due on ``clock`` at ``before``, a batch at a time; the sum of what it returned.

        Stops when a batch is the last one or when nothing in it could be acted on (all held by sockets).
        """
        done = 0
        slots = asyncio.Semaphore(self.policy.concurrency)

        async def one(session_id: str) -> int:
            async with slots:  # a purge is a few fsyncs: several at once share the disk's flushes
                return await act(session_id)

        while True:
            ids = await self.registry.store.due(clock, before, self.policy.batch)
            acted = sum(await asyncio.gather(*(one(session_id) for session_id in ids)))
            done += acted
            if len(ids) < self.policy.batch or acted == 0:
                return done

    async def _purge(self, session_id: str, now: datetime, action: str) -> int:
        """Purge a due session nobody holds (1), or leave it (0)."""
        if await self.registry.purge(session_id, now):
            self.metrics.swept.labels(action).inc()
            return 1
        return 0

    def _free(self, ended_before: datetime) -> None:
        """Free the live state of sessions held here that ended before ``ended_before`` (they stay stored)."""
        for live in list(self.registry.live.values()):
            ended_at = live.ended_at  # read from the compact form too: freeing builds no model
            if ended_at is not None and ended_at <= ended_before:
                self.registry.close_listener(live)
                self.registry.release(live)
                if self.registry.live.get(live.id) is not live:
                    self.metrics.swept.labels("freed").inc()

    def _compact(self) -> None:
        """Hold every session that nothing uses as its compressed JSON (:meth:`LiveSession.compact`)."""
        compacted = sum(live.compact() for live in self.registry.live.values())
        self.metrics.swept.labels("compacted").inc(compacted)

    async def _abandon(self, session_id: str, now: datetime) -> int:
        """End an active session nobody touched for too long (1 when it was ended here)."""
        live = await self.registry.get(session_id)
        if live is None or self.registry.socket_of(session_id) is not None:
            return 0
        done = 0
        async with live.lock:
            if live.session.status is Status.ACTIVE:
                await self.committer.commit(live, lambda s: rules.abandon(s, now))
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
