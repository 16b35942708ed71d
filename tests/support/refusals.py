"""A Socket.IO connect the server refuses, and the ``connect_error`` it answered."""

from __future__ import annotations

from typing import Any

import socketio

NS = "/interview"


async def connect_error(url: str, auth: Any) -> dict[str, Any]:
    """Connect to ``/interview`` with ``auth``; the connection must be refused: its ``connect_error`` data."""
    sio = socketio.AsyncClient(reconnection=False)
    errors: list[dict[str, Any]] = []
    sio.on("connect_error", lambda data: errors.append(data), namespace=NS)
    try:
        await sio.connect(url, namespaces=[NS], transports=["websocket"], auth=auth, wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        pass
    else:
        raise AssertionError("the server accepted the connection")
    finally:
        await sio.disconnect()
    assert errors, "no connect_error arrived"
    return errors[0]
