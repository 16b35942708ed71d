"""A fake ElevenLabs streaming TTS server with fault injection.

``POST /v1/text-to-speech/{voice_id}/stream`` (and the non-stream path) checks
``xi-api-key``, records the request and streams deterministic MP3-ish bytes
(:func:`audio_for`) as a chunked body: ``first_byte_delay`` before the first
chunk, ``chunk_delay`` between chunks of ``chunk_size`` bytes.

Usage::

    async with FakeElevenLabs() as fake:
        fake.fail_next(1, 429, retry_after=0.2)
        tts = ElevenLabsTTS(fake.api_key, fake.url, ...)
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .fake_server import FakeServer, send_audio

FRAME_HEADER = b"\xff\xfb\x90\x64"


def audio_for(text: str) -> bytes:
    """The fake audio of ``text``: an ID3 tag then MP3-like frames derived from the text (about 10 bytes per char)."""
    digest = hashlib.sha256(text.encode()).digest()
    frames = max(2, len(text.encode()) // 40 + 1)
    frame = FRAME_HEADER + (digest * 13)[:413]
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + frame * frames


SILENT_FRAME = b"\xff\xfb\x90\xc0" + bytes(413)  # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono: 26 ms of silence


def silent_mp3_for(text: str) -> bytes:
    """Decodable silent MP3 for ``text`` (about 26 ms per 4 characters), for tests that play the audio."""
    return SILENT_FRAME * max(4, len(text.encode()) // 4)


@dataclass
class Fault:
    """An error answer for one request."""

    status: int
    retry_after: float | str | None = None
    body: Any = None


@dataclass
class TTSRequest:
    """One request the fake received."""

    voice_id: str
    text: str
    model_id: str | None
    language_code: str | None
    output_format: str | None
    headers: dict[str, str]
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class FakeElevenLabs(FakeServer):
    """Fake ElevenLabs TTS.

    Knobs: :meth:`fail_next` (status for the next N requests, optional
    Retry-After), :attr:`first_byte_delay`, :attr:`chunk_delay`,
    :attr:`chunk_size`, :attr:`cut_after_bytes` (close the TCP connection after
    K bytes, for the next :attr:`cut_times` requests), :attr:`audio_repeat`
    (send the audio that many times over: long speech), :attr:`audio_factory`
    (text to audio bytes; :func:`silent_mp3_for` gives decodable MP3). Records:
    :attr:`requests`; :attr:`finished` counts streams sent to the end.
    """

    def __init__(self, api_key: str = "el-test-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.faults: deque[Fault] = deque()
        self.first_byte_delay = 0.0
        self.chunk_delay = 0.0
        self.chunk_size = 512
        self.audio_repeat = 1
        self.audio_factory = audio_for
        self.cut_after_bytes: int | None = None
        self.cut_times = 1
        self.requests: list[TTSRequest] = []
        self.finished = 0
        self.finished_at: float | None = None

    @property
    def url(self) -> str:
        """Base URL as the client expects it: ``http://127.0.0.1:PORT``."""
        return self.origin

    @property
    def count(self) -> int:
        """Number of TTS requests received."""
        return len(self.requests)

    def fail_next(self, n: int, status: int, *, retry_after: float | str | None = None, body: Any = None) -> None:
        """Answer the next ``n`` requests with ``status``."""
        for _ in range(n):
            self.faults.append(Fault(status, retry_after, body))

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/text-to-speech/{voice_id}/stream", self._tts)
        app.router.add_post("/v1/text-to-speech/{voice_id}", self._tts)

    def _error(self, fault: Fault) -> web.Response:
        headers = {"request-id": "fake"}
        if fault.retry_after is not None:
            headers["retry-after"] = str(fault.retry_after)
        body = fault.body
        if body is None:
            code = {
                401: "invalid_api_key",
                429: "too_many_concurrent_requests",
                422: None,
            }.get(fault.status, "internal_error")
            if fault.status == 422:
                body = {"detail": [{"loc": ["body", "text"], "msg": "field required", "type": "value_error.missing"}]}
            else:
                body = {"detail": {"status": code, "message": f"fake error {fault.status}"}}
        return web.json_response(body, status=fault.status, headers=headers)

    async def _tts(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        self.requests.append(
            TTSRequest(
                voice_id=request.match_info["voice_id"],
                text=str(body.get("text", "")),
                model_id=body.get("model_id"),
                language_code=body.get("language_code"),
                output_format=request.query.get("output_format"),
                headers=dict(request.headers),
                body=body,
            )
        )
        if request.headers.get("xi-api-key") != self.api_key:
            return self._error(Fault(401))
        if self.faults:
            return self._error(self.faults.popleft())
        if not body.get("text"):
            return self._error(Fault(422))
        audio = self.audio_factory(body["text"]) * self.audio_repeat
        resp, done = await send_audio(request, self, audio, {"x-character-count": str(len(body["text"]))})
        if done:
            self.finished += 1
            self.finished_at = time.monotonic()
        return resp
