"""The TTS interface (a provider, its errors) and the relay of a vendor's audio stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .plugins import TTSCapabilities


class TTSError(Exception):
    """Speech synthesis failed (after any retries)."""


class TTSProvider(Protocol):
    """One text-to-speech vendor."""

    name: str
    offline: bool
    mime: str
    capabilities: TTSCapabilities

    def stream(self, text: str, *, persona: str, language: str) -> AsyncIterator[bytes]:
        """Yield the audio of ``text`` chunk by chunk as the vendor sends it.

        Retries happen only before the first chunk is yielded; a failure after
        that raises :class:`TTSError` (nothing is ever yielded twice).
        """
        ...


async def relay(vendor: str, first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Yield ``first``, then the non-empty chunks of ``rest``.

    A failure after the first chunk raises :class:`TTSError` saying how many
    bytes were already sent (they are never sent again).
    """
    sent = len(first)
    try:
        yield first
        async for chunk in rest:
            if chunk:
                sent += len(chunk)
                yield chunk
    except Exception as exc:
        raise TTSError(f"{vendor}: stream broke after {sent} bytes ({type(exc).__name__}: {exc})") from exc
