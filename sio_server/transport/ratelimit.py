"""Token buckets for per-socket rate limits (events per second, audio bytes per second) and per-client ones."""

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

    def take(self, amount: float = 1.0) -> bool:
        """Spend ``amount`` units; False (and nothing spent) when not enough are left."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if amount > self.tokens:
            return False
        self.tokens -= amount
        return True


class SocketLimits:
    """The limits of one socket: an event bucket and an audio-bytes bucket."""

    __slots__ = ("audio", "audio_refused", "events", "last_warning")

    def __init__(self, events_per_second: float, audio_bytes_per_second: float) -> None:
        self.events = TokenBucket(events_per_second, events_per_second * 2)
        self.audio = TokenBucket(audio_bytes_per_second, audio_bytes_per_second * 2)
        self.last_warning = float("-inf")
        self.audio_refused = False  # text_mode was said once for an audio_chunk

    def should_warn(self, every: float = 1.0) -> bool:
        """True at most once per ``every`` seconds (for the ``rate_limited`` error event)."""
        now = time.monotonic()
        if now - self.last_warning >= every:
            self.last_warning = now
            return True
        return False


class KeyedBuckets:
    """One :class:`TokenBucket` of ``per_minute`` (burst: a minute's share) per key, the least recently used
    forgotten past ``max_keys``; the keys are :func:`..web.client_address.client_key` of client addresses."""

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
