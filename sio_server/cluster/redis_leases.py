"""Session leases in Redis (``REDIS_URL``): see :mod:`sio_server.cluster.leases` for the design."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ..aio.tasks import OwnedTasks
from .leases import Leases, LeaseUnavailable
from .redis_batch import CommandBatch, LuaScript

log = logging.getLogger(__name__)
RELEASE_CHANNEL = "interview:release"
POLL = 0.05  # seconds between two looks at a lease another process holds
_RENEW = LuaScript("""
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end
""")
_RELEASE = LuaScript("""
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
""")
ALIVE_PREFIX = "interview:alive:"
# 1: the lease was free and is ours; 2: it was ours already (renewed); 3: its holder's liveness key is gone
# (the holder died): taken at once; 0: a live process holds it. One script, so nothing changes between the reads.
# (The liveness key is read by name, not passed in KEYS: standalone Redis, as everywhere in this module.)
_TAKE = LuaScript("""
local holder = redis.call('get', KEYS[1])
if not holder then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if holder == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return 2 end
if redis.call('exists', ARGV[3] .. holder) == 0 then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 3 end
return 0
""")


class RedisLeases(Leases):
    """Leases in Redis: ``interview:lease:<session id>`` holds the owner's process id.

    Each process also keeps ``interview:alive:<process id>`` while it runs (set for ``liveness_ttl``,
    renewed every third of it, deleted at a clean close). A lease whose holder's liveness key is gone
    is taken at once: when a process dies, its sessions move within ``liveness_ttl`` of a client's
    reconnect instead of the lease's whole ``ttl``.

    Takes, releases and renewals go through one :class:`~.redis_batch.CommandBatch`: the leases asked for at
    once (a resume storm) share a pipeline and a connection instead of one connection each.
    """

    def __init__(self, url: str, ttl: float = 5.0, handover_wait: float | None = None, liveness_ttl: float = 1.5) -> None:
        self.url = url
        self.ttl_ms = int(ttl * 1000)
        self.liveness_ttl = liveness_ttl
        self._liveness: asyncio.Task[None] | None = None
        self.handover_wait = handover_wait if handover_wait is not None else ttl + 1.0
        self.process_id = f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(4)}"
        self.redis = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True)
        self.batch = CommandBatch(self.redis, (_TAKE, _RENEW, _RELEASE))
        self._listener: asyncio.Task[None] | None = None
        self._on_release: Callable[[str], Awaitable[None]] | None = None
        self._handovers = OwnedTasks("lease-handover")
        self.healthy = False
        self.takeovers = 0

    @staticmethod
    def key(session_id: str) -> str:
        """The Redis key of a session's lease."""
        return f"interview:lease:{session_id}"

    @property
    def alive_key(self) -> str:
        """The Redis key that says this process is alive."""
        return ALIVE_PREFIX + self.process_id

    async def open(self, on_release_request: Callable[[str], Awaitable[None]]) -> None:
        """Say this process is alive, and start the liveness renewal and the release-request listener."""
        self._on_release = on_release_request
        await self._say_alive()
        self._liveness = asyncio.create_task(self._keep_alive(), name="lease-liveness")
        self._listener = asyncio.create_task(self._listen(), name="lease-release-listener")

    async def close(self) -> None:
        """Stop the listener and the liveness renewal, drop the liveness key, close the connections."""
        for task in (self._listener, self._liveness):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._handovers.close()
        await self.batch.close()
        with contextlib.suppress(RedisError, OSError):
            await self.redis.delete(self.alive_key)  # our sessions may be taken at once now
        await self.redis.aclose()

    async def _say_alive(self) -> None:
        try:
            await self.redis.set(self.alive_key, "1", px=int(self.liveness_ttl * 1000))
        except RedisError as exc:
            log.warning("liveness key not renewed, Redis unavailable: %s", exc)

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self.liveness_ttl / 3)
            await self._say_alive()

    async def _listen(self) -> None:
        delay = 0.2
        while True:
            pubsub = None
            try:
                # No socket timeout on the subscriber: an idle pub/sub read must wait (redis-py 8 defaults break it).
                client = aioredis.Redis.from_url(self.url, socket_timeout=None, socket_connect_timeout=2,
                                                 socket_keepalive=True, decode_responses=True)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(RELEASE_CHANNEL)
                self.healthy = True
                delay = 0.2
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is None:
                        await client.ping()  # notice a dead connection within seconds
                        continue
                    if message.get("type") == "message" and self._on_release is not None:
                        session_id = str(message["data"])
                        self._handovers.spawn(self._on_release(session_id), name=f"handover:{session_id}")
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self.healthy = False
                log.warning("lease listener lost Redis (%s); reconnecting in %.1fs", exc, delay)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def acquire(self, session_id: str) -> bool:
        """Take the lease; when another process holds it, ask for it and wait for hand-over or expiry.

        Returns True when the lease changed hands (a take-over), False when it
        was free or already ours. Raises :class:`LeaseUnavailable` when the
        holder keeps it. With Redis down, ownership degrades to the store's
        optimistic versions and this returns False.
        """
        key = self.key(session_id)
        deadline = time.monotonic() + self.handover_wait
        asked = False
        try:
            while True:
                taken = await self.batch.script(_TAKE, [key], [self.process_id, self.ttl_ms, ALIVE_PREFIX])
                if taken == 1 or taken == 3:
                    took_over = asked or taken == 3
                    if took_over:
                        self.takeovers += 1
                    return took_over
                if taken == 2:
                    return False
                if not asked:
                    await self.redis.publish(RELEASE_CHANNEL, session_id)
                    asked = True
                if time.monotonic() > deadline:
                    raise LeaseUnavailable(f"session {session_id} is held by another process")
                await asyncio.sleep(POLL)
        except RedisError as exc:
            log.warning("lease of session %s not checked, Redis unavailable: %s", session_id, exc)
            return False

    async def release(self, session_id: str) -> None:
        """Delete the lease if it is still ours."""
        with contextlib.suppress(RedisError):
            await self.batch.script(_RELEASE, [self.key(session_id)], [self.process_id])

    async def renew(self, session_ids: list[str]) -> list[str]:
        """Extend our leases (in one pipeline); returns the sessions whose lease is no longer ours."""
        renewed = await asyncio.gather(
            *(self.batch.script(_RENEW, [self.key(s)], [self.process_id, self.ttl_ms]) for s in session_ids),
            return_exceptions=True,
        )
        # Expired while Redis was away, or taken over: try to take those back if they are free.
        gone = [s for s, ok in zip(session_ids, renewed) if ok == 0]
        retaken = await asyncio.gather(
            *(self.batch.command("SET", self.key(s), self.process_id, "NX", "PX", self.ttl_ms) for s in gone),
            return_exceptions=True,
        )
        failed = next((r for r in (*renewed, *retaken) if isinstance(r, BaseException)), None)
        if failed is not None:
            if not isinstance(failed, (RedisError, OSError)):
                raise failed
            log.warning("lease renewal failed, Redis unavailable: %s", failed)
        return [s for s, ok in zip(gone, retaken) if ok is None]

    async def check(self) -> str:
        """'ok' when Redis answers and the release listener is subscribed."""
        try:
            await self.redis.ping()
        except RedisError as exc:
            return f"error: {exc}"
        if not self.healthy:
            return "error: release listener not subscribed"
        return "ok"
