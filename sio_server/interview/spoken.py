"""What the listener keeps of a spoken answer to tell how it was said: its timed words and the length of its audio."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..domain.model import InterviewConfig, Speaking
from ..coach import speaking
from ..vendors.stt import Word

LINEAR16_BYTES_PER_SECOND = 16000 * 2


@dataclass
class AnswerAudio:
    """The audio of one answer as it arrives: bytes, chunks, and when the first and last came."""

    bytes: int = 0
    chunks: int = 0
    first: float | None = None
    last: float | None = None

    def chunk(self, size: int, now: float | None = None) -> None:
        """One chunk of ``size`` bytes was sent to the STT stream."""
        now = time.monotonic() if now is None else now
        self.first = now if self.first is None else self.first
        self.last = now
        self.bytes += size
        self.chunks += 1

    def seconds(self, audio_format: str) -> float:
        """The answer's audio length: exact for ``linear16``; for WebM the time over which the chunks came
        (the page records in real time), counting the last chunk as long as the average one."""
        if audio_format == "linear16":
            return self.bytes / LINEAR16_BYTES_PER_SECOND
        if self.first is None or self.last is None or self.chunks < 2:
            return 0.0
        return (self.last - self.first) * self.chunks / (self.chunks - 1)


@dataclass(frozen=True)
class Heard:
    """A finished answer's timed words (none from vendors that do not time them) and its audio length."""

    words: tuple[Word, ...] = field(default_factory=tuple)
    audio_s: float = 0.0

    def speaking(self, transcript: str, config: InterviewConfig) -> Speaking:
        """How the answer ``transcript`` was said, in the interview's language, against its time limit."""
        return speaking.measure(transcript, self.words, self.audio_s, config.language, config.answer_time_limit_s)
