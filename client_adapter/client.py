"""Python client adapter: an interview over python-socketio's ``AsyncClient`` that survives reconnects.

The same client protocol as the browser/Node adapter ``interview-client.js``
(its method names are the canonical API; here they are in snake_case), with
the shared rules read from ``protocol.json``:

- the resume token and the highest ``seq`` seen go to the server in Socket.IO's
  ``auth`` on every (re)connect (``connection.py`` owns connecting, reconnecting,
  refusals and the shutdown notice);
- events with a ``seq`` are de-duplicated (``seq <= last_seq`` is dropped), and a
  new ``start`` resets the sequence state, so one client object can run several
  interviews in a row;
- after ``session_resumed`` the client is ready once the replay reached the
  server's ``last_seq``;
- requests are re-sent and retried as ``requests.py`` says;
- ``error`` ``superseded`` ends in the terminal state ``superseded``;
- received ``tts_chunk`` audio is handed to ``on("tts_chunk", ...)`` handlers and
  the newest, at most ``audio.buffer_bytes``, are kept in :attr:`audio`.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from typing import Any

import aiohttp

from .audio import AudioBuffer
from .connection import Connection
from .errors import InterviewError, Superseded
from .protocol import NAMESPACE, PROTOCOL, RESUME, SHUTDOWN, SUPERSEDED
from .requests import request


class InterviewClient(Connection):
    """One candidate's connection to the ``/interview`` namespace.

    ``url`` is the server's base URL. ``resume_token`` and ``last_seq`` let a
    new client object continue an existing session (as a reloaded page does).
    ``audio_buffer_bytes`` bounds the audio kept in :attr:`audio`;
    ``live_events_kept`` bounds :attr:`live_events` (the other live events).
    The other keywords are :class:`Connection`'s.
    """

    def __init__(
        self,
        url: str,
        *,
        audio_buffer_bytes: int = PROTOCOL["audio"]["buffer_bytes"],
        live_events_kept: int = PROTOCOL["live_events_kept"],
        **options: Any,
    ) -> None:
        super().__init__(url, **options)
        self.session_id: str | None = None
        self.questions: dict[int, dict[str, Any]] = {}
        self.feedback_data: dict[str, Any] | None = None
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.live_events: deque[tuple[str, Any]] = deque(maxlen=live_events_kept)
        self.audio = AudioBuffer(audio_buffer_bytes)
        self.duplicates_dropped = 0
        self.resumes = 0
        self.last_resumed: dict[str, Any] | None = None
        self._asked = 0
        self._catch_up_to: int | None = None
        self.sio.on(RESUME["event"], self._on_resumed, namespace=NAMESPACE)
        for name in PROTOCOL["seq_events"]:
            self.sio.on(name, self._seq_handler(name), namespace=NAMESPACE)
        for name in PROTOCOL["live_events"]:
            self.sio.on(name, self._live_handler(name), namespace=NAMESPACE)

    # -- session state ----------------------------------------------------------------

    def forget(self) -> None:
        """Forget the session (token, id, seq); the next ``start()`` begins a new interview."""
        super().forget()
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

    def _on_drop(self) -> None:
        self._catch_up_to = None

    async def _on_resumed(self, data: dict[str, Any]) -> None:
        self.resumes += 1
        self.last_resumed = data
        self.session_id = data.get(RESUME["session_field"], self.session_id)
        self._catch_up_to = int(data.get(RESUME["seq_field"], 0))
        self._fire(RESUME["event"], data)
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
            if name == SHUTDOWN["event"]:
                self._note_shutdown(data)
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

    # -- requests -----------------------------------------------------------------

    async def _request(self, event: str, payload: Any, *, resend: bool) -> dict[str, Any]:
        """Send ``event`` and return its ack (see ``requests.py``)."""
        return await request(self, event, payload, resend=resend)

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

    async def next_question(self, timeout: float | None = None) -> dict[str, Any]:
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

    async def feedback(self, timeout: float | None = None) -> dict[str, Any]:
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
        if not r.ok:
            error = body.get("error") or {}
            raise InterviewError(error.get("code") or f"http_{r.status}", error.get("message") or str(r.reason))
        return body
