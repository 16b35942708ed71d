"""Requests with an ack: one send, the re-send after a dropped connection, the retry of retryable codes.

The same rule as ``interview-requests.js``: an answer sent but not acked when
the connection dropped is re-sent after the resume (answers are idempotent); an
ack with a code in protocol.json's ``request_retry.codes`` is re-sent after its
back-off until the request timeout; any other code raises :class:`InterviewError`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import socketio

from .errors import ConnectionLost, InterviewError, RequestTimeout
from .protocol import MS, NAMESPACE, REQUEST_RETRY, REQUEST_RETRY_CODES, backoff_ms

if TYPE_CHECKING:
    from .connection import Connection

log = logging.getLogger(__name__)


async def request(conn: Connection, event: str, payload: Any, *, resend: bool) -> dict[str, Any]:
    """Send ``event`` and return its ack; after a dropped connection, re-send when ``resend``."""
    deadline = time.monotonic() + conn.request_timeout
    retries = 0
    while True:
        await conn.wait_ready(max(0.0, deadline - time.monotonic()))
        ack = await send_once(conn, event, payload, deadline)
        if ack is None:
            if not resend:
                raise ConnectionLost("connection_lost", f"the connection dropped before {event} was acknowledged")
            log.info("connection dropped before %s was acked; re-sending after the resume", event)
            continue
        if ack.get("ok", True):
            return ack
        error = ack.get("error") or {}
        code = str(error.get("code", "unknown"))
        delay = backoff_ms(REQUEST_RETRY, retries) / MS
        if code not in REQUEST_RETRY_CODES or time.monotonic() + delay >= deadline:
            raise InterviewError(code, str(error.get("message", "")))
        retries += 1
        await asyncio.sleep(delay)


async def send_once(conn: Connection, event: str, payload: Any, deadline: float) -> dict[str, Any] | None:
    """One attempt: the ack (a dict), or None when the connection dropped first."""
    acked: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    dropped = conn._dropped

    def on_ack(*args: Any) -> None:
        # Bound to this attempt's future: a late ack of an earlier attempt cannot answer a later one.
        if not acked.done():
            acked.set_result(args[0] if args else None)

    try:
        await conn.sio.emit(event, payload, namespace=NAMESPACE, callback=on_ack)
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
