"""Leases asked for all at once (a resume storm) share Redis pipelines and a connection."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from sio_server.cluster.redis_leases import RedisLeases
from tests.support.cluster import RedisServer
from tests.support.services import need_program

N = 500  # more than redis-py's pool of 100 connections


async def _ignore(session_id: str) -> None:
    return None


async def test_a_storm_of_lease_takes_is_pipelined_and_every_lease_is_checked(tmp_path):
    """Before, each take borrowed a connection of its own: redis-py refused the 101st at once ("Too many
    connections"), which the lease read as Redis being down, letting that session through unchecked."""
    redis_server = RedisServer(need_program("redis-server"), tmp_path / "redis").start()
    leases = RedisLeases(redis_server.url, ttl=30)
    other = RedisLeases(redis_server.url, ttl=30, handover_wait=0.2)
    probe = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
    ids = [f"s{i}" for i in range(N)]
    try:
        await leases.open(_ignore)
        await other.open(_ignore)
        assert await asyncio.gather(*(leases.acquire(s) for s in ids)) == [False] * N
        holders = await probe.mget([leases.key(s) for s in ids])
        assert holders == [leases.process_id] * N
        assert leases.batch.round_trips <= 5
        assert await other.renew(ids[:3]) == ids[:3]  # not other's: reported lost, left with their holder
        assert await leases.renew(ids) == []
        trips = leases.batch.round_trips
        await asyncio.gather(*(leases.release(s) for s in ids))
        assert leases.batch.round_trips - trips <= 3
        assert await probe.exists(*(leases.key(s) for s in ids)) == 0
        assert await probe.script_flush() is True  # Redis forgets the scripts (a restart): loaded again
        assert await asyncio.gather(*(other.acquire(s) for s in ids[:10])) == [False] * 10
        assert await probe.mget([leases.key(s) for s in ids[:10]]) == [other.process_id] * 10
    finally:
        await probe.aclose()
        await leases.close()
        await other.close()
        redis_server.stop()
