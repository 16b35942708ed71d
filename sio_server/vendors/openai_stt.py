"""OpenAI speech-to-text: one ``POST {base_url}/audio/transcriptions`` per answer, streamed back.

:class:`OpenAISTT` implements :class:`~.stt.STTProvider` for a vendor that
transcribes files, not live audio: its :class:`OpenAIStream` keeps the
answer's audio (bounded by ``buffer_bytes``; past it the rest is dropped and
:attr:`OpenAIStream.audio_lost` is set), and :meth:`OpenAIStream.finish` sends
it as one multipart request with ``stream=true``. The server-sent
``transcript.text.delta`` events become interim results (the text so far),
``transcript.text.done`` the final one. ``linear16`` audio is sent as a WAV
file, WebM as it came. A failure (status, connection, a stream cut before
``done``) is retried with backoff by re-sending the whole answer.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import wave
from typing import Any

from ..settings import Settings
from .openai_client import OpenAIAccount, make_client, retrying
from .options import ConnectOptions
from .plugins import STTCapabilities, Vendor, register, stt_options
from .stt import OnTranscript, STTError

__all__ = ["OpenAISTT", "OpenAIStream", "as_file"]

log = logging.getLogger(__name__)


def as_file(audio: bytes, audio_format: str) -> tuple[str, bytes, str]:
    """The ``(filename, content, mime)`` of an answer's audio: 16 kHz mono PCM wrapped as WAV, WebM as is."""
    if audio_format != "linear16":
        return "answer.webm", audio, "audio/webm"
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(audio)
    return "answer.wav", out.getvalue(), "audio/wav"


class OpenAIStream:
    """The audio of one answer, transcribed at :meth:`finish`."""

    def __init__(self, provider: OpenAISTT, audio_format: str, language: str, on_transcript: OnTranscript) -> None:
        self._provider = provider
        self._audio_format = audio_format
        self._language = language
        self._on_transcript = on_transcript
        self._audio = bytearray()
        self._closed = False
        self.audio_lost = False

    async def send(self, chunk: bytes) -> None:
        """Keep one audio chunk (up to the provider's ``buffer_bytes``)."""
        if self._closed:
            raise STTError("openai: the stream is closed")
        room = self._provider.buffer_bytes - len(self._audio)
        if len(chunk) > room:
            if not self.audio_lost:
                log.warning(
                    "openai stt: answer audio over %d bytes; the rest is not transcribed", self._provider.buffer_bytes
                )
            self.audio_lost = True
            chunk = chunk[: max(0, room)]
        self._audio += chunk

    async def finish(self) -> str:
        """Send the answer's audio and return its transcript; :class:`STTError` when it cannot."""
        if self._closed:
            raise STTError("openai: the stream is closed")
        self._closed = True
        if not self._audio:
            return ""
        try:
            return await self._provider._transcribe(
                as_file(bytes(self._audio), self._audio_format), self._language, self._on_transcript
            )
        except Exception as exc:
            raise STTError(f"openai: cannot transcribe the answer ({type(exc).__name__}: {exc})") from exc

    async def abort(self) -> None:
        """Drop the answer's audio."""
        self._closed = True
        self._audio.clear()


class OpenAISTT:
    """A :class:`~.stt.STTProvider` on OpenAI's ``audio/transcriptions`` (streamed results).

    ``model`` must support ``stream=true`` (``gpt-4o-transcribe``,
    ``gpt-4o-mini-transcribe``; not ``whisper-1``); ``options`` sets tries,
    delays and the timeout of each read; ``buffer_bytes`` bounds one answer's audio.
    """

    name = "openai"
    offline = False
    capabilities = STTCapabilities(streaming=False, interim_results=True, end_of_speech_events=False)

    def __init__(
        self, api_key: str, base_url: str | None, model: str, options: ConnectOptions, buffer_bytes: int = 2_000_000
    ) -> None:
        self.model = model
        self.options = options
        self.buffer_bytes = buffer_bytes
        self.client = make_client(api_key, base_url, options)
        self._transcribe = retrying(options, self.name)(self._transcribe_once)

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self.client.close()

    async def open(self, *, audio_format: str, language: str, on_transcript: OnTranscript) -> OpenAIStream:
        """A stream for one answer (nothing is sent before :meth:`OpenAIStream.finish`)."""
        return OpenAIStream(self, audio_format, language, on_transcript)

    async def _transcribe_once(self, file: tuple[str, bytes, str], language: str, on_transcript: OnTranscript) -> str:
        """One try: post the file, report the deltas as interim text, return the ``done`` text."""
        events: Any = await self.client.audio.transcriptions.create(
            file=file, model=self.model, language=language, stream=True
        )
        text = ""
        async with events:
            async for event in events:
                kind = getattr(event, "type", "")
                if kind == "transcript.text.delta" and event.delta:
                    text += event.delta
                    await self._report(on_transcript, text.strip(), False)
                elif kind == "transcript.text.done":
                    final = (event.text or text).strip()
                    if final:
                        await self._report(on_transcript, final, True)
                    return final
        raise ConnectionError("the transcription stream ended without transcript.text.done")

    @staticmethod
    async def _report(on_transcript: OnTranscript, text: str, is_final: bool) -> None:
        if not text:
            return
        try:
            await on_transcript(text, is_final)
        except Exception:
            log.exception("openai stt: on_transcript failed")


class OpenAISTTSettings(OpenAIAccount):
    """OpenAI STT's settings: ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_STT_MODEL``."""

    stt_model: str = "gpt-4o-mini-transcribe"


def build(settings: Settings, own: OpenAISTTSettings) -> OpenAISTT:
    """OpenAI STT as ``settings`` and its own settings describe it."""
    # The whole transcription happens inside answer_end's wait: its retries must fit in it.
    options = dataclasses.replace(stt_options(settings), deadline=settings.stt_finalize_timeout)
    return OpenAISTT(own.api_key or "", own.base_url, own.stt_model, options, settings.stt_buffer_bytes)


VENDOR = register(Vendor("openai", "STT", OpenAISTTSettings, build, rank=20))
