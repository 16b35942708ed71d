"""The bounded buffer of received ``tts_chunk`` audio."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any


class AudioBuffer:
    """The newest ``tts_chunk`` payloads, at most ``max_bytes`` of audio; the oldest chunks go first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.dropped = 0
        self._chunks: deque[dict[str, Any]] = deque()

    def add(self, chunk: dict[str, Any]) -> None:
        """Keep ``chunk``, dropping the oldest chunks while over the bound."""
        self._chunks.append(chunk)
        self.bytes += len(chunk.get("audio") or b"")
        while self.bytes > self.max_bytes and self._chunks:
            self.bytes -= len(self._chunks.popleft().get("audio") or b"")
            self.dropped += 1

    def of(self, index: int) -> list[dict[str, Any]]:
        """The kept chunks of question ``index``, in order."""
        return [c for c in self._chunks if c.get("index") == index]

    def clear(self) -> None:
        """Forget every kept chunk."""
        self._chunks.clear()
        self.bytes = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._chunks)

    def __len__(self) -> int:
        return len(self._chunks)
