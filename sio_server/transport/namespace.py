"""The ``/interview`` Socket.IO namespace: thin handlers, rooms and the resume replay.

Handlers validate payloads and call :class:`InterviewService`; everything they
return is an ack of PROTOCOL.md. Which socket holds which session is the
service's registry's to know: the namespace asks it, and gives it the rooms
and supersede notices behind :class:`~sio_server.interview.session_registry.SocketHost`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import socketio
from socketio.exceptions import ConnectionRefusedError as SioConnectionRefused

from ..aio.tasks import OwnedTasks
from ..domain.errors import InterviewError
from ..interview import rules
from ..interview.service import InterviewService, LiveSession
from ..observability.metrics import Metrics
from ..settings import Settings
from ..store.base import StoreError
from .packets import INVALID_EVENT
from .protocol import (
    NAMESPACE,
    AnswerEnd,
    AnswerText,
    EndInterview,
    Interrupt,
    ResumeAuth,
    StartInterview,
    fail,
    ok,
    parse,
    room_of,
)
from .ratelimit import SocketLimits
from .upstream import InterviewSocketServer

log = logging.getLogger(__name__)
Handler = Callable[[str, Any], Awaitable[dict[str, Any] | None]]
CONNECT_WAIT = 10.0  # seconds a resume replay waits for the socket's CONNECT to be sent


class SocketEmitter:
    """Sends a session's events to its Socket.IO room."""

    def __init__(self, sio: InterviewSocketServer) -> None:
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
        makes it grow. Each socket's queue (a :class:`.packet_queue.PacketQueue`)
        counts the bytes of the packets not yet written to it.
        """
        participants = self.sio.manager.get_participants(NAMESPACE, room_of(session_id))
        return sum(self.sio.queued_bytes(sid, NAMESPACE) for sid, _ in participants)


class InterviewNamespace(socketio.AsyncNamespace):
    """Handlers of the ``/interview`` namespace."""

    def __init__(self, service: InterviewService, settings: Settings, metrics: Metrics) -> None:
        super().__init__(NAMESPACE)
        self.service = service
        self.settings = settings
        self.metrics = metrics
        self.limits: dict[str, SocketLimits] = {}
        self.tasks = OwnedTasks("namespace")
        self.replays: dict[str, asyncio.Task[None]] = {}
        service.attach_sockets(self)
        self._handlers: dict[str, Handler] = {
            "start_interview": self.start_interview,
            "answer_text": self.answer_text,
            "answer_end": self.answer_end,
            "audio_chunk": self.audio_chunk,
            "end_interview": self.end_interview,
            "interrupt": self.interrupt,
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

    # -- the registry's SocketHost ------------------------------------------------------

    async def join(self, sid: str, session_id: str) -> None:
        """Let the socket receive its session's events."""
        await self.enter_room(sid, room_of(session_id))

    async def leave(self, sid: str, session_id: str) -> None:
        """Stop the socket receiving the session's events."""
        await self.leave_room(sid, room_of(session_id))

    async def supersede(self, sid: str, session_id: str) -> None:
        """Tell an older socket that its session continues elsewhere, and drop it."""
        await self.leave_room(sid, room_of(session_id))
        await self._send(sid, "error", {"code": "superseded", "message": "this session continued on another connection"})
        self.tasks.spawn(self.disconnect(sid), name=f"supersede:{sid}")

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
            live = await self.service.resume_on_socket(sid, resume.resume_token)
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
        self.metrics.sessions_resumed.inc()
        self.replays[sid] = self.tasks.spawn(self._replay(sid, live, resume.last_seq, started), name=f"replay:{sid}")

    async def _replay(self, sid: str, live: LiveSession, last_seq: int, started: float) -> None:
        """Once the CONNECT packet is out: join the room, then send state and missed events in order.

        A socket that does not finish connecting within ``CONNECT_WAIT`` is
        disconnected (logged), so its client reconnects and resumes again.
        """
        try:
            if not await self.server.manager.wait_connected(sid, NAMESPACE, CONNECT_WAIT):
                log.warning("socket %s did not finish connecting in %.0f s; disconnecting it", sid, CONNECT_WAIT)
                await self.disconnect(sid)
                return
            async with live.lock:
                if not self.service.holds(sid, live):
                    return  # superseded meanwhile: the newer socket gets the replay
                await self.enter_room(sid, room_of(live.id))
                for event, data in rules.resume_events(live.session, last_seq):
                    await self._send(sid, event, data)
            self.metrics.resume_latency.observe(time.perf_counter() - started)
        finally:
            if self.replays.get(sid) is asyncio.current_task():
                del self.replays[sid]

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        """Unbind the socket; an idle session leaves memory (it stays in the store)."""
        self.metrics.sockets_connected.dec()
        self.limits.pop(sid, None)
        replay = self.replays.pop(sid, None)
        if replay is not None and replay is not asyncio.current_task():
            replay.cancel()
        await self.service.socket_closed(sid)

    async def close(self) -> None:
        """Cancel the replays and disconnects still running (at shutdown)."""
        await self.tasks.close()

    # -- client events ------------------------------------------------------------

    async def start_interview(self, sid: str, payload: Any) -> dict[str, Any]:
        """Create a session, bind this socket to it and ask the first question."""
        config = parse(StartInterview, payload).config()
        # too_many_sessions / server_busy are decided after already_in_session and before any work
        admit = partial(self.server.admit_session, sid, self.namespace)
        client = self.server.client_of(sid, self.namespace)
        live, token = await self.service.start_on_socket(sid, config, admit=admit, client=client)
        voice = {"interruption_min_ms": self.settings.interruption_min_ms} if live.session.mode == "voice" else {}
        voice |= rules.voice_turns_payload(live.session)
        if live.session.mode == "voice" and live.session.config.turn_detection != config.turn_detection:
            voice["turn_detection_reason"] = self.service.voice.turn_detection(config)[1]
        speak = bool(live.session.config.speak_questions)  # decided when the session was created
        return ok(session_id=live.id, resume_token=token, mode=live.session.mode, speak_questions=speak, **voice)

    async def answer_text(self, sid: str, payload: Any) -> dict[str, Any]:
        """Record a typed answer."""
        answer = parse(AnswerText, payload)
        outcome = await self.service.answer(self.service.session_of(sid), answer.index, answer.text)
        return ok(index=outcome.index, duplicate=outcome.duplicate)

    async def answer_end(self, sid: str, payload: Any) -> dict[str, Any]:
        """Close a spoken answer: the transcript becomes the answer."""
        request = parse(AnswerEnd, payload)
        outcome, transcript = await self.service.answer_voice(self.service.session_of(sid), request.index)
        return ok(index=outcome.index, transcript=transcript, duplicate=outcome.duplicate)

    async def audio_chunk(self, sid: str, payload: Any) -> None:
        """Queue a binary audio chunk; overflow drops it and warns (at most once a second)."""
        if not isinstance(payload, (bytes, bytearray)):
            raise InterviewError("invalid_payload", "audio_chunk takes one binary argument")
        if len(payload) > self.settings.audio_chunk_max_bytes:
            raise InterviewError("payload_too_large", f"audio chunks are limited to {self.settings.audio_chunk_max_bytes} bytes")
        try:
            notice = self.service.hear(self.service.session_of(sid), payload)
        except InterviewError as exc:
            if exc.code == "text_mode":
                limits = self.limits.get(sid)
                if limits is None or limits.audio_refused:
                    return None  # said once; later chunks are dropped silently
                limits.audio_refused = True
            raise
        if notice is not None:
            await self._send(sid, "warning", notice)
        return None

    async def interrupt(self, sid: str, payload: Any) -> dict[str, Any]:
        """Barge-in: stop (or, for a false interruption, pause) the question's audio."""
        request = parse(Interrupt, payload)
        return ok(index=request.index, interrupted=self.service.interrupt(self.service.session_of(sid), request.index))

    async def end_interview(self, sid: str, payload: Any) -> dict[str, Any]:
        """End the interview early; feedback follows."""
        parse(EndInterview, payload)
        await self.service.end(self.service.session_of(sid))
        return ok()
