"""The ``/interview`` Socket.IO namespace: thin handlers, room binding and replay.

Handlers validate payloads, find the session the socket is bound to and call
:class:`InterviewService`; everything they return is an ack of PROTOCOL.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from socketio.exceptions import ConnectionRefusedError as SioConnectionRefused

from ..interview import logic
from ..interview.errors import InterviewError
from ..interview.model import Status
from ..interview.service import InterviewService, LiveSession
from ..observability.metrics import Metrics
from ..settings import Settings
from ..store.base import StoreError
from .protocol import (
    NAMESPACE,
    AnswerEnd,
    AnswerText,
    EndInterview,
    ResumeAuth,
    StartInterview,
    fail,
    ok,
    parse,
    room_of,
)
from .ratelimit import SocketLimits
from .server import INVALID_EVENT

log = logging.getLogger(__name__)
Handler = Callable[[str, Any], Awaitable[dict[str, Any] | None]]


class SocketEmitter:
    """Sends a session's events to its Socket.IO room."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio

    async def emit(self, session_id: str, event: str, data: dict[str, Any]) -> None:
        """Emit ``event`` to the session's room.

        The owner process normally holds the session's socket itself, so the
        event is delivered locally without the message queue (it keeps working
        while Redis is down); only a room with no local socket goes through the
        client manager's queue to the other processes.
        """
        room = room_of(session_id)
        local = any(True for _ in self.sio.manager.get_participants(NAMESPACE, room))
        await self.sio.emit(event, data, room=room, namespace=NAMESPACE, ignore_queue=local)

    def backlog(self, session_id: str) -> int:
        """Bytes waiting in Engine.IO's outgoing queues of the session's sockets.

        Engine.IO's per-socket queue has no bound: a client that stops reading
        makes it grow. The queue holds packets not yet written to the socket;
        their payload sizes are added up (binary attachments by length).
        """
        total = 0
        for sid, _ in self.sio.manager.get_participants(NAMESPACE, room_of(session_id)):
            eio_sid = self.sio.manager.eio_sid_from_sid(sid, NAMESPACE)
            socket = self.sio.eio.sockets.get(eio_sid) if eio_sid else None
            if socket is not None:
                total += sum(_packet_size(p) for p in list(socket.queue._queue))  # type: ignore[attr-defined]
        return total


def _packet_size(pkt: Any) -> int:
    data = getattr(pkt, "data", None)
    if isinstance(data, (bytes, bytearray)):
        return len(data)
    return len(data) if isinstance(data, str) else 64


class InterviewNamespace(socketio.AsyncNamespace):
    """Handlers of the ``/interview`` namespace."""

    def __init__(self, service: InterviewService, settings: Settings, metrics: Metrics) -> None:
        super().__init__(NAMESPACE)
        self.service = service
        self.settings = settings
        self.metrics = metrics
        self.bound: dict[str, str] = {}
        self.limits: dict[str, SocketLimits] = {}
        service.on_superseded = self._supersede
        self._handlers: dict[str, Handler] = {
            "start_interview": self.start_interview,
            "answer_text": self.answer_text,
            "answer_end": self.answer_end,
            "audio_chunk": self.audio_chunk,
            "end_interview": self.end_interview,
        }

    # -- dispatch ---------------------------------------------------------------

    async def trigger_event(self, event: str, *args: Any) -> Any:
        """Route an event to its handler and turn every failure into an error ack."""
        if event in ("connect", "disconnect"):
            return await super().trigger_event(event, *args)
        sid, rest = args[0], args[1:]
        handler = self._handlers.get(event)
        try:
            self._check_rate(sid, event, rest)
            if event == INVALID_EVENT:
                raise InterviewError("invalid_payload", "the message could not be decoded")
            if handler is None:
                raise InterviewError("unknown_event", f"unknown event {event!r}")
            if len(rest) > 1:
                raise InterviewError("invalid_payload", "expected one argument")
            return await handler(sid, rest[0] if rest else None)
        except InterviewError as exc:
            self.metrics.rejected.labels(exc.code).inc()
            if event == "audio_chunk":  # the one event without an ack: say it as an event
                limits = self.limits.get(sid)
                if exc.code != "rate_limited" or limits is None or limits.should_warn():
                    await self._send(sid, "error", exc.as_dict())
            return fail(exc.code, exc.message)
        except Exception:
            log.exception("handler %s failed", event)
            return fail("internal_error", "the server failed to handle this event")

    def _check_rate(self, sid: str, event: str, args: tuple[Any, ...]) -> None:
        """Refuse with ``rate_limited`` when the socket exceeds its event or audio budget."""
        limits = self.limits.get(sid)
        if limits is None:
            limits = self.limits[sid] = SocketLimits(
                self.settings.rate_events_per_second, self.settings.rate_audio_bytes_per_second
            )
        if event == "audio_chunk":
            size = len(args[0]) if args and isinstance(args[0], (bytes, bytearray)) else 1
            allowed = limits.audio.take(size)
        else:
            allowed = limits.events.take()
        if not allowed:
            self.metrics.rate_limited.labels("audio" if event == "audio_chunk" else "events").inc()
            raise InterviewError("rate_limited", "too many messages; slow down")

    async def _send(self, sid: str, event: str, data: dict[str, Any]) -> None:
        """Emit to one socket of this process, without the message queue (it works while Redis is down)."""
        await self.emit(event, data, to=sid, ignore_queue=True)

    # -- connection -------------------------------------------------------------

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        """Accept a socket; with a resume token, bind it to its session and replay."""
        started = time.perf_counter()
        try:
            resume = parse(ResumeAuth, auth)
        except InterviewError as exc:
            self.metrics.rejected.labels(exc.code).inc()
            raise SioConnectionRefused(exc.code, exc.as_dict()) from None
        if resume.resume_token is None:
            self.metrics.sockets_connected.inc()
            return
        try:
            live = await self.service.authenticate(resume.resume_token)
        except InterviewError as exc:
            raise SioConnectionRefused(exc.code, exc.as_dict()) from None
        except StoreError:
            raise SioConnectionRefused(
                "store_unavailable", {"code": "store_unavailable", "message": "sessions are unavailable; retry"}
            ) from None
        if live is None:
            self.metrics.rejected.labels("resume_rejected").inc()
            raise SioConnectionRefused(
                "resume_rejected", {"code": "resume_rejected", "message": "no session matches this resume token"}
            )
        self.metrics.sockets_connected.inc()
        await self._bind(sid, live)
        self.metrics.sessions_resumed.inc()
        asyncio.create_task(self._replay(sid, live, resume.last_seq, started))

    async def _bind(self, sid: str, live: LiveSession) -> None:
        """Make ``sid`` the session's one socket; an older socket is superseded."""
        old = live.sid
        live.sid = sid
        self.bound[sid] = live.id
        if old is not None and old != sid:
            await self._supersede(live, old)

    async def _supersede(self, live: LiveSession, sid: str) -> None:
        """Tell an older socket that its session continues elsewhere, and drop it."""
        self.bound.pop(sid, None)
        await self.leave_room(sid, room_of(live.id))
        await self._send(sid, "error", {"code": "superseded", "message": "this session continued on another connection"})
        asyncio.create_task(self.disconnect(sid))

    async def _replay(self, sid: str, live: LiveSession, last_seq: int, started: float) -> None:
        """After the CONNECT packet is out: join the room, then send state and missed events in order."""
        for _ in range(1000):
            if self.server.manager.is_connected(sid, NAMESPACE):
                break
            await asyncio.sleep(0.001)
        else:
            return
        async with live.lock:
            if live.sid != sid:
                return
            await self.enter_room(sid, room_of(live.id))
            session = live.session
            await self._send(
                sid,
                "session_resumed",
                {
                    "session_id": session.id,
                    "status": session.status.value,
                    "mode": session.mode,
                    "max_questions": session.config.max_questions,
                    "history": logic.history(session),
                    "last_seq": session.last_seq,
                },
            )
            for event in logic.events_after(session, last_seq):
                await self._send(sid, event.name, event.data)
            if session.status is Status.ACTIVE:
                status = "processing" if session.pending is not None else "awaiting_answer"
                await self._send(sid, "state", {"status": status})
        self.metrics.resume_latency.observe(time.perf_counter() - started)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        """Unbind the socket; an idle session leaves memory (it stays in the store)."""
        self.metrics.sockets_connected.dec()
        self.limits.pop(sid, None)
        session_id = self.bound.pop(sid, None)
        live = self.service.live.get(session_id) if session_id else None
        if live is not None and live.sid == sid:
            live.sid = None
            self.service.release(live)

    def _live(self, sid: str) -> LiveSession:
        session_id = self.bound.get(sid)
        live = self.service.live.get(session_id) if session_id else None
        if live is None or live.sid != sid:
            raise InterviewError("no_session", "this connection is not bound to an interview")
        return live

    # -- client events ------------------------------------------------------------

    async def start_interview(self, sid: str, payload: Any) -> dict[str, Any]:
        """Create a session, bind this socket to it and ask the first question."""
        config = parse(StartInterview, payload).config()
        session_id = self.bound.get(sid)
        current = self.service.live.get(session_id) if session_id else None
        if current is not None and current.session.status is Status.ACTIVE:
            raise InterviewError("already_in_session", "this connection already runs an interview")
        self.server.admit_session(sid, self.namespace)  # too_many_sessions / server_busy before any work
        if current is not None:
            self.bound.pop(sid, None)
            current.sid = None
            await self.leave_room(sid, room_of(current.id))
            self.service.release(current)
        live, token = await self.service.start(config)
        live.sid = sid
        self.bound[sid] = live.id
        await self.enter_room(sid, room_of(live.id))
        self.service.ensure_step(live)
        return ok(session_id=live.id, resume_token=token, mode=live.session.mode)

    async def answer_text(self, sid: str, payload: Any) -> dict[str, Any]:
        """Record a typed answer."""
        answer = parse(AnswerText, payload)
        outcome = await self.service.answer(self._live(sid), answer.index, answer.text)
        return ok(index=outcome.index, duplicate=outcome.duplicate)

    async def answer_end(self, sid: str, payload: Any) -> dict[str, Any]:
        """Close a spoken answer: the transcript becomes the answer."""
        request = parse(AnswerEnd, payload)
        outcome, transcript = await self.service.answer_voice(self._live(sid), request.index)
        return ok(index=outcome.index, transcript=transcript, duplicate=outcome.duplicate)

    async def audio_chunk(self, sid: str, payload: Any) -> None:
        """Queue a binary audio chunk; overflow drops it and warns (at most once a second)."""
        if not isinstance(payload, (bytes, bytearray)):
            raise InterviewError("invalid_payload", "audio_chunk takes one binary argument")
        if len(payload) > self.settings.audio_chunk_max_bytes:
            raise InterviewError("payload_too_large", f"audio chunks are limited to {self.settings.audio_chunk_max_bytes} bytes")
        live = self._live(sid)
        if live.listener is None:  # text mode (or ended): nothing would read the audio, so none is queued
            limits = self.limits.get(sid)
            if live.session.mode == "text" and limits is not None and not limits.audio_refused:
                limits.audio_refused = True  # said once; later chunks are dropped silently
                raise InterviewError("text_mode", "this interview runs in text mode: audio is not accepted")
            return None
        if not live.audio.put(bytes(payload)):
            self.metrics.audio_dropped.inc()
            if live.audio.should_warn():
                await self._send(sid, "warning", {"code": "audio_dropped", "message": "audio is arriving faster than it can be processed"})
        return None

    async def end_interview(self, sid: str, payload: Any) -> dict[str, Any]:
        """End the interview early; feedback follows."""
        parse(EndInterview, payload)
        await self.service.end(self._live(sid))
        return ok()
