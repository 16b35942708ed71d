"""Saving a change to a session before anything it produced is emitted.

:meth:`Committer.commit` is the one way a live session changes: the change is
applied, the version bumped and the session saved; on failure the session is
put back as it was. Only after it returned may the caller emit the events the
change made, so every event with a ``seq`` is stored before a client sees it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from ..domain.errors import InterviewError
from ..domain.model import Event, Session
from ..observability.metrics import Metrics
from ..store.base import SessionStore, StoreError, VersionConflict
from .live import Emitter, LiveSession

log = logging.getLogger(__name__)
T = TypeVar("T")


class Committer:
    """Applies changes to live sessions, saves them, then emits their events."""

    def __init__(self, store: SessionStore, emitter: Emitter, metrics: Metrics) -> None:
        self.store = store
        self.emitter = emitter
        self.metrics = metrics

    async def commit(self, live: LiveSession, change: Callable[[Session], T]) -> T:
        """Apply ``change`` to the session and save it; on failure, undo and raise.

        Must be called with ``live.lock`` held. Raises :class:`InterviewError`
        (``store_unavailable``) when the save fails, with the session as before.
        """
        before = live.snapshot()  # its JSON: a fraction of the CPU of a deep copy of the model
        started = time.perf_counter()
        try:
            result = change(live.session)
            live.session.version += 1
            await self.store.save(live.session)
        except VersionConflict as exc:
            # Another process wrote this session (it took the lease over while we did not notice).
            self.metrics.store_errors.labels("conflict").inc()
            log.warning("session %s: version conflict; reloading", live.id)
            fresh = await self.store.load(live.id)
            if fresh is not None:
                live.session = fresh
            else:
                live.restore(before)
            raise InterviewError("conflict", "the session changed on another server; retry") from exc
        except StoreError as exc:
            live.restore(before)
            self.metrics.store_errors.labels("save").inc()
            log.warning("save of session %s failed: %s", live.id, exc)
            raise InterviewError("store_unavailable", "the session could not be saved; try again") from exc
        except BaseException:
            live.restore(before)
            raise
        self.metrics.store_write.observe(time.perf_counter() - started)
        live.touched = time.monotonic()
        return result

    async def commit_event(self, live: LiveSession, change: Callable[[Session], Event]) -> Event:
        """:meth:`commit` a change that makes a persisted event, then emit that event (saved first)."""
        event = await self.commit(live, change)
        await self.emitter.emit(live.id, event.name, event.data)
        return event
