"""Engine.IO's per-socket outgoing queue: small, and it knows how many bytes wait in it.

python-engineio gives every socket one queue of packets its writer has not
sent yet, made by ``AsyncServer.create_queue`` (a public hook, meant to be
overridden). Its default, ``asyncio.Queue``, builds three deques and an
``Event`` with a deque of its own; a deque allocates a 64-slot block at once,
so an idle socket's queue costs about 2.8 KB — more than the interview state
this server keeps per session. :class:`PacketQueue` keeps two lists and makes
the ``join()`` event only while someone waits on it (about 0.2 KB).

It also counts the bytes queued (binary attachments by length, text by
characters), which :meth:`~.namespace.SocketEmitter.backlog` reads to bound
the TTS audio waiting for a slow client, without looking into the queue.

Semantics are ``asyncio.Queue``'s for what python-engineio calls: ``put``,
``put_nowait``, ``get`` (cancellable, as in ``asyncio.wait_for``),
``get_nowait`` (raising ``asyncio.QueueEmpty``), ``task_done``, ``join``,
``qsize`` and ``empty``; unbounded, FIFO.
"""

from __future__ import annotations

import asyncio
from typing import Any

TEXT_PACKET_GUESS = 64  # bytes counted for a packet without a str or bytes payload (a ping, a noop)


def packet_size(pkt: Any) -> int:
    """The bytes an Engine.IO packet adds to the socket's backlog (0 for the ``None`` that stops the writer)."""
    if pkt is None:
        return 0
    data = getattr(pkt, "data", None)
    if isinstance(data, (bytes, bytearray, str)):
        return len(data)
    return TEXT_PACKET_GUESS


class PacketQueue:
    """An unbounded FIFO queue with ``asyncio.Queue``'s interface and a byte count (see the module)."""

    __slots__ = ("_finished", "_getters", "_items", "_unfinished", "bytes")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._getters: list[asyncio.Future[None]] = []
        self._unfinished = 0
        self._finished: asyncio.Event | None = None  # only while join() waits
        self.bytes = 0

    def qsize(self) -> int:
        """Packets waiting."""
        return len(self._items)

    def empty(self) -> bool:
        """True when nothing waits."""
        return not self._items

    def put_nowait(self, item: Any) -> None:
        """Queue ``item`` and wake one waiting ``get``."""
        self._items.append(item)
        self._unfinished += 1
        self.bytes += packet_size(item)
        self._wake()

    async def put(self, item: Any) -> None:
        """Queue ``item`` (never waits: unbounded)."""
        self.put_nowait(item)

    def get_nowait(self) -> Any:
        """The oldest item; ``asyncio.QueueEmpty`` when there is none."""
        if not self._items:
            raise asyncio.QueueEmpty
        item = self._items.pop(0)
        self.bytes -= packet_size(item)
        return item

    async def get(self) -> Any:
        """The oldest item, waiting for one."""
        while not self._items:
            getter = asyncio.get_running_loop().create_future()
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()
                if getter in self._getters:
                    self._getters.remove(getter)
                elif not getter.cancelled():  # woken, then cancelled before it ran: pass the item on
                    self._wake()
                raise
        return self.get_nowait()

    def task_done(self) -> None:
        """One item taken earlier is processed (``join`` returns when all are)."""
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if self._unfinished == 0 and self._finished is not None:
            self._finished.set()
            self._finished = None

    async def join(self) -> None:
        """Wait until every item put has been taken and marked done."""
        if self._unfinished:
            if self._finished is None:
                self._finished = asyncio.Event()
            await self._finished.wait()

    def _wake(self) -> None:
        while self._getters and self._items:
            getter = self._getters.pop(0)
            if not getter.done():
                getter.set_result(None)
                return
