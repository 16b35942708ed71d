"""Client managers: python-socketio's in-process and Redis managers with connect signals, a room index and
a listener loop of our own; the listener's lifecycle (start at boot, alive, restart).

Every private member of upstream used here carries a comment naming the
behaviour it relies on; ``tests/unit/test_socketio_internals.py`` and
``tests/unit/test_rooms.py`` fail when an upgrade changes one of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import socketio

from .rooms import RoomIndex


class ConnectSignals:
    """Client-manager mixin: lets a task wait until a socket is fully connected to a namespace.

    python-socketio runs the ``connect`` handler *before* it sends the CONNECT
    packet, then calls the manager's public ``connect(sid, namespace)``; events
    sent to the socket before that are not delivered in order. A resume
    replay waits here for that call instead of polling.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connect_waiters: dict[tuple[str, str], asyncio.Future[None]] = {}

    async def connect(self, sid: str, namespace: str) -> Any:
        """Register the client as connected (upstream), then wake whoever waits for it."""
        result = await super().connect(sid, namespace)  # type: ignore[misc]
        waiter = self._connect_waiters.pop((sid, namespace), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return result

    async def wait_connected(self, sid: str, namespace: str, timeout: float) -> bool:
        """True once ``sid`` is connected to ``namespace``; False when ``timeout`` passes first."""
        if self.is_connected(sid, namespace):  # type: ignore[attr-defined]
            return True
        key = (sid, namespace)
        waiter = self._connect_waiters.get(key)
        if waiter is None:
            waiter = self._connect_waiters[key] = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            if self._connect_waiters.get(key) is waiter and not waiter.done():
                del self._connect_waiters[key]


class LocalManager(ConnectSignals, RoomIndex, socketio.AsyncManager):
    """The in-process client manager (one server process)."""


class ListenerRedisManager(ConnectSignals, RoomIndex, socketio.AsyncRedisManager):
    """``AsyncRedisManager`` whose pub/sub listener loop is :meth:`listen_messages` (a subclass provides it)."""

    def listen_messages(self) -> AsyncIterator[dict[str, Any]]:
        """Yield the raw pub/sub messages of ``self.channel``, reconnecting as needed, forever."""
        raise NotImplementedError

    # Upstream (python-socketio 5.x): ``AsyncPubSubManager._thread``, the listener task, iterates
    # ``self._listen()`` and handles every message it yields (JSON text or bytes); ``_listen`` is the
    # seam a pub/sub backend implements (``AsyncPubSubManager`` documents it). AsyncRedisManager's own
    # retries with a delay doubling up to 60 s and blocks forever on an idle connection; this one yields
    # the data of the channel's messages from :meth:`listen_messages`.
    async def _listen(self) -> AsyncIterator[Any]:  # type: ignore[override]
        channel = self.channel
        async for message in self.listen_messages():
            name = message.get("channel")
            if isinstance(name, bytes):
                name = name.decode("utf-8", "replace")
            if message.get("type") == "message" and name == channel and "data" in message:
                yield message["data"]


def start_manager(sio: socketio.AsyncServer) -> None:
    """Initialize the client manager now rather than at the first connection.

    python-socketio starts the Redis listener lazily; started at boot, a
    process hears the other processes (and ``/readyz`` can vouch for it) before
    any client arrives.
    """
    # Upstream (python-socketio 5.x): ``manager_initialized`` says whether ``manager.initialize()`` ran;
    # the server runs it at the first connection otherwise.
    if not sio.manager_initialized:
        sio.manager_initialized = True
        sio.manager.initialize()


def listener_alive(sio: socketio.AsyncServer) -> bool | None:
    """Whether the Redis manager's listener task runs (None without a Redis manager, or before it started)."""
    manager = sio.manager
    if not isinstance(manager, socketio.AsyncRedisManager) or not sio.manager_initialized:
        return None
    # Upstream: ``AsyncPubSubManager.initialize`` keeps the listener task in ``self.thread``.
    thread = getattr(manager, "thread", None)
    return thread is not None and not thread.done()


def restart_listener(manager: socketio.AsyncRedisManager, sio: socketio.AsyncServer) -> None:
    """Start a pub/sub manager's listener task again after it died."""
    manager.connected = False  # type: ignore[attr-defined]
    # Upstream: ``AsyncPubSubManager.initialize`` starts ``self._thread`` (the
    # listen loop) as a background task kept in ``self.thread``; the public
    # ``initialize`` also re-runs the base set-up, so only the task is restarted.
    manager.thread = sio.start_background_task(manager._thread)  # type: ignore[attr-defined]
