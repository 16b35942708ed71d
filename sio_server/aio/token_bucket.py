"""A token bucket: ``rate`` units a second with bursts up to ``burst`` (rate limits of every kind)."""

from __future__ import annotations

import time
from collections import OrderedDict


class TokenBucket:
    """Allows ``rate`` units per second with bursts up to ``burst`` units."""

    __slots__ = ("burst", "rate", "stamp", "tokens")  # one pair per socket: no per-instance __dict__

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self, amount: float = 1.0, now: float | None = None) -> bool:
        """Spend ``amount`` units; False (and nothing spent) when not enough are left (``now``: the monotonic time)."""
        now = time.monotonic() if now is None else now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if amount > self.tokens:
            return False
        self.tokens -= amount
        return True


class KeyedBuckets:
    """One :class:`TokenBucket` of ``per_minute`` (burst: a minute's share) per key, the least recently used
    forgotten past ``max_keys``; the keys are :func:`sio_server.net.client_address.client_key` of client addresses."""

    def __init__(self, per_minute: float, max_keys: int = 10_000) -> None:
        self.per_minute = per_minute
        self.max_keys = max_keys
        self.buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def _bucket(self, key: str) -> TokenBucket:
        bucket = self.buckets.pop(key, None) or TokenBucket(self.per_minute / 60, max(1.0, self.per_minute))
        self.buckets[key] = bucket
        while len(self.buckets) > self.max_keys:
            self.buckets.popitem(last=False)
        return bucket

    def take(self, key: str) -> bool:
        """Spend one unit of ``key``; False when its minute's share is used up."""
        return self._bucket(key).take()

    def exhausted(self, key: str) -> bool:
        """True when ``key`` has no unit left (nothing spent)."""
        bucket = self.buckets.get(key)
        if bucket is None:
            return False
        bucket.take(0.0)  # refills it by the time passed
        return bucket.tokens < 1.0
