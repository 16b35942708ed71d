"""The fake OpenAI server's audio endpoints: text-to-speech and (streamed) speech-to-text.

``POST /v1/audio/speech`` takes ``{"model", "input", "voice", "response_format"}``
and streams the audio as a raw chunked body (``stream_format: audio``), the
bytes of :func:`~.fake_elevenlabs.audio_for` (or :attr:`SpeechEndpoint.audio_factory`).

``POST /v1/audio/transcriptions`` takes the multipart form (``file``,
``model``, ``language``, ``stream``). The fake "recognises" the audio by
decoding it as UTF-8 text (a WAV file's frames, or the bytes as sent), as the
fake Deepgram does; real speech cannot be recognised by a fake, so
:attr:`TranscriptionEndpoint.transcript` (when set) is what every file "says".
With ``stream=true`` it answers server-sent events:
``transcript.text.delta`` word by word, then ``transcript.text.done``;
otherwise ``{"text": …}``.

Both have the same fault switches as the other fakes: :meth:`fail_next`
(status, optional ``Retry-After``), ``header_delay`` (hang before the headers),
a cut of the TCP connection mid-stream (``cut_after_bytes`` /
``cut_after_deltas``; 0 drops it before the first byte), for the next ``cut_times`` requests.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
import wave
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .fake_server import cut, send_audio
from .fake_elevenlabs import audio_for
from .openai_errors import Fault, error_response, refusal


@dataclass
class AudioRequest:
    """One audio request the fake received: its form or JSON fields, and the audio or text."""

    fields: dict[str, Any]
    headers: dict[str, str]
    audio: bytes = b""
    filename: str | None = None
    at: float = field(default_factory=time.monotonic)


class _Endpoint:
    def __init__(self, api_key: str | None) -> None:
        self.api_key = api_key
        self.faults: deque[Fault] = deque()
        self.header_delay = 0.0
        self.cut_times = 1
        self.requests: list[AudioRequest] = []

    def fail_next(self, n: int, status: int, *, retry_after: float | str | None = None) -> None:
        """Answer the next ``n`` requests with ``status`` (optionally with ``Retry-After``)."""
        for _ in range(n):
            self.faults.append(Fault(status, retry_after))

    async def _refusal(self, request: web.Request) -> web.Response | None:
        return await refusal(request, self.api_key, self.faults, self.header_delay)

    def _cut_now(self, request: web.Request, limit: int | None, done: int) -> bool:
        if limit is None or self.cut_times <= 0 or done < limit:
            return False
        self.cut_times -= 1
        cut(request)
        return True


class SpeechEndpoint(_Endpoint):
    """``POST /v1/audio/speech``; knobs: ``first_byte_delay``, ``chunk_size``, ``chunk_delay``, ``cut_after_bytes``."""

    def __init__(self, api_key: str | None) -> None:
        super().__init__(api_key)
        self.first_byte_delay = 0.0
        self.chunk_size = 512
        self.chunk_delay = 0.0
        self.cut_after_bytes: int | None = None
        self.audio_factory = audio_for
        self.finished = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        self.requests.append(AudioRequest(body, dict(request.headers)))
        refusal = await self._refusal(request)
        if refusal is not None:
            return refusal
        if not body.get("input") or not body.get("voice") or not body.get("model"):
            return error_response(Fault(400))
        audio = self.audio_factory(body["input"])
        resp, done = await send_audio(request, self, audio, {"x-request-id": "req_fake"})
        self.finished += done
        return resp


def heard(audio: bytes) -> str:
    """What the fake recognises in ``audio``: a WAV file's frames, or the bytes, as UTF-8 text."""
    if audio.startswith(b"RIFF"):
        with wave.open(io.BytesIO(audio)) as wav:  # checks the header: mono 16-bit 16 kHz
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 16000)
        at = audio.index(b"data", 12)
        size = int.from_bytes(audio[at + 4 : at + 8], "little")
        audio = audio[at + 8 : at + 8 + size]  # the data chunk as sent (an odd byte count is kept)
    return " ".join(audio.decode("utf-8", errors="replace").split())


class TranscriptionEndpoint(_Endpoint):
    """``POST /v1/audio/transcriptions``; knobs: ``delta_delay``, ``cut_after_deltas``, ``transcript``."""

    def __init__(self, api_key: str | None) -> None:
        super().__init__(api_key)
        self.transcript: str | None = None  # what real speech "says" (None: the audio bytes as text)
        self.delta_delay = 0.0
        self.cut_after_deltas: int | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        upload = form.get("file")
        audio = upload.file.read() if isinstance(upload, web.FileField) else b""
        fields = {k: v for k, v in form.items() if k != "file"}
        filename = upload.filename if isinstance(upload, web.FileField) else None
        self.requests.append(AudioRequest(fields, dict(request.headers), audio, filename))
        refusal = await self._refusal(request)
        if refusal is not None:
            return refusal
        if not audio or not fields.get("model"):
            return error_response(Fault(400))
        text = heard(audio) if self.transcript is None else self.transcript
        if fields.get("stream") != "true":
            return web.json_response({"text": text})
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "x-request-id": "req_fake"})
        await resp.prepare(request)
        words = [w + " " for w in text.split(" ")] if text else []
        for n, word in enumerate(words):
            if self._cut_now(request, self.cut_after_deltas, n):
                return resp
            if n and self.delta_delay:
                await asyncio.sleep(self.delta_delay)
            event = {"type": "transcript.text.delta", "delta": word if n < len(words) - 1 else word.strip()}
            await resp.write(f"data: {json.dumps(event)}\n\n".encode())
        if self._cut_now(request, self.cut_after_deltas, len(words)):
            return resp
        done = {
            "type": "transcript.text.done",
            "text": text,
            "usage": {
                "type": "tokens",
                "input_tokens": 10,
                "output_tokens": len(words),
                "total_tokens": 10 + len(words),
            },
        }
        await resp.write(f"data: {json.dumps(done)}\n\n".encode())
        await resp.write_eof()
        return resp
