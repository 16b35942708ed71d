"""OpenAI text-to-speech: ``POST {base_url}/audio/speech``, MP3 streamed as raw chunks.

:class:`OpenAITTS` implements :class:`~.tts.TTSProvider` with the ``openai``
SDK's streaming response (``stream_format`` left at its default, raw
``audio``): the bytes are yielded as they arrive, never buffered whole.
Connection errors, 429 (honouring ``Retry-After``) and 5xx are retried only
until the first byte; after it a failure raises :class:`~.tts.TTSError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from pydantic import Field

from ..settings import Settings
from .openai_client import OpenAIAccount, make_client, retrying
from .options import ConnectOptions
from .plugins import TTSCapabilities, Vendor, register, tts_options
from .tts import TTSError, relay

__all__ = ["DEFAULT_VOICES", "OpenAITTS", "OpenAITTSSettings"]

DEFAULT_VOICES: dict[str, str] = {"professional": "alloy", "friendly": "coral", "challenging": "onyx"}
MAX_INPUT_CHARS = 4096  # the endpoint's limit on ``input``


class OpenAITTS:
    """A :class:`~.tts.TTSProvider` on OpenAI's ``audio/speech`` endpoint.

    ``voice`` (when set) speaks every persona, else :data:`DEFAULT_VOICES`;
    ``options`` sets tries, delays and the timeout of connecting and of each read.
    """

    name = "openai"
    offline = False
    mime = "audio/mpeg"
    capabilities = TTSCapabilities(streaming=True)

    def __init__(
        self, api_key: str, base_url: str | None, model: str, options: ConnectOptions, *, voice: str | None = None
    ) -> None:
        self.model = model
        self.voice = voice
        self.options = options
        self.client = make_client(api_key, base_url, options)
        self._open = retrying(options, self.name)(self._open_once)

    def voice_for(self, persona: str) -> str:
        """The voice that speaks ``persona``."""
        return self.voice or DEFAULT_VOICES.get(persona, DEFAULT_VOICES["professional"])

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self.client.close()

    async def _open_once(self, text: str, voice: str) -> tuple[contextlib.AsyncExitStack, AsyncIterator[bytes], bytes]:
        """One try: send the request and read the first audio bytes."""
        stack = contextlib.AsyncExitStack()
        try:
            response: Any = await stack.enter_async_context(
                self.client.audio.speech.with_streaming_response.create(
                    model=self.model, input=text[:MAX_INPUT_CHARS], voice=voice, response_format="mp3"
                )
            )
            chunks = response.iter_bytes()
            async for first in chunks:
                if first:
                    return stack, chunks, first
        except BaseException:
            await stack.aclose()
            raise
        await stack.aclose()
        raise ConnectionError("the audio stream ended before any byte")

    async def stream(self, text: str, *, persona: str, language: str) -> AsyncIterator[bytes]:
        """Yield the audio of ``text`` in the persona's voice chunk by chunk (the language is read from the text)."""
        try:
            stack, chunks, first = await self._open(text, self.voice_for(persona))
        except Exception as exc:
            raise TTSError(f"openai: {type(exc).__name__}: {exc}") from exc
        try:
            async for chunk in relay(self.name, first, chunks):
                yield chunk
        finally:
            await stack.aclose()


class OpenAITTSSettings(OpenAIAccount):
    """OpenAI TTS's settings: ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_TTS_MODEL``, ``OPENAI_TTS_VOICE``."""

    tts_model: str = "gpt-4o-mini-tts"
    tts_voice: str | None = Field(default=None, description="one OpenAI voice for every persona; unset: one per persona")


def build(settings: Settings, own: OpenAITTSSettings) -> OpenAITTS:
    """OpenAI TTS as ``settings`` and its own settings describe it."""
    return OpenAITTS(own.api_key or "", own.base_url, own.tts_model, tts_options(settings), voice=own.tts_voice)


VENDOR = register(Vendor("openai", "TTS", OpenAITTSSettings, build, rank=20))
