"""Python client adapter: an interview over python-socketio's ``AsyncClient`` that survives reconnects.

The same client protocol as the browser/Node adapter ``interview-client.js``
(its method names are the canonical API; here they are in snake_case), with
the shared rules read from ``protocol.json``:

- the resume token and the highest ``seq`` seen go to the server in Socket.IO's
  ``auth`` on every (re)connect, so Socket.IO's own reconnection does the resume;
- events with a ``seq`` are de-duplicated (``seq <= last_seq`` is dropped), and a
  new ``start`` resets the sequence state, so one client object can run several
  interviews in a row;
- an answer sent but not acked when the connection dropped is re-sent after the
  resume (answers are idempotent); the retryable error codes are retried with
  back-off, the others raise :class:`InterviewError`;
- ``resume_rejected`` (or a malformed token) forgets the session and ends in the
  state ``rejected``; ``error`` ``superseded`` ends in the state ``superseded``:
  both are terminal, pending requests raise and nothing reconnects;
- received ``tts_chunk`` audio is handed to ``on("tts_chunk", ...)`` handlers and
  at most ``audio_buffer_bytes`` of the newest chunks are kept in :attr:`audio`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import aiohttp
import socketio

from .audio import AudioBuffer
from .errors import ConnectionLost, InterviewError, RequestTimeout, ResumeRejected, Superseded
from .protocol import NAMESPACE, PROTOCOL, REJECTED_CODES, RETRYABLE_CODES, SUPERSEDED, TERMINAL_STATES

log = logging.getLogger(__name__)


class InterviewClient:
    """One candidate's connection to the ``/interview`` namespace.

    ``url`` is the server's base URL. ``resume_token`` and ``last_seq`` let a
    new client object continue an existing session (as a reloaded page does).
    ``audio_buffer_bytes`` bounds the audio kept in :attr:`audio`;
    ``live_events_kept`` bounds :attr:`live_events` (the other live events).
    """

    def __init__(
        self,
        url: str,
        *,
        resume_token: str | None = None,
        last_seq: int = 0,
        transports: list[str] | None = None,
        reconnection_delay: float = 0.25,
        reconnection_delay_max: float = 2.0,
        request_timeout: float = 30.0,
        audio_buffer_bytes: int = PROTOCOL["audio_buffer_bytes"],
        live_events_kept: int = 256,
    ) -> None:
        self.url = url
        self.resume_token = resume_token
        self.last_seq = last_seq
        self.session_id: str | None = None
        self.transports = transports or ["websocket"]
        self.request_timeout = request_timeout
        self.state = "idle"
        self.attempt = 0
        self.questions: dict[int, dict[str, Any]] = {}
        self.feedback_data: dict[str, Any] | None = None
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.live_events: deque[tuple[str, Any]] = deque(maxlen=live_events_kept)
        self.audio = AudioBuffer(audio_buffer_bytes)
        self.duplicates_dropped = 0
        self.connects = 0
        self.disconnects = 0
        self.resumes = 0
        self.last_resumed: dict[str, Any] | None = None
        self.fatal: InterviewError | None = None
        self._asked = 0
        self._catch_up_to: int | None = None
        self._closed = False
        self._handlers: dict[str, list[Callable[..., Any]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._retry: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._dropped = asyncio.Event()
        self._changed = asyncio.Event()
        self._refused: str | None = None
        self.sio = socketio.AsyncClient(
            reconnection=True,
            reconnection_attempts=0,
            reconnection_delay=reconnection_delay,
            reconnection_delay_max=reconnection_delay_max,
            randomization_factor=0.5,
            logger=False,
            engineio_logger=False,
        )
        self._register()

    # -- subscription ---------------------------------------------------------------

    def on(self, name: str, handler: Callable[..., Any]) -> Callable[[], None]:
        """Call ``handler(data)`` on a server event, or on ``connection`` ({state, attempt}),
        ``ready``, ``disconnect`` and ``connect_error`` ({code, message}). Returns an unsubscribe function."""
        handlers = self._handlers.setdefault(name, [])
        handlers.append(handler)

        def unsubscribe() -> None:
            if handler in handlers:
                handlers.remove(handler)

        return unsubscribe

    def _fire(self, name: str, *args: Any) -> None:
        for handler in list(self._handlers.get(name, ())):
            try:
                handler(*args)
            except Exception:  # a subscriber's bug must not break the connection
                log.exception("interview client: %s handler failed", name)
        self._notify()

    def _set_state(self, state: str, attempt: int | None = None) -> None:
        self.state = state
        self.attempt = self.attempt if attempt is None else attempt
        self._fire("connection", {"state": state, "attempt": self.attempt})

    def _set_ready(self, ready: bool) -> None:
        if ready:
            self._ready.set()
            self._fire("ready")
        else:
            self._ready.clear()

    # -- connection -----------------------------------------------------------------

    def _auth(self) -> dict[str, Any]:
        return {"resume_token": self.resume_token, "last_seq": self.last_seq} if self.resume_token else {}

    async def connect(self, timeout: float = 10.0) -> None:
        """Open the connection and wait until ready (with a token: resumed and caught up).

        A refusal with a retryable code is retried until ``timeout``; a rejected
        token raises :class:`ResumeRejected`.
        """
        self._stop_retry()
        await self._settle()
        self._closed = False
        self.fatal = None
        self._set_state("resuming" if self.resume_token else "connecting", 0)
        deadline = time.monotonic() + timeout
        delay = PROTOCOL["connect_retry"]["first_delay_ms"] / 1000
        while True:
            self._refused = None
            try:
                await self.sio.connect(
                    self.url,
                    namespaces=[NAMESPACE],
                    transports=self.transports,
                    auth=self._auth,
                    wait_timeout=max(0.1, deadline - time.monotonic()),
                )
                break
            except socketio.exceptions.ConnectionError:
                await self._settle()
                if self.fatal is not None:
                    raise self.fatal from None
                if self._refused not in RETRYABLE_CODES or time.monotonic() + delay >= deadline:
                    raise
            self._set_state("reconnecting", self.attempt + 1)
            await asyncio.sleep(delay)
            delay = min(delay * 2, PROTOCOL["connect_retry"]["max_delay_ms"] / 1000)
        await self.wait_ready(max(0.0, deadline - time.monotonic()))

    async def close(self) -> None:
        """Disconnect for good (no reconnection)."""
        self._closed = True
        self._stop_retry()
        await self.sio.disconnect()
        await self._settle()

    def _stop_retry(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None

    async def _settle(self) -> None:
        """Wait for the adapter's own background tasks (stopping or re-connecting the socket)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        """Run ``coro`` as a task this client owns (awaited by ``close()``/``connect()``)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def connected(self) -> bool:
        """True while the namespace is connected (maybe still resuming)."""
        return self.sio.connected and NAMESPACE in self.sio.namespaces

    @property
    def ready(self) -> bool:
        """True when connected and, after a resume, caught up with the replay."""
        return self._ready.is_set()

    @property
    def has_session(self) -> bool:
        """True when a token is kept: ``connect()`` resumes that session."""
        return bool(self.resume_token)

    def forget(self) -> None:
        """Forget the session (token, id, seq); the next ``start()`` begins a new interview."""
        self.resume_token = None
        self.session_id = None
        self._new_session()

    def _new_session(self) -> None:
        """Sequence state of a session that has sent nothing yet."""
        self.last_seq = 0
        self._catch_up_to = None
        self._asked = 0
        self.questions = {}
        self.feedback_data = None
        self.events = []
        self.audio.clear()

    def _register(self) -> None:
        on = self.sio.on
        on("connect", self._on_connect, namespace=NAMESPACE)
        on("disconnect", self._on_disconnect, namespace=NAMESPACE)
        on("connect_error", self._on_connect_error, namespace=NAMESPACE)
        on("session_resumed", self._on_resumed, namespace=NAMESPACE)
        for name in PROTOCOL["seq_events"]:
            on(name, self._seq_handler(name), namespace=NAMESPACE)
        for name in PROTOCOL["live_events"]:
            on(name, self._live_handler(name), namespace=NAMESPACE)

    async def _on_connect(self) -> None:
        self.connects += 1
        self._dropped.clear()
        if self.resume_token:
            self._set_state("resuming")
        else:
            self._set_state("connected", 0)
            self._set_ready(True)

    async def _on_disconnect(self, reason: Any = None) -> None:
        self.disconnects += 1
        self._catch_up_to = None
        self._set_ready(False)
        self._dropped.set()
        self._fire("disconnect", reason)
        if self._closed or self.state in TERMINAL_STATES:
            return
        self._set_state("reconnecting", 0)
        if reason == self.sio.reason.SERVER_DISCONNECT:
            # The server closed the namespace, not the transport: Socket.IO does not reconnect then.
            self._retry = self._spawn(self._reconnect_later(PROTOCOL["server_disconnect_retry_ms"] / 1000))

    async def _reconnect_later(self, delay: float) -> None:
        """Reconnect with back-off until connected, closed or terminal (cancelled by ``close()``)."""
        retry = PROTOCOL["connect_retry"]
        while not self._closed and self.state not in TERMINAL_STATES and not self.sio.connected:
            await asyncio.sleep(delay)
            try:
                await self.sio.connect(self.url, namespaces=[NAMESPACE], transports=self.transports, auth=self._auth)
            except socketio.exceptions.ConnectionError:
                log.info("reconnect after a server disconnect failed; retrying")
                delay = min(max(delay * 2, retry["first_delay_ms"] / 1000), retry["max_delay_ms"] / 1000)

    async def _on_connect_error(self, data: Any = None) -> None:
        detail = data.get("data") if isinstance(data, dict) and "data" in data else data
        code = detail.get("code") if isinstance(detail, dict) else None
        self._refused = code
        message = str(detail.get("message", "")) if isinstance(detail, dict) else str(data or "")
        self._fire("connect_error", {"code": code, "message": message})
        if code in REJECTED_CODES:
            # The session is gone (purged, deleted) or the token is malformed: start over.
            self.forget()
            self._terminate("rejected", ResumeRejected(code, message))
        else:
            self.attempt += 1

    def _terminate(self, state: str, error: InterviewError) -> None:
        """Enter a terminal state: pending waits raise ``error`` and the socket stops for good."""
        self.fatal = error
        self._closed = True
        self._set_state(state, 0)
        self._set_ready(False)
        # Not awaited here: this runs inside python-socketio's connect or reconnect loop, which
        # disconnect() waits for. close() and connect() await it through _settle().
        self._spawn(self.sio.disconnect())

    async def _on_resumed(self, data: dict[str, Any]) -> None:
        self.resumes += 1
        self.last_resumed = data
        self.session_id = data.get("session_id", self.session_id)
        self._catch_up_to = int(data.get("last_seq", 0))
        self._fire("session_resumed", data)
        self._check_caught_up()

    def _check_caught_up(self) -> None:
        """Ready once the replay after ``session_resumed`` has reached the server's last ``seq``."""
        if self._catch_up_to is not None and self.last_seq >= self._catch_up_to:
            self._catch_up_to = None
            self._set_state("resumed")
            self._set_ready(True)

    def _seq_handler(self, name: str) -> Callable[[dict[str, Any]], Any]:
        async def handler(data: dict[str, Any]) -> None:
            self._accept(name, data)

        return handler

    def _live_handler(self, name: str) -> Callable[..., Any]:
        async def handler(data: Any = None) -> None:
            if name == "tts_chunk" and isinstance(data, dict):
                self.audio.add(data)
            else:
                self.live_events.append((name, data))
            if name == "error" and isinstance(data, dict) and data.get("code") == SUPERSEDED:
                self._terminate("superseded", Superseded(SUPERSEDED, str(data.get("message", ""))))
            self._fire(name, data)

        return handler

    def _accept(self, name: str, data: dict[str, Any]) -> None:
        seq = data.get("seq") if isinstance(data, dict) else None
        if not isinstance(seq, int) or seq <= self.last_seq:
            self.duplicates_dropped += 1
            return
        self.last_seq = seq
        self.events.append((name, data))
        if name == "question":
            self.questions[int(data["index"])] = data
        elif name == "feedback":
            self.feedback_data = data
            self.session_id = data.get("session_id", self.session_id)
        self._fire(name, data)
        self._check_caught_up()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Wait until ``predicate()`` is truthy and return its value; raise in a terminal state."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if self.fatal is not None:
                raise self.fatal
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RequestTimeout("timeout", "timed out waiting for the server")
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                pass

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until connected (and, when resuming, caught up)."""
        await self.wait_for(self._ready.is_set, self.request_timeout if timeout is None else timeout)

    # -- requests -----------------------------------------------------------------

    async def _request(self, event: str, payload: Any, *, resend: bool) -> dict[str, Any]:
        """Send ``event`` and return its ack; after a dropped connection, re-send when ``resend``."""
        deadline = time.monotonic() + self.request_timeout
        retry = PROTOCOL["request_retry"]
        delay = retry["first_delay_ms"] / 1000
        while True:
            await self.wait_ready(max(0.0, deadline - time.monotonic()))
            ack = await self._send_once(event, payload, deadline)
            if ack is None:
                if not resend:
                    raise ConnectionLost("connection_lost", f"the connection dropped before {event} was acknowledged")
                log.info("connection dropped before %s was acked; re-sending after the resume", event)
                continue
            if not ack.get("ok", True):
                error = ack.get("error") or {}
                code = str(error.get("code", "unknown"))
                if code in RETRYABLE_CODES and time.monotonic() + delay < deadline:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, retry["max_delay_ms"] / 1000)
                    continue
                raise InterviewError(code, str(error.get("message", "")))
            return ack

    async def _send_once(self, event: str, payload: Any, deadline: float) -> dict[str, Any] | None:
        """One attempt: the ack (a dict), or None when the connection dropped first."""
        acked: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        dropped = self._dropped

        def on_ack(*args: Any) -> None:
            # Bound to this attempt's future: a late ack of an earlier attempt cannot answer a later one.
            if not acked.done():
                acked.set_result(args[0] if args else None)

        try:
            await self.sio.emit(event, payload, namespace=NAMESPACE, callback=on_ack)
        except socketio.exceptions.SocketIOError:
            return None
        drop_wait = asyncio.ensure_future(dropped.wait())
        try:
            await asyncio.wait(
                {acked, drop_wait}, timeout=max(0.0, deadline - time.monotonic()), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            drop_wait.cancel()
        if acked.done():
            ack = acked.result()
            return ack if isinstance(ack, dict) else {}
        if dropped.is_set():
            return None
        raise RequestTimeout("timeout", f"no answer to {event}")

    async def start(self, config: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """Start an interview (``start_interview`` with ``config`` and/or keyword fields).

        Resets the sequence state first (a new session numbers its events from 1
        and its first question may arrive before the ack); keeps the token for resuming.
        """
        await self.wait_ready()
        kept = (self.last_seq, self.questions, self.feedback_data, self.events, self._asked)
        self._new_session()
        try:
            ack = await self._request("start_interview", {**(config or {}), **fields}, resend=False)
        except InterviewError:
            self.last_seq, self.questions, self.feedback_data, self.events, self._asked = kept
            raise
        self.resume_token = ack["resume_token"]
        self.session_id = ack["session_id"]
        return ack

    async def next_question(self, timeout: float = 30.0) -> dict[str, Any]:
        """Wait for the question after the last one returned, and return it."""
        question = await self.wait_for(lambda: self.questions.get(self._asked + 1), timeout)
        self._asked = int(question["index"])
        return question

    async def answer_text(self, index: int, text: str) -> dict[str, Any]:
        """Answer question ``index`` in text; re-sent after a reconnect until acked."""
        return await self._request("answer_text", {"index": index, "text": text}, resend=True)

    async def answer_end(self, index: int) -> dict[str, Any]:
        """Close the spoken answer to ``index`` (``answer_end``); the ack carries the transcript."""
        return await self._request("answer_end", {"index": index}, resend=True)

    async def interrupt(self, index: int) -> dict[str, Any]:
        """Barge-in: the candidate speaks over question ``index``'s audio (``interrupt``; not re-sent)."""
        return await self._request("interrupt", {"index": index}, resend=False)

    async def end(self) -> dict[str, Any]:
        """End the interview early; the feedback follows."""
        return await self._request("end_interview", {}, resend=True)

    async def feedback(self, timeout: float = 30.0) -> dict[str, Any]:
        """Wait for the interview's ``feedback`` event and return it."""
        return await self.wait_for(lambda: self.feedback_data, timeout)

    async def send_audio(self, chunk: bytes) -> bool:
        """Send one binary audio chunk (no ack); dropped (False) while disconnected."""
        if not self.connected:
            return False
        await self.sio.emit("audio_chunk", chunk, namespace=NAMESPACE)
        return True

    async def fetch_feedback(self) -> dict[str, Any]:
        """The session's feedback over HTTP (session bearer), e.g. after reconnecting past the event."""
        if not self.session_id or not self.resume_token:
            raise InterviewError("no_session", "no session")
        url = f"{self.url}/api/v1/sessions/{self.session_id}/feedback"
        headers = {"Authorization": f"Bearer {self.resume_token}"}
        async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as r:
            text = await r.text()
        body = json.loads(text) if text else {}
        if r.status != 200:
            error = body.get("error") or {}
            raise InterviewError(error.get("code") or f"http_{r.status}", error.get("message") or str(r.reason))
        return body
