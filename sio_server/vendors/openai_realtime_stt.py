"""OpenAI realtime transcription: live text from one OpenAI key, over a websocket (VENDORS.md 5.4).

:class:`OpenAIRealtimeSTT` implements :class:`~.stt.STTProvider` on
``{base}/realtime?intent=transcription`` (``OPENAI_REALTIME_URL``, or
``OPENAI_BASE_URL`` with ``ws(s)://``), ``Authorization: Bearer <key>``. Each
answer opens one socket; the handshake ends at the server's first event
(``session.created``), then a ``session.update`` of ``type: transcription``
asks for 24 kHz PCM16 (``audio/pcm``), the model and language, and
``server_vad`` so that the server closes a segment at each pause
(``OPENAI_REALTIME_SILENCE_MS``) and transcribes it while the candidate speaks.

Audio: the page sends 16 kHz PCM16 (``linear16``); :class:`~.resample.Resampler`
makes it 24 kHz. WebM cannot be sent: the
stream refuses to open (:class:`~.stt.STTError`), and the chain moves on.

Results: ``conversation.item.input_audio_transcription.delta`` becomes interim
text (the segment so far), ``.completed`` the segment's final; the answer's
transcript is the completed segments joined in commit order. At
:meth:`RealtimeStream.finish` the buffer is committed
(``input_audio_buffer.commit``) when speech is still open (the server's last
VAD event was ``speech_started``, or it committed nothing yet; a hands-free
end comes ``ANSWER_END_SILENCE_MS`` after the last word, long after the
server's ``speech_stopped``), and the stream waits
(bounded by ``settle_timeout``) for every committed segment.

Failures: a socket that cannot open, refuses the session or never sends its
first event fails :meth:`~OpenAIRealtimeSTT.open` (the chain falls back to file
transcription). A socket that drops, hangs or sends an ``error`` mid-answer
is not reopened: the stream keeps the answer's 16 kHz audio (up to
``buffer_bytes``) and, at :meth:`~RealtimeStream.finish`, hands it to
``rescue`` (the file transcription provider) and returns its text.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from pydantic import Field

from ..settings import Settings
from .http_client import SessionOwner
from .openai_client import OpenAIAccount
from .options import ConnectOptions
from .plugins import STTCapabilities, Vendor, register, stt_options
from .resample import OUT_RATE, Resampler
from .retry import retrying
from .stt import OnTranscript, STTError, STTProvider
from .stt_socket import close_socket, open_failed, report

__all__ = ["OpenAIRealtimeSTT", "RealtimeStream", "realtime_url"]

log = logging.getLogger(__name__)

MIN_COMMIT_BYTES = OUT_RATE * 2 // 10  # the server refuses to commit less than 100 ms of audio
EVENT = "conversation.item.input_audio_transcription."


def realtime_url(base_url: str | None) -> str:
    """``{base}/realtime?intent=transcription`` with the scheme made ``ws``/``wss``."""
    parts = urlsplit((base_url or "https://api.openai.com/v1").rstrip("/"))
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path + "/realtime", "intent=transcription", ""))


class _Failed(Exception):
    """The socket failed mid-answer (dropped, or an ``error`` event)."""


class RealtimeStream:
    """One answer's realtime transcription socket (see the module docstring)."""

    def __init__(self, provider: OpenAIRealtimeSTT, ws: aiohttp.ClientWebSocketResponse, language: str,
                 on_transcript: OnTranscript) -> None:  # fmt: skip
        self._provider = provider
        self._ws = ws
        self._language = language
        self._on_transcript = on_transcript
        self._resampler = Resampler()
        self._audio = bytearray()  # the answer at 16 kHz, for the rescue
        self.audio_lost = False
        self._order: list[str] = []  # committed items, in order
        self._done: dict[str, str] = {}  # item -> completed text ('' when it failed)
        self._partial: dict[str, str] = {}
        self._speaking = False
        self._since_commit = 0  # bytes (24 kHz) appended since the last commit
        self._commit_wait: asyncio.Future[None] | None = None
        self.failure: str | None = None
        self._changed = asyncio.Event()
        self._closing = False
        self.events = 0  # server events handled
        self._reader = asyncio.create_task(self._read(), name="openai-realtime-reader")

    @property
    def transcript(self) -> str:
        """The completed segments, in order."""
        return " ".join(t for t in (self._done.get(i, "") for i in self._order) if t).strip()

    # -- sending -------------------------------------------------------------

    def _keep(self, chunk: bytes) -> None:
        room = self._provider.buffer_bytes - len(self._audio)
        if len(chunk) > room:
            self.audio_lost = True
            chunk = chunk[: max(0, room)]
        self._audio += chunk

    async def send(self, chunk: bytes) -> None:
        """Resample and append one chunk (kept for the rescue too)."""
        if self._closing:
            raise STTError("openai realtime: the stream is closed")
        self._keep(chunk)
        if self.failure is not None:
            return  # the rescue transcribes the kept audio at finish
        pcm = self._resampler.convert(chunk)
        if pcm:
            self._since_commit += len(pcm)
            await self._send({"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()})

    async def _send(self, event: dict[str, Any]) -> None:
        try:
            await self._ws.send_str(json.dumps(event))
        except (ConnectionError, aiohttp.ClientError, RuntimeError) as exc:
            self._fail(f"send failed: {exc}")

    # -- receiving -----------------------------------------------------------

    def _fail(self, why: str) -> None:
        if self.failure is None and not self._closing:
            log.warning("openai realtime: %s; the answer will be transcribed from its audio", why)
            self.failure = why
        self._changed.set()

    async def _read(self) -> None:
        try:
            async for msg in self._ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    await self._handle(json.loads(msg.data))
                elif msg.type == aiohttp.WSMsgType.ERROR:
                    raise _Failed(f"socket error: {self._ws.exception()}")
            raise _Failed(f"socket closed ({self._ws.close_code})")
        except _Failed as exc:
            self._fail(str(exc))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            self._fail(f"unreadable event: {exc!r}")

    async def _handle(self, event: dict[str, Any]) -> None:
        self.events += 1
        kind = event.get("type", "")
        if kind == "input_audio_buffer.speech_started":
            self._speaking = True
        elif kind == "input_audio_buffer.speech_stopped":
            self._speaking = False
        elif kind == "input_audio_buffer.committed":
            self._order.append(str(event["item_id"]))
            self._since_commit = 0
            if self._commit_wait is not None and not self._commit_wait.done():
                self._commit_wait.set_result(None)
        elif kind == EVENT + "delta":
            item = str(event["item_id"])
            self._partial[item] = self._partial.get(item, "") + str(event.get("delta") or "")
            await self._report(self._partial[item].strip(), False)
        elif kind == EVENT + "completed":
            item = str(event["item_id"])
            self._done[item] = str(event.get("transcript") or "").strip()
            await self._report(self._done[item], True)
        elif kind == EVENT + "failed":
            self._done[str(event["item_id"])] = ""
            raise _Failed(f"segment failed: {event.get('error')}")
        elif kind == "error":
            error = event.get("error") or {}
            if error.get("code") == "input_audio_buffer_commit_empty" and self._commit_wait is not None:
                if not self._commit_wait.done():
                    self._commit_wait.set_result(None)  # nothing left to commit
            else:
                raise _Failed(f"error event {error.get('code') or error.get('type')}: {error.get('message')}")
        self._changed.set()

    async def _report(self, text: str, is_final: bool) -> None:
        if text:
            await report("openai realtime", self._on_transcript, text, is_final)

    # -- ending --------------------------------------------------------------

    def _settled(self) -> bool:
        waiting_commit = self._commit_wait is not None and not self._commit_wait.done()
        return self.failure is not None or (not waiting_commit and all(i in self._done for i in self._order))

    async def finish(self) -> str:
        """Commit what is open, wait (bounded) for every segment, close; the rescue when the socket failed."""
        if self._closing:
            raise STTError("openai realtime: the stream is closed")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._provider.settle_timeout
        open_speech = self._speaking or (not self._order and self._audio)
        if self.failure is None and open_speech and self._since_commit >= MIN_COMMIT_BYTES:
            self._commit_wait = loop.create_future()
            await self._send({"type": "input_audio_buffer.commit"})
        while not self._settled() and loop.time() < deadline:
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), deadline - loop.time())
        if self.failure is None and not self._settled():
            self._fail(f"no transcript within {self._provider.settle_timeout:g}s")
        failure = self.failure
        await self.abort()
        if failure is None:
            return self.transcript
        return await self._rescue(failure)

    async def _rescue(self, failure: str) -> str:
        rescue = self._provider.rescue
        if rescue is None or not self._audio:
            raise STTError(f"openai realtime: {failure}")

        async def quiet(text: str, is_final: bool) -> None:
            return None  # the live text already shown is not sent again

        stream = await rescue.open(audio_format="linear16", language=self._language, on_transcript=quiet)
        await stream.send(bytes(self._audio))
        return await stream.finish()

    async def abort(self) -> None:
        """Close the socket without waiting for results."""
        self._closing = True
        if not self._reader.done():
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await close_socket(self._ws)


class OpenAIRealtimeSTT(SessionOwner):
    """A :class:`~.stt.STTProvider` on OpenAI's realtime transcription sessions (``linear16`` answers only).

    ``options`` bounds the handshake (up to the server's first event) and its
    retries; ``settle_timeout`` the wait for the last segments at the answer's
    end; ``silence_ms`` is the server VAD's pause that closes a segment;
    ``rescue`` transcribes an answer whose socket failed midway;
    ``buffer_bytes`` bounds the audio kept for it.
    """

    name = "openai_realtime"
    offline = False
    capabilities = STTCapabilities(  # server VAD segments, not the end of an answer: the server's VAD times that
        streaming=True, interim_results=True, end_of_speech_events=False, audio_formats=("linear16",)
    )

    def __init__(
        self,
        api_key: str,
        url: str,
        model: str,
        options: ConnectOptions,
        *,
        silence_ms: int = 500,
        settle_timeout: float = 3.0,
        rescue: STTProvider | None = None,
        buffer_bytes: int = 2_000_000,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        super().__init__(session)
        self.api_key = api_key
        self.url = url
        self.model = model
        self.options = options
        self.silence_ms = silence_ms
        self.settle_timeout = settle_timeout
        self.rescue = rescue
        self.buffer_bytes = buffer_bytes
        self._connect = retrying(options, self.name)(self._connect_once)

    async def aclose(self) -> None:
        """Close the HTTP session (and the rescue's)."""
        await super().aclose()
        close = getattr(self.rescue, "aclose", None)
        if close is not None:
            await close()

    def session_update(self, language: str) -> dict[str, Any]:
        """The ``session.update`` of a transcription session (VENDORS.md 5.4)."""
        vad = {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": self.silence_ms}
        audio_in = {
            "format": {"type": "audio/pcm", "rate": OUT_RATE},
            "transcription": {"model": self.model, "language": language},
            "turn_detection": vad,
            "noise_reduction": {"type": "near_field"},
        }
        return {"type": "session.update", "session": {"type": "transcription", "audio": {"input": audio_in}}}

    async def _connect_once(self, language: str) -> aiohttp.ClientWebSocketResponse:
        """One handshake: the socket, its first event, the session update (bounded by ``options.timeout``)."""
        headers = {"Authorization": f"Bearer {self.api_key}"}
        async with asyncio.timeout(self.options.timeout):
            ws = await self._client().ws_connect(self.url, headers=headers, max_msg_size=0)
            try:
                first = await ws.receive()
                if first.type != aiohttp.WSMsgType.TEXT:
                    raise ConnectionError(f"the socket closed before its first event ({ws.close_code})")
                event = json.loads(first.data)
                if event.get("type") == "error":
                    raise STTError(f"session refused: {(event.get('error') or {}).get('message')}")
                await ws.send_str(json.dumps(self.session_update(language)))
            except BaseException:
                await ws.close()
                raise
        return ws

    async def open(self, *, audio_format: str, language: str, on_transcript: OnTranscript) -> RealtimeStream:
        """A stream for one answer; :class:`STTError` for WebM audio or when the socket cannot open."""
        if audio_format != "linear16":
            raise STTError("openai realtime takes linear16 audio only")
        try:
            ws = await self._connect(language)
        except STTError:
            raise
        except Exception as exc:
            raise open_failed("openai realtime", exc) from exc
        return RealtimeStream(self, ws, language, on_transcript)


class OpenAIRealtimeSettings(OpenAIAccount):
    """Its settings: ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_REALTIME_URL``, ``OPENAI_REALTIME_MODEL``,
    ``OPENAI_REALTIME_SILENCE_MS``."""

    realtime_url: str | None = None
    """The realtime websocket base; unset: ``OPENAI_BASE_URL`` with ``ws(s)://``."""
    realtime_model: str = "gpt-4o-mini-transcribe"
    realtime_silence_ms: int = Field(default=500, ge=200, le=5000)
    """The pause that closes a transcript segment (the realtime server's VAD)."""


def build(settings: Settings, own: OpenAIRealtimeSettings) -> OpenAIRealtimeSTT:
    """The realtime provider, with OpenAI's file transcription as its rescue."""
    from . import openai_stt

    return OpenAIRealtimeSTT(
        own.api_key or "",
        realtime_url(own.realtime_url or own.base_url),
        own.realtime_model,
        stt_options(settings),
        silence_ms=own.realtime_silence_ms,
        settle_timeout=settings.stt_finalize_timeout / 2,  # the rescue (file transcription) gets the other half
        rescue=openai_stt.VENDOR.build(settings, openai_stt.VENDOR.own(settings)),
        buffer_bytes=settings.stt_buffer_bytes,
    )


VENDOR = register(Vendor("openai_realtime", "STT", OpenAIRealtimeSettings, build, rank=15))
