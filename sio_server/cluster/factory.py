"""Which lease keeper a process uses: Redis leases with several processes, else every session is ours."""

from __future__ import annotations

from ..settings import Settings
from .leases import Leases


def make_leases(settings: Settings) -> Leases:
    """Redis leases with several processes (``REDIS_URL``); otherwise every session is this process's."""
    if not settings.redis_url:
        return Leases()
    from .redis_leases import RedisLeases  # only with REDIS_URL: redis stays out of a single process

    return RedisLeases(settings.redis_url, ttl=settings.lease_ttl, liveness_ttl=settings.lease_liveness_ttl)
