"""Deepgram live speech-to-text over a websocket (aiohttp), one stream per spoken answer.

:class:`DeepgramSTT` implements :class:`~.stt.STTProvider`; its
:class:`DeepgramStream` sends audio as binary frames, reports every non-empty
result through ``on_transcript(text, is_final)``, keeps the socket alive with
``{"type":"KeepAlive"}`` during silence, and on :meth:`~DeepgramStream.finish`
sends ``Finalize``, waits (bounded) for the ``from_finalize`` result, sends
``CloseStream`` and returns the joined final transcripts.

Reconnects: when the socket drops mid-answer (no close was asked for), the
stream reconnects with backoff and re-sends the answer's audio so far from a
bounded buffer. Duplicates are avoided by tracking offsets on the answer's
timeline (:class:`~.deepgram_wire.Timeline`) rather than by clearing the
finals, which would have sent the candidate the same final text twice.

The buffer keeps at most ``buffer_bytes``; past that the oldest audio is
dropped (for WebM the first chunk, which holds the container header, is kept)
and :attr:`DeepgramStream.truncated` is set; a reconnect that cannot re-send
audio no final result covered sets :attr:`DeepgramStream.audio_lost`. For ``linear16`` the dropped bytes
shift the timeline by a known amount; for WebM the shift is unknown, so words
near the gap may be lost or repeated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from pydantic import Field

from ..settings import Settings
from .http_client import SessionOwner
from .options import ConnectOptions
from .plugins import STTCapabilities, Vendor, VendorSettings, register, stt_options, vendor_config
from .deepgram_wire import CLOSE_STREAM, FINALIZE, KEEPALIVE, VENDOR_EVENTS, Timeline, listen_url
from .retry import retrying
from .stt import OnEvent, OnTranscript, STTError, Word
from .stt_socket import close_socket, open_failed, report

__all__ = ["DeepgramSTT", "DeepgramStream"]

log = logging.getLogger(__name__)

class _Dropped(Exception):
    """The socket closed without us asking."""


class DeepgramStream:
    """A live recognition stream for one answer (see the module docstring for reconnects)."""

    def __init__(
        self, provider: DeepgramSTT, url: str, audio_format: str, on_transcript: OnTranscript, on_event: OnEvent | None = None
    ) -> None:
        self._provider = provider
        self._url = url
        self._audio_format = audio_format
        self._on_transcript = on_transcript
        self._on_event = on_event
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._lock = asyncio.Lock()
        self._buffer: deque[bytes] = deque()
        self._buffered = 0
        self._head: bytes | None = None  # WebM container header, never dropped
        self._dropped_bytes = 0
        self.truncated = False
        self.reconnects = 0
        self.audio_lost = False  # a reconnect could not re-send audio that had no final result yet
        self._finals: list[str] = []
        self.words: list[Word] = []  # the final words with their times (answer timeline), as joined in the transcript
        self._timeline = Timeline()
        self._finalizing = False
        self._finalized = asyncio.Event()
        self._closed_by_server = asyncio.Event()
        self._closing = False
        self._error: STTError | None = None
        self._loop = asyncio.get_running_loop()
        self._last_sent = self._loop.time()
        self._reader: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None

    @property
    def transcript(self) -> str:
        """The final transcript so far."""
        return " ".join(self._finals)

    async def _start(self) -> None:
        self._ws = await self._provider._connect(self._url)
        self._reader = asyncio.create_task(self._read_loop(), name="deepgram-reader")
        self._keepalive = asyncio.create_task(self._keepalive_loop(), name="deepgram-keepalive")

    # -- sending -------------------------------------------------------------

    def _remember(self, chunk: bytes) -> None:
        if self._audio_format == "webm" and self._head is None:
            self._head = chunk
            return
        self._buffer.append(chunk)
        self._buffered += len(chunk)
        limit = self._provider.buffer_bytes - (len(self._head) if self._head else 0)
        while self._buffered > limit and len(self._buffer) > 1:
            old = self._buffer.popleft()
            self._buffered -= len(old)
            self._dropped_bytes += len(old)
            if not self.truncated:
                log.warning(
                    "deepgram: answer audio over %d bytes; keeping only the latest for reconnects",
                    self._provider.buffer_bytes,
                )
            self.truncated = True

    def _replay(self) -> list[bytes]:
        return ([self._head] if self._head else []) + list(self._buffer)

    async def send(self, chunk: bytes) -> None:
        """Send one audio chunk (also kept in the bounded per-answer buffer for reconnects)."""
        if self._error is not None:
            raise self._error
        if self._closing:
            raise STTError("deepgram: the stream is closed")
        if not chunk:
            return  # an empty binary frame makes Deepgram close the stream
        async with self._lock:
            self._remember(chunk)
            ws = self._ws
            if ws is not None and not ws.closed:
                with contextlib.suppress(ConnectionError, aiohttp.ClientError, RuntimeError):
                    await ws.send_bytes(chunk)  # if the socket just died, the replay sends it
            self._last_sent = self._loop.time()

    async def _send_text(self, message: str) -> bool:
        async with self._lock:
            ws = self._ws
            if ws is None or ws.closed:
                return False
            try:
                await ws.send_str(message)
            except (ConnectionError, aiohttp.ClientError, RuntimeError):
                return False
            self._last_sent = self._loop.time()
            return True

    async def _keepalive_loop(self) -> None:
        interval = self._provider.keepalive_interval
        while True:
            await asyncio.sleep(max(0.01, interval - (self._loop.time() - self._last_sent)))
            if self._loop.time() - self._last_sent >= interval - 0.001:
                await self._send_text(KEEPALIVE)

    # -- receiving -----------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            while True:
                try:
                    await self._read_until_closed()
                    return  # closed as asked, or normally after CloseStream
                except _Dropped as exc:
                    if self._closing:
                        return
                    log.warning("deepgram: socket dropped mid-answer (%s); reconnecting", exc)
                    await self._reconnect()
        except STTError as exc:
            self._error = exc
        except Exception as exc:  # pragma: no cover - a bug; surface it to send/finish
            log.exception("deepgram reader failed")
            self._error = STTError(f"deepgram: {exc}")
        finally:
            self._closed_by_server.set()

    async def _read_until_closed(self) -> None:
        ws = self._ws
        assert ws is not None
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                await self._handle(json.loads(msg.data))
            elif msg.type == aiohttp.WSMsgType.ERROR:
                raise _Dropped(str(ws.exception()))
        code = ws.close_code
        if self._closing or (code == 1000 and self._finalizing):
            return
        if code == 1008:
            raise STTError(f"deepgram closed the stream: audio could not be decoded ({code})")
        raise _Dropped(f"close code {code}")

    async def _reconnect(self) -> None:
        self._ws = None
        self.reconnects += 1
        if self.reconnects > self._provider.options.max_tries:
            raise STTError(f"deepgram: the stream dropped {self.reconnects} times")
        ws = await self._provider._connect(self._url)
        async with self._lock:
            self._ws = ws
            if self._timeline.reconnected(self._dropped_bytes, self._audio_format):
                self.audio_lost = True  # audio past the buffer's reach was never finalized
            try:
                for chunk in self._replay():
                    await ws.send_bytes(chunk)
                if self._finalizing:
                    await ws.send_str(FINALIZE)
            except (ConnectionError, aiohttp.ClientError, RuntimeError):
                pass  # the read loop sees the close and tries again
            self._last_sent = self._loop.time()

    async def _handle(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind in VENDOR_EVENTS and self._on_event is not None:
            try:
                await self._on_event(VENDOR_EVENTS[kind])
            except Exception:
                log.exception("deepgram: on_event failed")
        if kind != "Results":
            return
        is_final = bool(msg.get("is_final"))
        text, words = self._timeline.take(msg)
        self.words += words
        if text:
            if is_final:
                self._finals.append(text)
            await report("deepgram", self._on_transcript, text, is_final)
        if msg.get("from_finalize"):
            self._finalized.set()

    # -- ending --------------------------------------------------------------

    async def finish(self) -> str:
        """Finalize, wait (bounded by ``finalize_timeout``) for the last final result, close; return the transcript."""
        if self._error is not None:
            await self.abort()
            raise self._error
        self._finalizing = True
        timeout = self._provider.finalize_timeout
        deadline = self._loop.time() + timeout
        await self._send_text(FINALIZE)
        waiters = [asyncio.ensure_future(self._finalized.wait()), asyncio.ensure_future(self._closed_by_server.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
        if self._error is not None:
            await self.abort()
            raise self._error
        if not self._finalized.is_set():
            log.warning("deepgram: no Finalize result within %.1fs; using the finals so far", timeout)
        if await self._send_text(CLOSE_STREAM):
            remaining = max(0.05, min(1.0, deadline - self._loop.time()))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._closed_by_server.wait()  # trailing finals + Metadata, then close
        await self.abort()
        return self.transcript

    async def abort(self) -> None:
        """Close the stream without waiting for results."""
        self._closing = True
        for task in (self._keepalive, self._reader):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        ws, self._ws = self._ws, None
        await close_socket(ws)


class DeepgramSTT(SessionOwner):
    """A :class:`~.stt.STTProvider` on Deepgram's live ``/v1/listen`` websocket.

    ``base_url`` is ``wss://api.deepgram.com`` (or a fake's ``ws://…``);
    ``options`` sets the handshake's tries, delays and timeout and the number
    of reconnects per answer; ``session`` is a shared ``aiohttp.ClientSession``
    (one is created, and closed by :meth:`aclose`, when None);
    ``keepalive_interval`` is the silence after which a KeepAlive is sent;
    ``finalize_timeout`` bounds :meth:`DeepgramStream.finish`;
    ``buffer_bytes`` bounds the audio kept per answer for re-sending.
    """

    name = "deepgram"
    offline = False
    capabilities = STTCapabilities(streaming=True, interim_results=True, end_of_speech_events=True)  # SpeechStarted / UtteranceEnd

    def __init__(
        self,
        api_key: str,
        base_url: str = "wss://api.deepgram.com",
        model: str = "nova-2",
        options: ConnectOptions | None = None,
        session: aiohttp.ClientSession | None = None,
        keepalive_interval: float = 3.0,
        finalize_timeout: float = 3.0,
        buffer_bytes: int = 2_000_000,
        query: dict[str, str] | None = None,
        utterance_end_ms: int | None = None,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url
        self.model = model
        self.options = options or ConnectOptions()
        self.keepalive_interval = keepalive_interval
        self.finalize_timeout = finalize_timeout
        self.buffer_bytes = buffer_bytes
        self.query = dict(query or {})
        self.utterance_end_ms = utterance_end_ms
        super().__init__(session)
        self._connect_retrying = retrying(self.options, self.name)(self._connect_once)

    async def _connect_once(self, url: str) -> aiohttp.ClientWebSocketResponse:
        """One handshake, bounded by ``options.timeout``."""
        async with asyncio.timeout(self.options.timeout):
            return await self._client().ws_connect(
                url, headers={"Authorization": f"Token {self.api_key}"}, max_msg_size=0
            )

    async def _connect(self, url: str) -> aiohttp.ClientWebSocketResponse:
        """Open the websocket, retrying transient failures; :class:`STTError` when it cannot."""
        try:
            return await self._connect_retrying(url)
        except Exception as exc:
            raise open_failed("deepgram", exc) from exc

    async def open(
        self, *, audio_format: str, language: str, on_transcript: OnTranscript, on_event: OnEvent | None = None
    ) -> DeepgramStream:
        """Open a stream for one answer; ``on_transcript`` gets every non-empty result, ``on_event``
        ``SpeechStarted``/``UtteranceEnd`` (asked for with ``vad_events``/``utterance_end_ms``)."""
        extra = dict(self.query)
        if on_event is not None:
            extra.setdefault("vad_events", "true")
            if self.utterance_end_ms:
                extra.setdefault("utterance_end_ms", str(self.utterance_end_ms))
        url = listen_url(self.base_url, model=self.model, language=language, audio_format=audio_format, extra=extra)
        stream = DeepgramStream(self, url, audio_format, on_transcript, on_event)
        await stream._start()
        return stream


class DeepgramSettings(VendorSettings):
    """Deepgram's settings: ``DEEPGRAM_API_KEY``, ``_BASE_URL``, ``_MODEL``, ``_QUERY``."""

    model_config = vendor_config("DEEPGRAM_")

    api_key: str | None = None
    base_url: str = "wss://api.deepgram.com"
    model: str = "nova-2"
    query: str = Field(default="", description="extra /v1/listen query parameters, e.g. 'endpointing=500&filler_words=true'")


def build(settings: Settings, own: DeepgramSettings) -> DeepgramSTT:
    """Deepgram as ``settings`` and its own settings describe it."""
    return DeepgramSTT(
        own.api_key or "",
        own.base_url,
        own.model,
        stt_options(settings),
        keepalive_interval=settings.stt_keepalive_interval,
        finalize_timeout=settings.stt_finalize_timeout,
        buffer_bytes=settings.stt_buffer_bytes,
        query=dict(parse_qsl(own.query)),
        utterance_end_ms=settings.answer_end_silence_ms,
    )


VENDOR = register(Vendor("deepgram", "STT", DeepgramSettings, build, rank=10))
