"""The app's cluster watch: renew this process's session leases and revive a dead Redis listener."""

from __future__ import annotations

import asyncio
import logging

import socketio

from .interview.service import InterviewService
from .observability.metrics import Metrics
from .settings import Settings
from .transport.upstream import listener_alive, restart_listener

log = logging.getLogger(__name__)


async def watch_cluster(sio: socketio.AsyncServer, service: InterviewService, metrics: Metrics, settings: Settings) -> None:
    """Renew leases every third of their life, and revive a dead Redis listener."""
    interval = max(0.2, settings.lease_ttl / 3)
    while True:
        await asyncio.sleep(interval)
        try:
            await service.renew_leases()
            if listener_alive(sio) is False:
                log.error("the Redis manager's listener died; restarting it")
                metrics.listener_restarts.inc()
                restart_listener(sio.manager, sio)
        except asyncio.CancelledError:
            raise
        except Exception:  # pragma: no cover - the watch must outlive any bug
            log.exception("cluster watch failed")
