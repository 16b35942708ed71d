"""The fake OpenAI server's realtime transcription websocket (VENDORS.md 5.4), with fault switches.

``GET /v1/realtime?intent=transcription`` checks ``Authorization: Bearer
<key>`` (when the fake has a key), upgrades, and sends ``session.created``.
It then takes ``session.update`` (recorded; its ``turn_detection`` and
``silence_duration_ms`` are used), ``input_audio_buffer.append`` (base64
PCM16 at 24 kHz), ``input_audio_buffer.commit`` and ``.clear``.

Its server VAD is an energy gate: a 20 ms frame whose RMS passes
:attr:`RealtimeEndpoint.speech_rms` is speech. At the first speech it sends
``input_audio_buffer.speech_started``; after ``silence_duration_ms`` of
quiet, ``speech_stopped`` and ``committed`` (a new ``item_id``), then the
segment's transcription: ``…input_audio_transcription.delta`` word by word
(``delta_delay`` apart) and ``.completed``. A client ``commit`` commits what
is buffered (``error`` ``input_audio_buffer_commit_empty`` under 100 ms).

A fake cannot recognise real speech: segment *n* of the fake's life "hears"
``segments[n]`` (popped from the front); with none left it hears ``"(speech)"``.

Fault switches: :attr:`refuse` (an HTTP status at the handshake),
:attr:`hang_handshake` (seconds before upgrading), :attr:`silent` (upgrade,
never send ``session.created``), :attr:`drop_after_appends` (close the TCP
connection abruptly after that many appends), :attr:`error_after_appends` (an
``error`` event instead), :attr:`hang_transcripts` (commit, never transcribe),
:attr:`fail_segments` (``.failed`` instead of ``.completed``). Records:
:attr:`connections`.
"""

from __future__ import annotations

import array
import asyncio
import base64
import contextlib
import json
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .fake_server import cut
from .openai_errors import Fault, error_response

RATE = 24000
FRAME_BYTES = RATE * 2 // 50  # 20 ms
MIN_COMMIT_BYTES = RATE * 2 // 10


@dataclass
class RealtimeConnection:
    """What one socket received and sent."""

    query: dict[str, str]
    headers: dict[str, str]
    updates: list[dict[str, Any]] = field(default_factory=list)
    appended: int = 0  # bytes of 24 kHz audio
    appends: int = 0
    commits: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    opened_at: float = field(default_factory=time.monotonic)


class RealtimeEndpoint:
    """``GET /v1/realtime``: the knobs and records are listed in the module docstring."""

    def __init__(self, api_key: str | None) -> None:
        self.api_key = api_key
        self.segments: deque[str] = deque()
        self.speech_rms = 300.0
        self.delta_delay = 0.02
        self.refuse: int | None = None
        self.hang_handshake = 0.0
        self.silent = False
        self.drop_after_appends: int | None = None
        self.error_after_appends: int | None = None
        self.hang_transcripts = False
        self.fail_segments = False
        self.connections: list[RealtimeConnection] = []
        self._items = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.hang_handshake:
            await asyncio.sleep(self.hang_handshake)
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return error_response(Fault(401))
        if self.refuse is not None:
            return error_response(Fault(self.refuse))
        conn = RealtimeConnection(dict(request.query), dict(request.headers))
        self.connections.append(conn)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        session = _Session(self, conn, ws, request)
        try:
            await session.run()
        finally:
            for task in session.tasks:
                task.cancel()
        return ws


class _Session:
    """One socket: its buffer, its VAD state and its segments."""

    def __init__(self, fake: RealtimeEndpoint, conn: RealtimeConnection, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.fake = fake
        self.conn = conn
        self.ws = ws
        self.request = request
        self.buffer = bytearray()  # audio since the last commit
        self.frame = bytearray()
        self.speaking = False
        self.quiet_ms = 0
        self.heard_ms = 0
        self.silence_ms = 500
        self.server_vad = True
        self.tasks: set[asyncio.Task[None]] = set()

    async def send(self, event: dict[str, Any]) -> None:
        self.conn.sent.append(event)
        if not self.ws.closed:
            await self.ws.send_str(json.dumps(event))

    async def run(self) -> None:
        if not self.fake.silent:
            await self.send({"type": "session.created", "event_id": "event_fake", "session": {"type": "transcription"}})
        async for msg in self.ws:
            if msg.type != WSMsgType.TEXT:
                continue
            event = json.loads(msg.data)
            kind = event.get("type")
            if kind == "session.update":
                self.conn.updates.append(event)
                audio_in = (((event.get("session") or {}).get("audio") or {}).get("input")) or {}
                detection = audio_in.get("turn_detection")
                self.server_vad = bool(detection)
                self.silence_ms = int((detection or {}).get("silence_duration_ms", 500))
                await self.send({"type": "session.updated", "session": event.get("session")})
            elif kind == "input_audio_buffer.append":
                self.conn.appends += 1
                if self.fake.drop_after_appends is not None and self.conn.appends > self.fake.drop_after_appends:
                    cut(self.request)
                    return
                if self.fake.error_after_appends is not None and self.conn.appends > self.fake.error_after_appends:
                    error = {"type": "server_error", "code": "fake_error", "message": "fake mid-stream error"}
                    await self.send({"type": "error", "error": error})
                    continue
                await self.append(base64.b64decode(event.get("audio") or ""))
            elif kind == "input_audio_buffer.commit":
                self.conn.commits += 1
                await self.commit(client=True)
            elif kind == "input_audio_buffer.clear":
                self.buffer.clear()
                await self.send({"type": "input_audio_buffer.cleared"})

    async def append(self, pcm: bytes) -> None:
        self.conn.appended += len(pcm)
        self.buffer += pcm
        self.frame += pcm
        while len(self.frame) >= FRAME_BYTES:
            frame, self.frame = bytes(self.frame[:FRAME_BYTES]), self.frame[FRAME_BYTES:]
            await self.judge(frame)

    async def judge(self, frame: bytes) -> None:
        self.heard_ms += 20
        if not self.server_vad:
            return
        samples = array.array("h", frame)
        rms = math.sqrt(sum(s * s for s in samples) / len(samples))
        if rms >= self.fake.speech_rms:
            self.quiet_ms = 0
            if not self.speaking:
                self.speaking = True
                await self.send({"type": "input_audio_buffer.speech_started", "audio_start_ms": self.heard_ms, "item_id": self.next_id(peek=True)})
        elif self.speaking:
            self.quiet_ms += 20
            if self.quiet_ms >= self.silence_ms:
                self.speaking = False
                await self.send({"type": "input_audio_buffer.speech_stopped", "audio_end_ms": self.heard_ms, "item_id": self.next_id(peek=True)})
                await self.commit(client=False)

    def next_id(self, peek: bool = False) -> str:
        if not peek:
            self.fake._items += 1
        return f"item_{self.fake._items + (1 if peek else 0)}"

    async def commit(self, client: bool) -> None:
        if len(self.buffer) < MIN_COMMIT_BYTES:
            if client:
                error = {"type": "invalid_request_error", "code": "input_audio_buffer_commit_empty",
                         "message": "buffer too small"}  # fmt: skip
                await self.send({"type": "error", "error": error})
            return
        self.buffer.clear()
        self.speaking = False
        item = self.next_id()
        await self.send({"type": "input_audio_buffer.committed", "item_id": item, "previous_item_id": None})
        text = self.fake.segments.popleft() if self.fake.segments else "(speech)"
        if not self.fake.hang_transcripts:
            task = asyncio.create_task(self.transcribe(item, text))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def transcribe(self, item: str, text: str) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            if self.fake.fail_segments:
                error = {"type": "server_error", "code": "transcription_failed", "message": "fake failure"}
                await self.send({"type": "conversation.item.input_audio_transcription.failed", "item_id": item, "error": error})
                return
            words = text.split(" ")
            for n, word in enumerate(words):
                await asyncio.sleep(self.fake.delta_delay)
                delta = word if n == len(words) - 1 else word + " "
                await self.send({"type": "conversation.item.input_audio_transcription.delta", "item_id": item, "content_index": 0, "delta": delta})
            await self.send({"type": "conversation.item.input_audio_transcription.completed", "item_id": item, "content_index": 0, "transcript": text})
