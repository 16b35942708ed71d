"""The STT interface: one live stream per spoken answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from .plugins import STTCapabilities

OnTranscript = Callable[[str, bool], Awaitable[None]]
OnEvent = Callable[[str], Awaitable[None]]
"""Vendor end-of-speech signals: ``"speech_started"`` and ``"utterance_end"`` (providers without them send none)."""


class Word(NamedTuple):
    """A final word with its times in seconds from the start of the answer's audio (punctuation kept).

    A stream whose vendor times its words (Deepgram) lists them as ``words`` after
    :meth:`STTStream.finish`; the others have no such attribute.
    """

    text: str
    start: float
    end: float


class STTError(Exception):
    """Speech recognition failed for this answer (after any reconnects)."""


class STTStream(Protocol):
    """A live recognition stream for one answer."""

    async def send(self, chunk: bytes) -> None:
        """Send one audio chunk (kept in a bounded per-answer buffer for reconnects)."""
        ...

    async def finish(self) -> str:
        """Finalize, wait (bounded) for the last final result, close; return the whole final transcript."""
        ...

    async def abort(self) -> None:
        """Close the stream without waiting for results."""
        ...


class STTProvider(Protocol):
    """One speech-to-text vendor."""

    name: str
    offline: bool
    capabilities: STTCapabilities

    async def open(
        self, *, audio_format: str, language: str, on_transcript: OnTranscript, on_event: OnEvent | None = None
    ) -> STTStream:
        """Open a stream for one answer; ``on_transcript(text, is_final)`` gets every result.

        ``on_event`` gets the vendor's speech-start and end-of-utterance signals; it is passed
        only to providers whose ``capabilities.end_of_speech_events`` is True (the others are judged from
        the timing of their results).
        """
        ...
