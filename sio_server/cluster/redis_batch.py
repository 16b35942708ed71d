"""Redis commands that many coroutines send at once, sent as one pipeline per round trip.

A resume storm asks for thousands of session leases within a second. Sent one by
one, each concurrent command takes a connection of its own from redis-py's pool
(which refuses more than 100 with "Too many connections") and pays its own round
trip. :class:`CommandBatch` queues the commands instead: one task owned by the
batch sends everything queued since its last round trip as one pipeline on one
connection, and answers each caller with its own reply (or error).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, RedisError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LuaScript:
    """A Lua script sent by its SHA-1 (``EVALSHA``); loaded when Redis does not know it yet."""

    text: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.text.encode()).hexdigest())


_Queued = tuple[tuple[Any, ...], "asyncio.Future[Any]"]


class CommandBatch:
    """Queue commands from any number of coroutines; send them in pipelines of everything queued meanwhile."""

    def __init__(self, redis: aioredis.Redis, scripts: tuple[LuaScript, ...] = ()) -> None:
        """``scripts``: the scripts :meth:`script` may run (loaded on a ``NOSCRIPT`` reply)."""
        self.redis = redis
        self.scripts = {s.sha: s for s in scripts}
        self._queue: list[_Queued] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.round_trips = 0

    async def command(self, *args: Any) -> Any:
        """Send one command (``"SET", key, value, ...``) with the next pipeline; its reply, or its RedisError."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((args, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._send_forever(), name="redis-command-batch")
        self._wake.set()
        return await future

    async def script(self, script: LuaScript, keys: list[str], args: list[Any]) -> Any:
        """Run ``script`` (one of the batch's ``scripts``) with ``keys`` and ``args``."""
        return await self.command("EVALSHA", script.sha, len(keys), *keys, *args)

    async def close(self) -> None:
        """Stop sending; commands still queued fail with a RedisError."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._fail(self._queue, RedisError("command batch closed"))
        self._queue = []

    async def _send_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queue = self._queue, []
            if not batch:
                continue
            try:
                await self._send(batch)
            except asyncio.CancelledError:
                self._fail(batch, RedisError("command batch closed"))
                raise
            except (RedisError, OSError) as exc:
                self._fail(batch, exc if isinstance(exc, RedisError) else RedisError(str(exc)))
            except Exception as exc:  # a bug here must not leave the batch's callers waiting forever
                log.exception("Redis command batch failed")
                self._fail(batch, RedisError(f"command batch failed: {exc!r}"))

    async def _send(self, batch: list[_Queued]) -> None:
        replies = await self._pipeline([args for args, _ in batch])
        missing = {args[1] for (args, _), reply in zip(batch, replies)
                   if isinstance(reply, NoScriptError) and args[0] == "EVALSHA" and args[1] in self.scripts}
        if missing:  # Redis restarted or flushed its scripts: load them and send those commands again
            for sha in missing:
                await self.redis.script_load(self.scripts[sha].text)
            again = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
            for i, reply in zip(again, await self._pipeline([batch[i][0] for i in again])):
                replies[i] = reply
        for (_, future), reply in zip(batch, replies):
            if future.done():  # its caller was cancelled
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def _pipeline(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        self.round_trips += 1
        async with self.redis.pipeline(transaction=False) as pipe:
            for args in commands:
                pipe.execute_command(*args)
            return await pipe.execute(raise_on_error=False)

    @staticmethod
    def _fail(batch: list[_Queued], exc: RedisError) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(exc)
