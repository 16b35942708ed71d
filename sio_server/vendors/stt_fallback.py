"""The STT fallback chain: each answer's stream opened with the first available provider that takes its audio.

A provider's ``audio_formats``, when it declares them, decide whether it takes
an answer (OpenAI realtime takes ``linear16`` only; skipping it costs its
breaker nothing). :meth:`FallbackSTT.handles` says whether any provider takes a
language and audio format. The chain's breakers are those of
:class:`~.fallback.Chain`.
"""

from __future__ import annotations

from .fallback import Chain, Link, failed
from .plugins import STTCapabilities
from .stt import OnEvent, OnTranscript, STTError, STTProvider, STTStream, Word

__all__ = ["FallbackSTT"]


class _TrackedStream:
    """An :class:`~.stt.STTStream` that reports its outcome to its provider's breaker."""

    def __init__(self, stream: STTStream, link: Link[STTProvider]) -> None:
        self.stream = stream
        self.link = link
        self.name = link.provider.name

    @property
    def audio_lost(self) -> bool:
        """Whether the provider lost audio of this answer."""
        return bool(getattr(self.stream, "audio_lost", False))

    @property
    def words(self) -> list[Word]:
        """The provider's timed final words of this answer ([] when it does not time its words)."""
        return list(getattr(self.stream, "words", None) or [])

    async def send(self, chunk: bytes) -> None:
        """Send one audio chunk."""
        try:
            await self.stream.send(chunk)
        except Exception:
            self.link.breaker.failure()
            raise

    async def finish(self) -> str:
        """Finalize and return the transcript."""
        try:
            text = await self.stream.finish()
        except Exception:
            self.link.breaker.failure()
            raise
        return text

    async def abort(self) -> None:
        """Close without waiting for results."""
        await self.stream.abort()


class FallbackSTT(Chain[STTProvider]):
    """An :class:`~.stt.STTProvider` that opens each answer's stream with the first available provider.

    ``on_event`` (speech start, end of utterance) goes to the providers that send such events
    (``capabilities.end_of_speech_events``); the listener judges the others from the timing of their results.
    """

    capabilities = STTCapabilities(streaming=True, interim_results=True, end_of_speech_events=True)
    """The chain takes ``on_event`` and passes it to the links whose own capabilities send such events."""

    def handles(self, language: str, audio_format: str) -> bool:
        """Whether a provider transcribes ``language`` sent as ``audio_format`` (one that declares neither takes all)."""
        return any(
            language in (p.capabilities.languages or (language,))
            and audio_format in (p.capabilities.audio_formats or (audio_format,))
            for p in self.providers
        )

    async def open(
        self, *, audio_format: str, language: str, on_transcript: OnTranscript, on_event: OnEvent | None = None
    ) -> STTStream:
        """Open a stream for one answer; :class:`STTError` when no provider could."""
        errors: list[str] = []
        for link in self.available():
            formats = link.provider.capabilities.audio_formats
            if formats is not None and audio_format not in formats:
                link.breaker.release()  # a trial slot available() may have given it
                continue
            events = {"on_event": on_event} if on_event and link.provider.capabilities.end_of_speech_events else {}
            try:
                with link.breaker.call():  # reachable; a failure of the stream itself counts in _TrackedStream
                    stream = await link.provider.open(
                        audio_format=audio_format, language=language, on_transcript=on_transcript, **events
                    )
            except Exception as exc:  # noqa: BLE001 - logged by failed(); the chain moves on
                errors.append(failed("STT", link.provider.name, "to open a stream", exc))
                continue
            return _TrackedStream(stream, link)
        raise STTError("no STT provider could open a stream: " + ("; ".join(errors) or "all skipped"))
