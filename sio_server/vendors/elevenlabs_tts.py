"""ElevenLabs text-to-speech over HTTP streaming (aiohttp).

:class:`ElevenLabsTTS` implements :class:`~.tts.TTSProvider`:
``POST {base_url}/v1/text-to-speech/{voice_id}/stream?output_format=mp3_44100_128``
with the ``xi-api-key`` header, and yields the MP3 bytes chunk by chunk as they
arrive (never buffered whole, never base64). Connection errors, 429 and 5xx are
retried with backoff (honouring ``Retry-After``) only until the first byte has
been yielded; other 4xx and any failure after the first byte raise
:class:`~.tts.TTSError`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping

import aiohttp
from pydantic import Field

from ..settings import Settings
from .http_client import SessionOwner
from .options import ConnectOptions
from .plugins import TTSCapabilities, Vendor, VendorSettings, register, tts_options, vendor_config
from .retry import VendorHTTPError, parse_retry_after, retrying
from .tts import TTSError, relay

__all__ = ["DEFAULT_VOICES", "ElevenLabsTTS"]

log = logging.getLogger(__name__)

# ElevenLabs premade voices, one per interviewer persona.
VOICE_RACHEL = "21m00Tcm4TlvDq8ikWAM"  # calm, clear female voice
VOICE_BELLA = "EXAVITQu4vr4xnSDxMaL"  # soft, warm female voice
VOICE_ADAM = "pNInz6obpgDQGcFmaJgB"  # deep, firm male voice
DEFAULT_VOICES: dict[str, str] = {
    "professional": VOICE_RACHEL,
    "friendly": VOICE_BELLA,
    "challenging": VOICE_ADAM,
}
DEFAULT_OUTPUT_FORMAT = "mp3_44100_128"


def supports_language_code(model: str) -> bool:
    """Whether ``model`` accepts ``language_code`` (the v2.5 and v3 models; not multilingual_v2)."""
    return "v2_5" in model or model.startswith("eleven_v3")


class ElevenLabsTTS(SessionOwner):
    """A :class:`~.tts.TTSProvider` on ElevenLabs' streaming endpoint.

    ``voices`` maps a persona to a voice id (missing personas use
    :data:`DEFAULT_VOICES`); ``options`` sets tries, delays and the timeout of
    connecting and of each read; ``session`` is a shared
    ``aiohttp.ClientSession`` (one is created, and closed by :meth:`aclose`,
    when None).
    """

    name = "elevenlabs"
    offline = False
    mime = "audio/mpeg"
    capabilities = TTSCapabilities(streaming=True)

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.elevenlabs.io",
        model: str = "eleven_multilingual_v2",
        voices: Mapping[str, str] | None = None,
        options: ConnectOptions | None = None,
        session: aiohttp.ClientSession | None = None,
        *,
        output_format: str = DEFAULT_OUTPUT_FORMAT,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.voices = {**DEFAULT_VOICES, **{k: v for k, v in (voices or {}).items() if v}}
        self.options = options or ConnectOptions()
        self.output_format = output_format
        super().__init__(session)
        self._open = retrying(self.options, self.name)(self._open_once)

    def voice_for(self, persona: str) -> str:
        """The voice id used for ``persona``."""
        return self.voices.get(persona) or DEFAULT_VOICES["professional"]

    def _body(self, text: str, language: str) -> dict[str, object]:
        body: dict[str, object] = {"text": text, "model_id": self.model}
        if language and supports_language_code(self.model):
            body["language_code"] = language
        return body

    async def _open_once(self, voice_id: str, body: dict[str, object]) -> tuple[aiohttp.ClientResponse, bytes]:
        """One try: send the request and read the first audio bytes."""
        timeout = aiohttp.ClientTimeout(
            total=None, connect=self.options.timeout, sock_connect=self.options.timeout, sock_read=self.options.timeout
        )
        resp = await self._client().post(
            f"{self.base_url}/v1/text-to-speech/{voice_id}/stream",
            params={"output_format": self.output_format},
            json=body,
            headers={"xi-api-key": self.api_key, "Accept": "audio/mpeg"},
            timeout=timeout,
        )
        try:
            if resp.status != 200:
                detail = await resp.text(errors="replace")
                raise VendorHTTPError(resp.status, detail, parse_retry_after(resp.headers))
            first = await resp.content.readany()
        except BaseException:
            resp.close()
            raise
        if not first:
            resp.close()
            raise aiohttp.ClientPayloadError("the audio stream ended before any byte")
        return resp, first

    async def stream(self, text: str, *, persona: str, language: str) -> AsyncIterator[bytes]:
        """Yield the audio of ``text`` in the persona's voice chunk by chunk.

        Raises :class:`TTSError` when no audio could be started (after
        retries) or when the stream breaks after the first chunk.
        """
        voice_id = self.voice_for(persona)
        try:
            resp, first = await self._open(voice_id, self._body(text, language))
        except Exception as exc:
            raise TTSError(f"elevenlabs: {type(exc).__name__}: {exc}") from exc
        try:
            async for chunk in relay(self.name, first, resp.content.iter_any()):
                yield chunk
        finally:
            resp.close()


class ElevenLabsSettings(VendorSettings):
    """ElevenLabs' settings: ``ELEVENLABS_API_KEY``, ``_BASE_URL``, ``_MODEL`` and a voice per persona."""

    model_config = vendor_config("ELEVENLABS_")

    api_key: str | None = None
    base_url: str = "https://api.elevenlabs.io"
    model: str = "eleven_multilingual_v2"
    voice_professional: str | None = Field(default=None, description="unset: the built-in voice")
    voice_friendly: str | None = None
    voice_challenging: str | None = None


def build(settings: Settings, own: ElevenLabsSettings) -> ElevenLabsTTS:
    """ElevenLabs as ``settings`` and its own settings describe it."""
    voices = {"professional": own.voice_professional, "friendly": own.voice_friendly, "challenging": own.voice_challenging}
    return ElevenLabsTTS(own.api_key or "", own.base_url, own.model, voices=voices, options=tts_options(settings))


VENDOR = register(Vendor("elevenlabs", "TTS", ElevenLabsSettings, build, rank=10))
