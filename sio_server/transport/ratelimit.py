"""Token buckets for per-socket rate limits (events per second, audio bytes per second) and per-client ones."""

from __future__ import annotations

import time

from ..aio.token_bucket import TokenBucket


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
