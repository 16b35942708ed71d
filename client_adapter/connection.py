"""The connection state machine of the Python adapter: connect, reconnect, refusals, shutdown notices, terminal states.

The same rules as ``interview-connection.js``, all from ``protocol.json``:

- a drop, or an attempt that fails before the server answers, is retried
  forever with the ``reconnect`` back-off (the first retry of a drop after one
  back-off delay; after the server closed the namespace, after
  ``after_server_disconnect_ms``);
- a ``connect_error`` with a code follows ``refusals``: ``terminal`` codes forget
  the session and end in the state ``rejected``; ``retry`` codes are retried with
  the ``refusals`` back-off;
- after the server's ``server_shutdown`` notice no attempt is made before its
  ``reconnect_after_ms`` (plus the ``spread``) have passed since the notice;
- the transports are tried in order; the first that opens is used.

python-socketio's own reconnection is off: this loop is the only one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import socketio

from .errors import InterviewError, RequestTimeout, ResumeRejected
from .protocol import (
    MS,
    NAMESPACE,
    PROTOCOL,
    REFUSALS,
    TERMINAL_STATES,
    backoff_ms,
    refusal_action,
    refusal_code,
    shutdown_delay_ms,
)

log = logging.getLogger(__name__)


class Connection:
    """One socket to the ``/interview`` namespace that reconnects by the rules of ``protocol.json``.

    ``reconnection_delay`` / ``reconnection_delay_max`` (seconds) override the
    ``reconnect`` back-off; ``transports`` the transports, in order.
    """

    def __init__(
        self,
        url: str,
        *,
        resume_token: str | None = None,
        last_seq: int = 0,
        transports: list[str] | None = None,
        reconnection_delay: float | None = None,
        reconnection_delay_max: float | None = None,
        request_timeout: float | None = None,
    ) -> None:
        self.url = url
        self.resume_token = resume_token
        self.last_seq = last_seq
        self.transports = list(transports or PROTOCOL["transports"])
        self.reconnect_policy = dict(PROTOCOL["reconnect"])
        if reconnection_delay is not None:
            self.reconnect_policy["first_delay_ms"] = reconnection_delay * MS
        if reconnection_delay_max is not None:
            self.reconnect_policy["max_delay_ms"] = reconnection_delay_max * MS
        self.request_timeout = PROTOCOL["request_timeout_ms"] / MS if request_timeout is None else request_timeout
        self.state = "idle"
        self.attempt = 0
        self.connects = 0
        self.disconnects = 0
        self.fatal: InterviewError | None = None
        self._closed = True
        self._handlers: dict[str, list[Callable[..., Any]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._dropped = asyncio.Event()
        self._changed = asyncio.Event()
        self._refused: str | None = None
        self._refused_message = ""
        self._quiet_until: float | None = None  # monotonic time before which a shutdown notice forbids attempts
        self.sio = socketio.AsyncClient(reconnection=False, logger=False, engineio_logger=False)
        self.sio.on("connect", self._on_connect, namespace=NAMESPACE)
        self.sio.on("disconnect", self._on_disconnect, namespace=NAMESPACE)
        self.sio.on("connect_error", self._on_connect_error, namespace=NAMESPACE)

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

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float | None = None) -> Any:
        """Wait until ``predicate()`` is truthy and return its value; raise in a terminal state."""
        deadline = time.monotonic() + (self.request_timeout if timeout is None else timeout)
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
        await self.wait_for(self._ready.is_set, timeout)

    # -- state ------------------------------------------------------------------------

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
        """Forget the session token; the next ``start()`` begins a new interview."""
        self.resume_token = None

    def _auth(self) -> dict[str, Any]:
        return {"resume_token": self.resume_token, "last_seq": self.last_seq} if self.resume_token else {}

    # -- connecting -------------------------------------------------------------------

    async def connect(self, timeout: float | None = None) -> None:
        """Open the connection and wait until ready (with a token: resumed and caught up).

        Failures are retried by the rules of protocol.json until ``timeout``
        (``connect_timeout_ms``), then :class:`RequestTimeout`; a terminal
        refusal raises :class:`ResumeRejected` at once.
        """
        await self._stop()
        self._closed = False
        self.fatal = None
        self._set_state("resuming" if self.resume_token else "connecting", 0)
        self._loop = self._spawn(self._reconnect(0.0, retry=False))
        try:
            await self.wait_ready(PROTOCOL["connect_timeout_ms"] / MS if timeout is None else timeout)
        except RequestTimeout:
            await self._stop()  # connect() gave up: nothing goes on reconnecting behind the caller's back
            raise

    async def close(self) -> None:
        """Disconnect for good (no reconnection)."""
        self._closed = True
        await self._stop()

    async def _stop(self) -> None:
        """Cancel the reconnect loop, disconnect, and wait for the adapter's own tasks."""
        if self._loop is not None:
            self._loop.cancel()
            self._loop = None
        await self.sio.disconnect()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        """Run ``coro`` as a task this client owns (awaited by ``close()``/``connect()``)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _quiet_ms(self) -> float:
        """What is left of the pause a shutdown notice asked for."""
        return 0.0 if self._quiet_until is None else max(0.0, (self._quiet_until - time.monotonic()) * MS)

    async def _reconnect(self, wait_ms: float, *, retry: bool) -> None:
        """Attempt to connect until connected, closed or terminal; ``retry``: the first attempt is a retry."""
        drops = refusals = 0
        while True:
            await asyncio.sleep(max(wait_ms, self._quiet_ms()) / MS)
            if self._closed or self.state in TERMINAL_STATES or self.connected:
                return
            if retry:
                self._set_state("reconnecting", self.attempt + 1)
            # python-socketio does not notice a transport that drops while it waits for the namespace's
            # answer: a retry waits briefly (the server may have died again), the first attempt longer.
            code = await self._open(PROTOCOL["handshake_wait_ms" if retry else "connect_timeout_ms"] / MS)
            retry = True
            if code is None:
                return
            if code and refusal_action(code) == "terminal":
                self._reject(code)
                return
            if code:
                wait_ms, refusals = backoff_ms(REFUSALS, refusals), refusals + 1
            else:
                wait_ms, drops = backoff_ms(self.reconnect_policy, drops), drops + 1
            log.info("connect failed (%s); next attempt in %.0f ms", code or "unreachable", wait_ms)

    async def _open(self, wait: float) -> str | None:
        """One attempt over the transports in order, ``wait`` seconds for the namespace's answer:
        None when connected, else the refusal code ("" for none)."""
        for transport in self.transports:
            self._refused = None
            try:
                await self.sio.connect(
                    self.url,
                    namespaces=[NAMESPACE],
                    transports=[transport],
                    auth=self._auth,
                    wait_timeout=wait,
                )
            except socketio.exceptions.ConnectionError:
                if self._refused:
                    return self._refused
                continue
            if self.sio.eio.state == "connected":
                return None
            # The transport dropped after the namespace answered but before connect() returned:
            # python-socketio then reports no disconnect and still counts itself connected.
            self.sio.connected, self.sio.namespaces = False, {}
            self._on_drop()
            self._set_ready(False)
            self._dropped.set()
            return ""
        return ""

    def _reject(self, code: str) -> None:
        """A terminal refusal: the session is gone (purged, deleted) or the token is malformed."""
        self.forget()
        self._terminate("rejected", ResumeRejected(code, self._refused_message))

    def _terminate(self, state: str, error: InterviewError) -> None:
        """Enter a terminal state: pending waits raise ``error`` and the socket stops for good."""
        self.fatal = error
        self._closed = True
        self._set_state(state, 0)
        self._set_ready(False)
        # Not awaited here: this may run inside a python-socketio handler, which disconnect() waits
        # for. close() and connect() await it.
        self._spawn(self.sio.disconnect())

    def _note_shutdown(self, notice: Any) -> None:
        """The server's ``server_shutdown``: no attempt before its delay has passed."""
        delay = shutdown_delay_ms(notice)
        if delay is not None:
            self._quiet_until = time.monotonic() + delay / MS

    # -- python-socketio events --------------------------------------------------------

    async def _on_connect(self) -> None:
        self.connects += 1
        self._quiet_until = None
        self._dropped.clear()
        if self.resume_token:
            self._set_state("resuming")
        else:
            self._set_state("connected", 0)
            self._set_ready(True)

    def _on_drop(self) -> None:
        """Hook: the connection dropped (the client forgets an unfinished catch-up)."""

    async def _on_disconnect(self, reason: Any = None) -> None:
        self.disconnects += 1
        self._on_drop()
        self._set_ready(False)
        self._dropped.set()
        self._fire("disconnect", reason)
        if self._closed or self.state in TERMINAL_STATES or reason == self.sio.reason.CLIENT_DISCONNECT:
            return
        self._set_state("reconnecting", 0)
        if reason == self.sio.reason.SERVER_DISCONNECT:
            wait_ms = PROTOCOL["after_server_disconnect_ms"]
        else:
            wait_ms = backoff_ms(self.reconnect_policy, 0)
        self._loop = self._spawn(self._reconnect(wait_ms, retry=True))

    async def _on_connect_error(self, data: Any = None) -> None:
        code, message = refusal_code(data)
        self._refused, self._refused_message = code, message
        self._fire("connect_error", {"code": code, "message": message})
