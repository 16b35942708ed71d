"""The sweeper alone: abandoned sessions end, live state is freed after SESSION_TTL,
reports are kept for REPORT_RETENTION and then purged to a tombstone."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from sio_server.cluster.leases import Leases
from sio_server.domain.errors import InterviewError
from sio_server.domain.model import Feedback, InterviewConfig, Status, utcnow
from sio_server.domain.tokens import hash_token, new_token
from sio_server.interview import rules
from sio_server.interview.committer import Committer
from sio_server.interview.session_registry import SessionRegistry
from sio_server.interview.build import ServicePolicy, build_service
from sio_server.interview.sweeper import Sweeper, SweepPolicy
from sio_server.observability.metrics import Metrics
from sio_server.store.file_tombstones import bucket_width
from sio_server.store.files import FileSessionStore
from sio_server.vendors.fallback import FallbackLLM
from sio_server.vendors.offline_llm import OfflineLLM

TTL = 60.0
RETENTION = 3600.0
TOMBSTONE_RETENTION = 86400.0


class NoEmitter:
    async def emit(self, session_id, event, data) -> None:
        return None

    def backlog(self, session_id) -> int:
        return 0


@pytest.fixture
async def parts(tmp_path: Path) -> tuple[SessionRegistry, Sweeper]:
    store = FileSessionStore(tmp_path / "data")
    await store.open()
    metrics = Metrics()
    registry = SessionRegistry(store, Leases(), metrics, 10)
    committer = Committer(store, NoEmitter(), metrics)
    sweeper = Sweeper(registry, committer, metrics, SweepPolicy(session_ttl=TTL, abandoned_ttl=600, report_retention=RETENTION))
    return registry, sweeper


async def ended_session(registry: SessionRegistry) -> tuple[str, str]:
    """An interview that ended with feedback, saved; returns its id and token."""
    session = rules.new_session(InterviewConfig(max_questions=1), token_hash="", mode="text")
    token = new_token(session.session_id)
    session.token_hash = hash_token(token)
    rules.add_question(session, "Q1?", fallback=False)
    rules.record_answer(session, 1, "an answer")
    feedback = Feedback(overall_score=70, summary="ok", strengths=[], improvements=[], per_question=[])
    rules.set_feedback(session, feedback)
    session.version = 1
    await registry.store.save(session)
    return session.id, token


async def test_an_ended_report_outlives_the_session_ttl_and_is_purged_after_the_retention(parts):
    registry, sweeper = parts
    session_id, token = await ended_session(registry)
    live = await registry.get(session_id)
    ended_at = live.session.ended_at
    for after in (TTL, 2 * TTL):
        assert await sweeper.sweep(now=ended_at + timedelta(seconds=after)) == {"purged": 0, "ended": 0}
        assert session_id not in registry.live, "the live state is freed after SESSION_TTL"
        stored = await registry.store.load(session_id)
        assert stored is not None and stored.feedback is not None and stored.feedback.overall_score == 70
    assert await sweeper.sweep(now=ended_at + timedelta(seconds=RETENTION)) == {"purged": 1, "ended": 0}
    assert await registry.store.load(session_id) is None
    tombstone = await registry.store.tombstone(session_id)
    assert tombstone is not None and tombstone.token_hash == hash_token(token)
    assert "feedback" not in tombstone.model_dump_json()


async def test_a_session_held_by_a_socket_is_not_purged(parts):
    registry, sweeper = parts
    session_id, _ = await ended_session(registry)
    live = await registry.get(session_id)
    await registry.bind("sid", live, join=False)
    assert await sweeper.sweep(now=utcnow() + timedelta(seconds=2 * RETENTION)) == {"purged": 0, "ended": 0}
    assert session_id in registry.live and await registry.store.load(session_id) is not None


async def test_abandoned_sessions_are_ended_and_kept(parts):
    registry, sweeper = parts
    session = rules.new_session(InterviewConfig(), token_hash="0" * 64, mode="text")
    rules.add_question(session, "Q1?", fallback=False)
    session.version = 1
    await registry.store.save(session)
    assert await sweeper.sweep(now=utcnow() + timedelta(seconds=601)) == {"purged": 0, "ended": 1}
    stored = await registry.store.load(session.id)
    assert stored.status is Status.ENDED and stored.end_reason == "abandoned"
    assert session.id not in registry.live


async def test_a_purged_sessions_token_is_expired_and_a_wrong_one_is_not(tmp_path: Path):
    store = FileSessionStore(tmp_path / "data")
    await store.open()
    offline = OfflineLLM()
    service = build_service(store, FallbackLLM([offline]), NoEmitter(), ServicePolicy(sweep=SweepPolicy(report_retention=RETENTION)))
    session_id, token = await ended_session(service.registry)
    assert await service.sweep(now=utcnow() + timedelta(seconds=RETENTION + 1)) == {"purged": 1, "ended": 0}
    with pytest.raises(InterviewError) as err:
        await service.authenticate(token)
    assert err.value.code == "expired"
    assert await service.authenticate(f"{session_id}.not-the-secret") is None


async def test_the_periodic_sweep_is_owned_and_stopped(parts):
    registry, sweeper = parts
    sweeper.policy = SweepPolicy(session_ttl=TTL, abandoned_ttl=600, report_retention=0.001, interval=0.01)
    session_id, _ = await ended_session(registry)
    sweeper.start()
    try:
        async with asyncio.timeout(10):
            while await registry.store.tombstone(session_id) is None:
                await asyncio.sleep(0.01)
    finally:
        await sweeper.stop()
    assert sweeper._task is None


class CountingStore(FileSessionStore):
    """The file store, counting the session files it reads."""

    reads = 0

    async def _read(self, path):
        self.reads += 1
        return await super()._read(path)


async def saved(store, *, ended_ago: float | None = None, idle: float = 0.0) -> str:
    """A session saved as ended ``ended_ago`` seconds ago (or active, untouched for ``idle`` seconds), answered."""
    now = utcnow()
    session = rules.new_session(InterviewConfig(max_questions=3), token_hash="0" * 64, mode="text", now=now - timedelta(seconds=idle))
    rules.add_question(session, "Q1?", fallback=False)
    rules.record_answer(session, 1, "an answer")
    session.updated_at = now - timedelta(seconds=idle)
    if ended_ago is not None:
        session.status, session.ended_at = Status.ENDED, now - timedelta(seconds=ended_ago)
        session.updated_at = session.ended_at
    session.version = 1
    await store.save(session)
    return session.id


async def test_a_sweep_reads_only_the_sessions_due(tmp_path: Path):
    store = CountingStore(tmp_path / "data")
    await store.open()
    metrics = Metrics()
    registry = SessionRegistry(store, Leases(), metrics, 10)
    sweeper = Sweeper(registry, Committer(store, NoEmitter(), metrics), metrics, SweepPolicy(report_retention=RETENTION, abandoned_ttl=600, batch=4))
    for _ in range(150):  # ended recently or active and touched recently: not due on any clock
        await saved(store, ended_ago=60)
        await saved(store, idle=60)
    expired = [await saved(store, ended_ago=RETENTION + 60) for _ in range(5)]
    abandoned = [await saved(store, idle=700) for _ in range(3)]
    store.reads = 0
    assert await sweeper.sweep() == {"purged": 5, "ended": 3}
    assert store.reads == 5 + 3, "one read per purge and per abandoned session, none for the 300 others"
    assert all([await store.load(i) is None for i in expired]) and all([(await store.load(i)).status is Status.ENDED for i in abandoned])
    assert metrics.registry.get_sample_value("interview_stored_sessions") == 303
    assert metrics.registry.get_sample_value("interview_tombstones") == 5


async def test_tombstones_expire_and_then_the_token_is_unknown(tmp_path: Path):
    store = FileSessionStore(tmp_path / "data", tombstone_retention=TOMBSTONE_RETENTION)
    await store.open()
    policy = SweepPolicy(report_retention=RETENTION, tombstone_retention=TOMBSTONE_RETENTION)
    service = build_service(store, FallbackLLM([OfflineLLM()]), NoEmitter(), ServicePolicy(sweep=policy))
    session_id, token = await ended_session(service.registry)
    purge_time = utcnow() + timedelta(seconds=RETENTION + 1)
    assert await service.sweep(now=purge_time) == {"purged": 1, "ended": 0}
    with pytest.raises(InterviewError):
        await service.authenticate(token)
    await service.sweep(now=purge_time + timedelta(seconds=TOMBSTONE_RETENTION - 1))
    assert await store.tombstone(session_id) is not None, "kept for its retention"
    await service.sweep(now=purge_time + timedelta(seconds=TOMBSTONE_RETENTION + bucket_width(TOMBSTONE_RETENTION)))
    assert await store.tombstone(session_id) is None and await store.count_tombstones() == 0
    assert await service.authenticate(token) is None, "the same answer as any unknown token"
    swept = service.metrics.registry.get_sample_value("interview_swept_sessions_total", {"action": "tombstone_expired"})
    assert swept == 1 and service.metrics.registry.get_sample_value("interview_tombstones") == 0
    await service.close()


async def test_a_tombstone_past_its_retention_is_unknown_before_the_sweep_deletes_it(tmp_path: Path):
    store = FileSessionStore(tmp_path / "data")
    await store.open()
    policy = SweepPolicy(report_retention=RETENTION, tombstone_retention=TOMBSTONE_RETENTION)
    service = build_service(store, FallbackLLM([OfflineLLM()]), NoEmitter(), ServicePolicy(sweep=policy))
    session_id, token = await ended_session(service.registry)
    await store.purge(session_id, utcnow() - timedelta(seconds=TOMBSTONE_RETENTION))
    assert await store.tombstone(session_id) is not None
    assert await service.tombstone(session_id) is None and await service.authenticate(token) is None
    await service.close()
