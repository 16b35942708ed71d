"""The sessions this process holds: loading from the store, leases, and the one map socket ↔ session.

Every other part asks the registry which session a socket holds (and which
socket holds a session); nothing else keeps that map. What a socket *is* stays
in the transport, behind the small :class:`SocketHost` interface the registry
calls when a socket loses its session.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from ..aio.tasks import OwnedTasks
from ..cluster.leases import Leases, LeaseUnavailable
from ..domain.errors import InterviewError
from ..domain.ids import parse_session_id
from ..domain.model import Session
from ..observability.metrics import Metrics
from ..store.base import SessionStore
from .audio_budget import AudioBudget
from .audio_queue import AudioQueue
from .listening import AnswerListener
from .live import LiveSession
from .spend import SessionSpend
from .token_lookup import session_for_token

log = logging.getLogger(__name__)


class SocketHost(Protocol):
    """What the registry needs from the transport that holds the sockets."""

    async def join(self, sid: str, session_id: str) -> None:
        """Let socket ``sid`` receive the session's events."""
        ...

    async def leave(self, sid: str, session_id: str) -> None:
        """Stop socket ``sid`` receiving the session's events."""
        ...

    async def supersede(self, sid: str, session_id: str) -> None:
        """Tell socket ``sid`` that its session continues elsewhere, and drop it."""
        ...


class SessionHandler(Protocol):
    """What the registry asks of the parts built after it (the voice turns, the step runner) about a session."""

    def listener_for(self, session: Session, audio: AudioQueue, spend: SessionSpend) -> AnswerListener | None:
        """The STT listener of a session brought into memory (None when it does not listen)."""
        ...

    def restored(self, live: LiveSession) -> None:
        """A session loaded from the store is held here: run its pending step again."""
        ...


class _NoHandler:
    """The handler until one is bound: no listener, nothing to run (a registry on its own, in tests and bench)."""

    def listener_for(self, session: Session, audio: AudioQueue, spend: SessionSpend) -> AnswerListener | None:
        return None

    def restored(self, live: LiveSession) -> None:
        return None


class SessionRegistry:
    """Live sessions of this process, the sockets bound to them, and their leases.

    Built before the parts that use it; the :class:`SessionHandler` of the
    sessions it brings into memory is bound once by :meth:`handle_with`.
    ``spend_for`` makes a session's budgets.
    """

    def __init__(
        self,
        store: SessionStore,
        leases: Leases,
        metrics: Metrics,
        audio_queue_chunks: int,
        audio_budget: AudioBudget | None = None,
        spend_for: Callable[[Session], SessionSpend] | None = None,
    ) -> None:
        self.store = store
        self.leases = leases
        self.metrics = metrics
        self.audio_queue_chunks = audio_queue_chunks
        self.audio_budget = audio_budget
        self.handler: SessionHandler = _NoHandler()
        self.spend_for = spend_for or (lambda session: SessionSpend(audio_format=session.config.audio_format))
        self.live: dict[str, LiveSession] = {}
        self.tasks = OwnedTasks("registry")
        self.host: SocketHost | None = None
        self._socket_of: dict[str, str] = {}  # session id -> sid
        self._session_of: dict[str, str] = {}  # sid -> session id
        self._loading: dict[str, asyncio.Future[LiveSession | None]] = {}

    def handle_with(self, handler: SessionHandler) -> None:
        """Bind the handler of the sessions brought into memory (once, before the first one)."""
        if not isinstance(self.handler, _NoHandler):
            raise RuntimeError("the registry's session handler is bound already")
        self.handler = handler

    # -- sessions in memory -----------------------------------------------------

    def held(self, session_id: str) -> LiveSession | None:
        """The session this process holds by that id, or None (never loads)."""
        return self.live.get(session_id)

    def hold(self, session: Session) -> LiveSession:
        """Keep ``session`` in memory (a new one, or one loaded from the store)."""
        audio = AudioQueue(self.audio_queue_chunks, budget=self.audio_budget)
        spend = self.spend_for(session)
        live = LiveSession(session=session, audio=audio, listener=self.handler.listener_for(session, audio, spend), spend=spend)
        self.live[live.id] = live
        self.metrics.sessions_live.set(len(self.live))
        return live

    async def get(self, session_id: str, seen: Session | None = None) -> LiveSession | None:
        """The live session, restored from the store when this process does not hold it.

        ``seen``: the session as just read from the store (by :meth:`peek`); the
        store reads it again after the lease only when it may have changed.
        """
        if parse_session_id(session_id) is None:
            return None
        live = self.live.get(session_id)
        if live is not None:
            live.touched = time.monotonic()
            return live
        loading = self._loading.get(session_id)
        if loading is not None:
            return await asyncio.shield(loading)
        future: asyncio.Future[LiveSession | None] = asyncio.get_running_loop().create_future()
        self._loading[session_id] = future
        try:
            live = await self._load(session_id, seen)
            future.set_result(live)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._loading[session_id]
        if live is not None:
            self.handler.restored(live)
        return live

    async def _load(self, session_id: str, seen: Session | None) -> LiveSession | None:
        try:
            took_over = await self.leases.acquire(session_id)
        except LeaseUnavailable:
            raise InterviewError("session_busy", "the session is busy on another server; retry") from None
        if took_over:
            self.metrics.lease_takeovers.inc()
        session = await self.store.load(session_id) if seen is None else await self.store.reload(seen)
        if session is None:
            await self.leases.release(session_id)
            return None
        return self.hold(session)

    async def peek(self, session_id: str) -> Session | None:
        """The session as held here or as stored, without taking it over (for reads)."""
        if parse_session_id(session_id) is None:
            return None
        live = self.live.get(session_id)
        return live.session if live is not None else await self.store.load(session_id)

    async def authenticate(self, token: str) -> LiveSession | None:
        """The live session whose resume token is ``token``, or None."""
        # Check the token before taking the session over: a wrong token must not move it.
        session = await session_for_token(self.peek, token)  # the same work for unknown ids (not timeable)
        return await self.get(session.id, seen=session) if session is not None else None

    def release(self, live: LiveSession) -> None:
        """Drop ``live`` from memory when no socket holds it and no step runs."""
        if live.id not in self._socket_of and not live.busy and self.live.get(live.id) is live:
            del self.live[live.id]
            self.metrics.sessions_live.set(len(self.live))
            self.store.forget(live.id)
            self.close_listener(live)
            live.audio.discard()
            self.tasks.spawn(self.leases.release(live.id), name=f"lease-release:{live.id}")

    def forget(self, session_id: str) -> LiveSession | None:
        """Take a deleted session out of memory at once (its running step is cancelled)."""
        live = self.live.pop(session_id, None)
        if live is not None:
            live.deleted = True
            for task in (live.step_task, live.speaking):
                if task is not None:
                    task.cancel()
            self.metrics.sessions_live.set(len(self.live))
            self.close_listener(live)
        return live

    async def purge(self, session_id: str, now: datetime) -> bool:
        """Purge a stored session no socket holds, leaving its tombstone (its token is then ``expired``).

        False when a socket holds it or it is gone already.
        """
        if self.socket_of(session_id) is not None:
            return False
        self.forget(session_id)
        return await self.store.purge(session_id, now)

    def close_listener(self, live: LiveSession) -> None:
        """Stop the session's STT listener (in the background, owned by the registry)."""
        listener, live.listener = live.listener, None
        if listener is not None:
            self.tasks.spawn(listener.close(), name=f"listener-close:{live.id}")

    # -- sockets ------------------------------------------------------------------

    def attach(self, host: SocketHost) -> None:
        """Set the transport that holds the sockets."""
        self.host = host

    def socket_of(self, session_id: str) -> str | None:
        """The socket bound to the session, if any."""
        return self._socket_of.get(session_id)

    def session_of(self, sid: str) -> LiveSession | None:
        """The live session socket ``sid`` is bound to, or None."""
        session_id = self._session_of.get(sid)
        live = self.live.get(session_id) if session_id else None
        return live if live is not None and self._socket_of.get(live.id) == sid else None

    async def bind(self, sid: str, live: LiveSession, join: bool) -> None:
        """Make ``sid`` the session's one socket; an older socket is superseded."""
        old = self._socket_of.get(live.id)
        self._socket_of[live.id] = sid
        self._session_of[sid] = live.id
        if old is not None and old != sid:
            self._session_of.pop(old, None)
            if self.host is not None:
                await self.host.supersede(old, live.id)
        if join and self.host is not None:
            await self.host.join(sid, live.id)

    async def unbind(self, sid: str, leave: bool) -> LiveSession | None:
        """Forget what ``sid`` is bound to; the session leaves memory when idle. Returns it."""
        session_id = self._session_of.pop(sid, None)
        if session_id is None or self._socket_of.get(session_id) != sid:
            return None
        del self._socket_of[session_id]
        live = self.live.get(session_id)
        if leave and self.host is not None:
            await self.host.leave(sid, session_id)
        if live is not None:
            self.release(live)
        return live

    # -- leases -------------------------------------------------------------------

    async def hand_over(self, session_id: str, wait: float = 3.0) -> None:
        """Give a session up to another process: supersede its socket, let its step finish, forget it."""
        live = self.live.get(session_id)
        if live is None:
            await self.leases.release(session_id)
            return
        sid = self._socket_of.pop(session_id, None)
        if sid is not None:
            self._session_of.pop(sid, None)
            if self.host is not None:
                await self.host.supersede(sid, session_id)
        if live.busy and live.step_task is not None:
            done, _ = await asyncio.wait({live.step_task}, timeout=wait)
            if not done:
                live.step_task.cancel()
                await asyncio.gather(live.step_task, return_exceptions=True)
        if self.live.get(session_id) is live:
            live.step_task = None
            self.release(live)
        self.metrics.lease_handovers.inc()

    async def renew_leases(self) -> None:
        """Renew the leases of every held session; hand over the ones that are no longer ours."""
        for session_id in await self.leases.renew(list(self.live)):
            log.warning("session %s: lease lost; handing it over", session_id)
            await self.hand_over(session_id, wait=0)

    async def close(self) -> None:
        """Close every listener and finish the background work (lease releases)."""
        for live in self.live.values():
            self.close_listener(live)
        await self.tasks.wait()
        await self.tasks.close()
