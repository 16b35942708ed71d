"""Token buckets for per-socket rate limits (events per second, audio bytes per second)."""

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

    def take(self, amount: float = 1.0, now: float | None = None) -> bool:
        """Spend ``amount`` units; False (and nothing spent) when not enough are left (``now``: the monotonic time)."""
        now = time.monotonic() if now is None else now
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
