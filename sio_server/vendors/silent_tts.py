"""The TTS chain's last link, ``offline``: no speech, so each question ends with ``tts_end ok: false``."""

from __future__ import annotations

from collections.abc import AsyncIterator

from ..settings import Settings
from .plugins import NoSettings, TTSCapabilities, Vendor, register

__all__ = ["OfflineTTS"]


class OfflineTTS:
    """No speech: yields no audio."""

    name = "offline"
    offline = True
    mime = "audio/mpeg"
    capabilities = TTSCapabilities(streaming=True, audible=False)

    async def stream(self, text: str, *, persona: str, language: str) -> AsyncIterator[bytes]:
        """Yield nothing."""
        return
        yield b""  # pragma: no cover - makes this an async generator


def build(settings: Settings, own: NoSettings) -> OfflineTTS:
    """Silence."""
    return OfflineTTS()


VENDOR = register(Vendor("offline", "TTS", NoSettings, build, rank=2, local=True))
