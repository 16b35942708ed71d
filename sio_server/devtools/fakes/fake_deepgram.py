"""A fake Deepgram live-transcription websocket with fault injection.

``GET /v1/listen`` upgrades to a websocket after checking
``Authorization: Token <key>``. The audio it receives is "transcribed"
deterministically: tests send UTF-8 text as the audio bytes, and the fake
hears those words. Times follow the byte offsets (``bytes_per_second``, like
16 kHz 16-bit PCM), so ``start``/``duration`` of a result match the audio that
produced it, also after a client re-sends audio on a new connection.

Per binary frame the fake sends an interim result (``is_final: false``) with
the words not yet finalized; whenever complete words end a sentence
(``.``/``?``/``!``) or :attr:`final_every_words` complete words are pending, it
sends a final result (``speech_final`` true after punctuation).
``{"type":"Finalize"}`` flushes everything as a final with
``from_finalize: true``; ``{"type":"CloseStream"}`` flushes, sends
``Metadata`` and closes with 1000; ``{"type":"KeepAlive"}`` is counted.

Silence: zero bytes in the audio are silence (as in PCM), one byte per
``1/bytes_per_second`` s; they separate words like spaces. Following the
query (Deepgram's live end-of-speech options):

* ``endpointing=<ms>`` (default 10; ``false`` disables): once that much
  silence follows words not yet final, they are sent as a final with
  ``speech_final: true``.
* ``utterance_end_ms=<ms>`` (with ``interim_results=true``): once that much
  silence follows the last word, any pending words are finalized and
  ``{"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": <s>}`` is sent
  (once per utterance).
* ``vad_events=true``: ``{"type": "SpeechStarted", "channel": [0, 1],
  "timestamp": <s>}`` at the first speech byte of the stream and after each
  end of speech (endpointing or utterance end).

Real audio (a browser's WebM/Opus) does not decode to words: set
:attr:`FakeDeepgram.script` to the answers' texts and connection *n* "hears"
``script[n]`` (the last entry once they run out) instead of its audio bytes,
one word per :attr:`~FakeDeepgram.script_bytes_per_word` audio bytes received
(the word being spoken stays in the interim result until the next one starts);
``Finalize``/``CloseStream`` flush the rest of that answer's words. Times then
follow the script's text offsets (a run of spaces in the script is a pause: set
:attr:`~FakeDeepgram.bytes_per_second` to about 15 for speech-like times). :attr:`Connection.audio` still records the
real bytes (e.g. the EBML magic ``1A 45 DF A3`` of WebM) and
:attr:`Connection.frames` counts the binary frames.

Usage::

    async with FakeDeepgram() as fake:
        fake.drop_after_bytes = 12       # first connection dies after 12 bytes
        stt = DeepgramSTT(fake.api_key, fake.url, "nova-2", ...)
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .fake_server import FakeServer


@dataclass
class Connection:
    """What one websocket connection received."""

    query: dict[str, str]
    headers: dict[str, str]
    audio: bytearray = field(default_factory=bytearray)
    texts: list[dict[str, Any]] = field(default_factory=list)
    keepalives: int = 0
    keepalive_times: list[float] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    dropped: bool = False
    closed_by_client_stream: bool = False
    idle_closed: bool = False
    frames: int = 0  # binary (audio) frames received
    script: str | None = None  # the scripted answer this connection hears (FakeDeepgram.script)


class FakeDeepgram(FakeServer):
    """Fake Deepgram ``/v1/listen``.

    Knobs: :attr:`refuse_status` (answer the handshake with this status, e.g.
    401, for the next :attr:`refuse_times` connections), :attr:`drop_after_bytes`
    (abort the TCP connection without a close frame once a connection has
    received that many audio bytes; for the next :attr:`drop_times`
    connections), :attr:`final_delay` (seconds before each final result),
    :attr:`final_every_words`, :attr:`bytes_per_second`, :attr:`ignore_finalize`,
    :attr:`receive_delay` (seconds before each received message is
    handled: a slow vendor), :attr:`idle_timeout` (close with 1011 ``NET-0001`` after that long without
    audio or a text message, as Deepgram does after 10 s), :attr:`script` and
    :attr:`script_bytes_per_word` (scripted speech for real audio, see the module docstring).
    Records: :attr:`connections`.
    """

    def __init__(self, api_key: str = "dg-test-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.refuse_status: int | None = None
        self.refuse_times = 1_000_000
        self.drop_after_bytes: int | None = None
        self.drop_times = 1
        self.final_delay = 0.0
        self.idle_timeout = 10.0
        self.receive_delay = 0.0
        self.final_every_words = 4
        self.bytes_per_second = 32000
        self.ignore_finalize = False
        self.script: list[str] | None = None
        self.script_bytes_per_word = 2000
        self.connections: list[Connection] = []
        self.handshakes = 0

    @property
    def url(self) -> str:
        """Base URL as the client expects it: ``ws://127.0.0.1:PORT``."""
        return f"ws://{self.host}:{self.port}"

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/listen", self._listen)

    async def _listen(self, request: web.Request) -> web.StreamResponse:
        self.handshakes += 1
        if request.headers.get("Authorization") != f"Token {self.api_key}":
            return web.Response(
                status=401,
                text="Invalid credentials.",
                headers={"dg-error": "Invalid credentials.", "dg-request-id": "fake"},
            )
        if self.refuse_status is not None and self.refuse_times > 0:
            self.refuse_times -= 1
            return web.Response(status=self.refuse_status, text="refused", headers={"dg-error": "refused"})
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = Connection(query=dict(request.query), headers=dict(request.headers))
        if self.script:
            conn.script = self.script[min(len(self.connections), len(self.script) - 1)]
        self.connections.append(conn)
        self._open.add(ws)
        session = _Session(self, request, ws, conn)
        try:
            await session.run()
        finally:
            self._open.discard(ws)
        return ws


def _silence_bytes(raw: str | None, bps: int) -> int | None:
    """A query value in milliseconds as bytes of audio; None when absent or ``false``."""
    if raw is None or raw.lower() == "false":
        return None
    return max(1, int(float(raw) * bps / 1000))


class _Session:
    """One connection's transcription state."""

    def __init__(self, fake: FakeDeepgram, request: web.Request, ws: web.WebSocketResponse, conn: Connection) -> None:
        self.fake = fake
        self.request = request
        self.ws = ws
        self.conn = conn
        self.final_offset = 0  # bytes of audio already covered by final results
        self.request_id = str(uuid.uuid4())
        self.drop = fake.drop_after_bytes if fake.drop_times > 0 else None
        self.script_words = conn.script.split() if conn.script is not None else None
        self.script_ends = [m.end() for m in re.finditer(r"\S+", conn.script)] if conn.script is not None else []
        self.script_heard = 0  # scripted words heard so far
        self.speech = conn.audio if self.script_words is None else bytearray()
        query = conn.query
        self.endpointing = _silence_bytes(query.get("endpointing", "10"), self.bps)
        interim = query.get("interim_results") == "true"
        self.utterance_end = _silence_bytes(query.get("utterance_end_ms"), self.bps) if interim else None
        self.vad_events = query.get("vad_events") == "true"
        self.in_speech = False  # SpeechStarted sent and no end of speech since
        self.utterance_end_sent = 0  # byte offset of the last word end an UtteranceEnd was sent for

    def _hear(self, *, everything: bool = False) -> None:
        """Scripted mode: extend :attr:`speech` with the words the audio received so far stands for."""
        if self.script_words is None:
            return
        words = self.script_words
        conn_script = self.conn.script or ""
        per_word = max(1, self.fake.script_bytes_per_word)
        heard = len(words) if everything else min(len(words), len(self.conn.audio) // per_word)
        if heard <= self.script_heard:
            return
        self.script_heard = heard
        # The last heard word has no trailing space while more are to come: still being spoken.
        text = conn_script[: self.script_ends[heard - 1]] + (" " if heard == len(words) else "")
        self.speech[:] = text.encode()

    @property
    def bps(self) -> int:
        return self.fake.bytes_per_second

    def _words(self, start: int, end: int) -> list[dict[str, Any]]:
        """Words in audio bytes [start, end) with their times (punctuation kept in ``punctuated_word``)."""
        out: list[dict[str, Any]] = []
        data = self._text(start, end)
        pos = 0
        for raw in data.split(b" "):
            if raw.strip():
                lead = len(raw) - len(raw.lstrip())
                w_start = start + pos + lead
                w_end = start + pos + len(raw.rstrip())
                text = raw.strip().decode("utf-8", errors="replace")
                out.append(
                    {
                        "word": text.rstrip(".?!,").lower() or text,
                        "start": w_start / self.bps,
                        "end": w_end / self.bps,
                        "confidence": 0.99,
                        "punctuated_word": text,
                    }
                )
            pos += len(raw) + 1
        return out

    def _text(self, start: int, end: int | None = None) -> bytes:
        """The speech in bytes [start, end) with silence (zero bytes) as spaces; offsets unchanged."""
        return bytes(self.speech[start:end]).replace(b"\x00", b" ")

    async def _send(self, data: dict[str, Any]) -> None:
        self.conn.sent.append(data)
        await self.ws.send_str(json.dumps(data))

    async def _result(
        self, start: int, end: int, *, is_final: bool, speech_final: bool = False, from_finalize: bool = False
    ) -> None:
        words = self._words(start, end)
        transcript = " ".join(w["punctuated_word"] for w in words)
        if is_final and self.fake.final_delay:
            await asyncio.sleep(self.fake.final_delay)
        await self._send(
            {
                "type": "Results",
                "channel_index": [0, 1],
                "duration": (end - start) / self.bps,
                "start": start / self.bps,
                "is_final": is_final,
                "speech_final": speech_final,
                "from_finalize": from_finalize,
                "channel": {"alternatives": [{"transcript": transcript, "confidence": 0.97, "words": words}]},
                "metadata": {
                    "request_id": self.request_id,
                    "model_info": {"name": "fake", "version": "1", "arch": "fake"},
                },
            }
        )
        if is_final:
            self.final_offset = end

    async def _after_audio(self) -> None:
        """Send finals for complete sentences / enough words, then an interim for the rest."""
        audio = self.speech
        while True:
            pending = self._text(self.final_offset)
            last_space = pending.rfind(b" ")
            if last_space < 0:
                break
            complete = pending[:last_space]
            words = complete.split()
            cut_at = None
            count = 0
            pos = 0
            for raw in complete.split(b" "):
                pos += len(raw) + 1
                if raw.strip():
                    count += 1
                    if raw.rstrip().endswith((b".", b"?", b"!")) or count >= self.fake.final_every_words:
                        cut_at = pos
                        break
            if cut_at is None or not words:
                break
            end = self.final_offset + cut_at
            speech_final = self._text(self.final_offset, end).rstrip().endswith((b".", b"?", b"!"))
            await self._result(self.final_offset, end, is_final=True, speech_final=speech_final)
        if self._text(self.final_offset).strip():
            await self._result(self.final_offset, len(audio), is_final=False)

    async def _speech_started(self, start: int) -> None:
        """``vad_events``: SpeechStarted at the first speech byte after the stream start or an end of speech."""
        if not self.vad_events or self.in_speech or self.script_words is not None:
            return
        chunk = bytes(self.speech[start:])
        first = next((i for i, byte in enumerate(chunk) if byte not in (0, 32)), None)  # not silence, not a space
        if first is not None:
            self.in_speech = True
            await self._send({"type": "SpeechStarted", "channel": [0, 1], "timestamp": (start + first) / self.bps})

    async def _end_of_speech(self) -> None:
        """Endpointing and UtteranceEnd after enough trailing silence (see the module docstring)."""
        if self.script_words is not None:
            return
        text = self._text(0)
        last_word_end = len(text.rstrip())
        silence = len(self.speech) - len(bytes(self.speech).rstrip(b"\x00"))
        if not silence or not last_word_end:
            return
        pending = text[self.final_offset :].strip()
        if self.endpointing is not None and silence >= self.endpointing and pending:
            await self._result(self.final_offset, len(self.speech), is_final=True, speech_final=True)
            self.in_speech = False
        if self.utterance_end is not None and silence >= self.utterance_end and last_word_end > self.utterance_end_sent:
            if self._text(self.final_offset).strip():
                await self._result(self.final_offset, len(self.speech), is_final=True)
            self.utterance_end_sent = last_word_end
            self.in_speech = False
            await self._send({"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": last_word_end / self.bps})

    async def _flush(self, *, from_finalize: bool) -> None:
        self._hear(everything=True)
        await self._result(
            self.final_offset, len(self.speech), is_final=True, speech_final=True, from_finalize=from_finalize
        )

    async def run(self) -> None:
        while True:
            try:
                msg = await asyncio.wait_for(self.ws.receive(), self.fake.idle_timeout)
            except TimeoutError:
                # Deepgram closes a stream that got neither audio nor a text message for 10 s.
                self.conn.idle_closed = True
                await self.ws.close(code=1011, message=b"NET-0001")
                return
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return
            if self.fake.receive_delay:
                await asyncio.sleep(self.fake.receive_delay)  # a slow vendor: back-pressure on the client
            if msg.type == WSMsgType.BINARY:
                if not msg.data:
                    await self.ws.close(code=1008, message=b"DATA-0000")
                    return
                self.conn.audio.extend(msg.data)
                self.conn.frames += 1
                if self.drop is not None and len(self.conn.audio) >= self.drop:
                    self.fake.drop_times -= 1
                    self.conn.dropped = True
                    transport = self.request.transport
                    if transport is not None:
                        transport.abort()
                    return
                self._hear()
                await self._speech_started(len(self.conn.audio) - len(msg.data))
                await self._after_audio()
                await self._end_of_speech()
            elif msg.type == WSMsgType.TEXT:
                data = json.loads(msg.data)
                self.conn.texts.append(data)
                kind = data.get("type")
                if kind == "KeepAlive":
                    self.conn.keepalives += 1
                    self.conn.keepalive_times.append(time.monotonic())
                elif kind == "Finalize":
                    if not self.fake.ignore_finalize:
                        await self._flush(from_finalize=True)
                elif kind == "CloseStream":
                    self.conn.closed_by_client_stream = True
                    self._hear(everything=True)
                    if self._text(self.final_offset).strip():
                        await self._flush(from_finalize=False)
                    await self._send(
                        {
                            "type": "Metadata",
                            "transaction_key": "deprecated",
                            "request_id": self.request_id,
                            "sha256": "0" * 64,
                            "created": "2025-01-01T00:00:00.000Z",
                            "duration": len(self.conn.audio) / self.bps,
                            "channels": 1,
                        }
                    )
                    await self.ws.close(code=1000)
                    return
            else:
                return
