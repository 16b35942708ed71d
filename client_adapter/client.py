"""Python client adapter: an interview over python-socketio's ``AsyncClient`` that survives reconnects.

The adapter keeps the resume token and the highest ``seq`` it has seen and
hands both to the server through Socket.IO's ``auth`` on every (re)connect,
so Socket.IO's own reconnection does the resume. Replayed events are
de-duplicated by ``seq``; an answer sent but not acked when the connection
dropped is sent again after the resume (answers are idempotent).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import socketio

TURN_EVENTS = ("answer_ending", "answer_resumed", "answer_ended", "tts_resumed")  # voice turns (docs/protocol-notes.md)
NAMESPACE = "/interview"
RETRYABLE_CODES = frozenset({"store_unavailable", "busy", "conflict", "session_busy"})
log = logging.getLogger(__name__)


class InterviewError(Exception):
    """The server answered a request with ``ok: false``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ResumeRejected(InterviewError):
    """The server does not know the resume token any more."""


class InterviewClient:
    """One candidate's connection to the ``/interview`` namespace.

    ``url`` is the server's base URL. ``resume_token`` and ``last_seq`` let a
    new client object continue an existing session (as a reloaded page does).
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
    ) -> None:
        self.url = url
        self.resume_token = resume_token
        self.last_seq = last_seq
        self.session_id: str | None = None
        self.transports = transports or ["websocket"]
        self.request_timeout = request_timeout
        self.questions: dict[int, dict[str, Any]] = {}
        self.feedback_data: dict[str, Any] | None = None
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.live_events: list[tuple[str, Any]] = []
        self.duplicates_dropped = 0
        self.connects = 0
        self.disconnects = 0
        self.resumes = 0
        self.last_resumed: dict[str, Any] | None = None
        self.fatal: InterviewError | None = None
        self._asked = 0
        self._catch_up_to: int | None = None
        self._connected = False
        self._ready = asyncio.Event()
        self._dropped = asyncio.Event()
        self._changed = asyncio.Event()
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

    # -- connection ---------------------------------------------------------------

    def _auth(self) -> dict[str, Any]:
        return {"resume_token": self.resume_token, "last_seq": self.last_seq} if self.resume_token else {}

    async def connect(self, timeout: float = 10.0) -> None:
        """Open the connection; with a token, wait until the session is resumed and replayed."""
        await self.sio.connect(
            self.url, namespaces=[NAMESPACE], transports=self.transports, auth=self._auth, wait_timeout=timeout
        )
        await self._wait_ready(time.monotonic() + timeout)

    async def close(self) -> None:
        """Disconnect for good (no reconnection)."""
        await self.sio.disconnect()

    @property
    def connected(self) -> bool:
        """True while the namespace is connected (and resumed, when resuming)."""
        return self._ready.is_set()

    def _register(self) -> None:
        on = self.sio.on
        on("connect", self._on_connect, namespace=NAMESPACE)
        on("disconnect", self._on_disconnect, namespace=NAMESPACE)
        on("connect_error", self._on_connect_error, namespace=NAMESPACE)
        on("session_resumed", self._on_resumed, namespace=NAMESPACE)
        on("question", self._seq_handler("question"), namespace=NAMESPACE)
        on("feedback", self._seq_handler("feedback"), namespace=NAMESPACE)
        for name in ("state", "warning", "error", "transcript", "tts_chunk", "tts_end", "server_shutdown", *TURN_EVENTS):
            on(name, self._live_handler(name), namespace=NAMESPACE)

    async def _on_connect(self) -> None:
        self.connects += 1
        self._connected = True
        self._dropped.clear()
        if not self.resume_token:
            self._ready.set()
        self._notify()

    async def _on_disconnect(self, reason: Any = None) -> None:
        self.disconnects += 1
        self._connected = False
        self._ready.clear()
        self._catch_up_to = None
        self._dropped.set()
        self._notify()

    async def _on_connect_error(self, data: Any = None) -> None:
        detail = data.get("data") if isinstance(data, dict) else None
        code = detail.get("code") if isinstance(detail, dict) else None
        if code == "resume_rejected":
            self.fatal = ResumeRejected(code, str(detail.get("message", "")))
            self._notify()
            asyncio.get_running_loop().create_task(self.sio.disconnect())

    async def _on_resumed(self, data: dict[str, Any]) -> None:
        self.resumes += 1
        self.last_resumed = data
        self.session_id = data.get("session_id", self.session_id)
        self._catch_up_to = int(data.get("last_seq", 0))
        self._check_caught_up()
        self._notify()

    def _check_caught_up(self) -> None:
        """Ready once the replay after ``session_resumed`` has reached the server's last ``seq``."""
        if self._catch_up_to is not None and self.last_seq >= self._catch_up_to:
            self._catch_up_to = None
            self._ready.set()

    def _seq_handler(self, name: str) -> Callable[[dict[str, Any]], Any]:
        async def handler(data: dict[str, Any]) -> None:
            self._accept(name, data)

        return handler

    def _live_handler(self, name: str) -> Callable[..., Any]:
        async def handler(data: Any = None) -> None:
            self.live_events.append((name, data))
            self._notify()

        return handler

    def _accept(self, name: str, data: dict[str, Any]) -> None:
        seq = int(data.get("seq", 0))
        if seq <= self.last_seq:
            self.duplicates_dropped += 1
            return
        self.last_seq = seq
        self.events.append((name, data))
        if name == "question":
            self.questions[int(data["index"])] = data
        elif name == "feedback":
            self.feedback_data = data
        self._check_caught_up()
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Wait until ``predicate()`` is truthy and return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if self.fatal is not None:
                raise self.fatal
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("timed out waiting for the server")
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def _wait_ready(self, deadline: float) -> None:
        await self.wait_for(self._ready.is_set, max(0.0, deadline - time.monotonic()))

    # -- requests -----------------------------------------------------------------

    async def _request(self, event: str, payload: Any, *, resend: bool) -> dict[str, Any]:
        """Send ``event`` and return its ack; after a dropped connection, re-send when ``resend``."""
        deadline = time.monotonic() + self.request_timeout
        delay = 0.1
        while True:
            await self._wait_ready(deadline)
            loop = asyncio.get_running_loop()
            acked: asyncio.Future[Any] = loop.create_future()
            dropped = self._dropped

            def on_ack(*args: Any, fut: asyncio.Future[Any] = acked) -> None:
                # Bound to this attempt's future: a late ack of an earlier attempt cannot answer a later one.
                if not fut.done():
                    fut.set_result(args[0] if args else None)

            try:
                await self.sio.emit(event, payload, namespace=NAMESPACE, callback=on_ack)
            except socketio.exceptions.SocketIOError:
                if not resend:
                    raise ConnectionError(f"{event} could not be sent") from None
                continue
            drop_wait = asyncio.ensure_future(dropped.wait())
            try:
                done, _ = await asyncio.wait(
                    {acked, drop_wait}, timeout=max(0.0, deadline - time.monotonic()), return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                drop_wait.cancel()
            if acked.done():
                ack = acked.result()
                if isinstance(ack, dict) and not ack.get("ok"):
                    error = ack.get("error") or {}
                    code = str(error.get("code", "unknown"))
                    if code in RETRYABLE_CODES and time.monotonic() + delay < deadline:
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, 2.0)
                        continue
                    raise InterviewError(code, str(error.get("message", "")))
                return ack if isinstance(ack, dict) else {}
            if not done:
                raise TimeoutError(f"no ack for {event}")
            if not resend:
                raise ConnectionError(f"the connection dropped before {event} was acked")
            log.info("connection dropped before %s was acked; re-sending after the resume", event)

    async def start(self, **config: Any) -> dict[str, Any]:
        """Start an interview (``start_interview``); keeps the token for resuming."""
        if not self._ready.is_set():
            await self._wait_ready(time.monotonic() + self.request_timeout)
        ack = await self._request("start_interview", config, resend=False)
        self.resume_token = ack["resume_token"]
        self.session_id = ack["session_id"]
        return ack

    async def next_question(self, timeout: float = 30.0) -> dict[str, Any]:
        """Wait for the question after the last one returned, and return it."""
        question = await self.wait_for(lambda: self.questions.get(self._asked + 1), timeout)
        self._asked = int(question["index"])
        return question

    async def answer(self, index: int, text: str) -> dict[str, Any]:
        """Answer question ``index`` in text; re-sent after a reconnect until acked."""
        return await self._request("answer_text", {"index": index, "text": text}, resend=True)

    async def answer_voice(self, index: int) -> dict[str, Any]:
        """Close the spoken answer to ``index`` (``answer_end``); the ack carries the transcript."""
        return await self._request("answer_end", {"index": index}, resend=True)

    async def interrupt(self, index: int) -> dict[str, Any]:
        """Barge-in: the candidate speaks over question ``index``'s audio (``interrupt``; not re-sent)."""
        return await self._request("interrupt", {"index": index}, resend=False)

    async def end(self) -> dict[str, Any]:
        """End the interview early; the feedback follows."""
        return await self._request("end_interview", {}, resend=True)

    async def feedback(self, timeout: float = 30.0) -> dict[str, Any]:
        """Wait for the interview's feedback and return it."""
        return await self.wait_for(lambda: self.feedback_data, timeout)

    async def send_audio(self, chunk: bytes) -> None:
        """Send one binary audio chunk (no ack)."""
        await self.sio.emit("audio_chunk", chunk, namespace=NAMESPACE)
