"""A token bucket: ``rate`` units a second with bursts up to ``burst`` (rate limits of every kind)."""

from __future__ import annotations

import time


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
