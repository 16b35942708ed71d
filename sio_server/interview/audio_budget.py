"""A process-wide budget for buffered inbound audio.

Each session's :class:`~sio_server.interview.audio_queue.AudioQueue` is
bounded in chunks; this bounds their sum, so many sockets together cannot
hold more than ``AUDIO_BUFFER_BYTES`` of audio waiting for speech recognition.
"""

from __future__ import annotations


class AudioBudget:
    """Bytes of inbound audio queued in the whole process, at most ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, size: int) -> bool:
        """Reserve ``size`` bytes; False (nothing reserved) when the budget would be exceeded."""
        if self.used + size > self.limit:
            return False
        self.used += size
        return True

    def give(self, size: int) -> None:
        """Return ``size`` bytes taken before."""
        self.used = max(0, self.used - size)
