"""Several processes: the Redis client manager, whose listener notices a lost subscription, and its health.

It builds on :mod:`.upstream.managers`, which owns the python-socketio side of
the listener (its seam, start and restart); this module only speaks Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import socketio

from ..settings import Settings
from .upstream import ListenerRedisManager, LocalManager, listener_alive

log = logging.getLogger(__name__)


class InterviewRedisManager(ListenerRedisManager):
    """``AsyncRedisManager`` whose listener notices a lost subscription and comes back quickly.

    The stock listener retries with a delay doubling up to 60 s and blocks
    forever on an idle connection; this one polls with a timeout, pings the
    server when idle, treats a silent connection as lost, retries at most
    every 2 s, and says whether it is subscribed right now (for ``/readyz``).
    """

    silence_limit = 15.0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.subscribed = False
        self.resubscriptions = 0

    async def listen_messages(self):  # type: ignore[override]
        """Pub/sub messages of the channel, forever; a lost or silent subscription is made again."""
        import redis.asyncio as aioredis  # only with REDIS_URL: redis stays out of a single process

        retry = 0.2
        while True:
            # A connection of the listener's own: the publishing side may replace
            # ``self.redis``/``self.pubsub`` at any time after a failed publish.
            client = aioredis.Redis.from_url(self.redis_url, **self.redis_options)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if self.resubscriptions:
                    log.info("Redis manager listener subscribed again")
                self.subscribed = True
                retry = 0.2
                last_seen = time.monotonic()
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is not None:
                        last_seen = time.monotonic()
                        yield message
                    elif time.monotonic() - last_seen > self.silence_limit:
                        raise ConnectionError("no answer from Redis on the pub/sub connection")
                    else:
                        await pubsub.ping()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.subscribed:
                    log.warning("Redis manager listener lost its subscription: %s", exc)
                self.subscribed = False
                self.resubscriptions += 1
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(retry)
            retry = min(retry * 2, 2.0)


def make_client_manager(settings: Settings) -> socketio.AsyncManager:
    """``AsyncRedisManager`` when ``REDIS_URL`` is set, else the in-process manager.

    The pub/sub connection gets no socket timeout: redis-py 8 applies a
    default one, and an idle ``listen()`` then times out every few seconds and
    resubscribes in a loop (reported by other projects). Connecting is still
    bounded, and TCP keepalive notices a dead peer.
    """
    if not settings.redis_url:
        return LocalManager()
    return InterviewRedisManager(
        settings.redis_url,
        channel="interview-socketio",
        logger=logging.getLogger("sio_server.redis_manager"),
        redis_options={"socket_timeout": None, "socket_connect_timeout": 3, "socket_keepalive": True},
    )


def listener_subscribed(sio: socketio.AsyncServer) -> bool:
    """Whether the Redis manager's listener runs and is subscribed right now."""
    return bool(listener_alive(sio)) and bool(getattr(sio.manager, "subscribed", False))
