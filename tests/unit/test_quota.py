"""The store quota: what may make room (idle never-answered sessions, then reports past the minimum retention),
what never does (a younger report, a session a socket holds), and the per-client cap on active sessions."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from sio_server.domain.errors import InterviewError
from sio_server.domain.model import InterviewConfig, utcnow
from sio_server.interview.quota import QuotaPolicy, client_hash
from sio_server.interview.build import ServicePolicy, build_service
from sio_server.interview.service import InterviewService
from sio_server.store.files import FileSessionStore
from sio_server.vendors.fallback import FallbackLLM
from sio_server.vendors.offline_llm import OfflineLLM

HOUR = 3600.0


class NoEmitter:
    async def emit(self, session_id, event, data) -> None:
        pass

    def backlog(self, session_id: str) -> int:
        return 0


@pytest.fixture
async def make_service(tmp_path: Path):
    made: list[InterviewService] = []

    async def make(**policy) -> InterviewService:
        store = FileSessionStore(tmp_path / "data")
        await store.open()
        quota = QuotaPolicy(**{"max_sessions": 3, "unanswered_ttl": HOUR, "min_retention": 24 * HOUR, **policy})
        made.append(build_service(store, FallbackLLM([OfflineLLM()]), NoEmitter(), ServicePolicy(quota=quota)))
        return made[-1]

    yield make
    for service in made:
        await service.close()


async def start_and_end(service: InterviewService, client: str | None = None) -> str:
    live, _ = await service.start(InterviewConfig(mode="text", max_questions=1), client)
    await service.end(live)
    await service.wait_feedback(live, timeout=10)
    service.release(live)
    return live.id


async def abandoned_start(service: InterviewService, client: str | None = None) -> str:
    """A session whose first question was asked and never answered, nobody connected to it."""
    live, _ = await service.start(InterviewConfig(mode="text"), client)
    service.ensure_step(live)
    async with asyncio.timeout(10):
        await asyncio.shield(live.step_task)  # the first question is asked
    assert live.session.turns and not live.session.answered
    service.release(live)
    return live.id


async def readable(service: InterviewService, session_id: str) -> bool:
    stored = await service.store.load(session_id)
    return stored is not None and (stored.feedback is not None or stored.status.value == "active")


def swept(service: InterviewService) -> float:
    return service.metrics.registry.get_sample_value("interview_swept_sessions_total", {"action": "quota"}) or 0


async def test_reports_past_the_minimum_retention_make_room_oldest_first(make_service):
    service = await make_service(min_retention=0)
    first, second = await start_and_end(service), await start_and_end(service)
    active, _ = await service.start(InterviewConfig(mode="text"))
    fourth, _ = await service.start(InterviewConfig(mode="text"))
    assert await service.store.count() == 3
    assert await service.store.load(first) is None and await service.store.tombstone(first) is not None
    assert await readable(service, second), "only as many as needed are purged"
    assert await readable(service, active.id) and await readable(service, fourth.id)
    assert swept(service) == 1


async def test_a_report_younger_than_the_minimum_retention_is_never_purged_for_a_newcomer(make_service):
    service = await make_service()
    reports = [await start_and_end(service), await start_and_end(service)]
    unanswered = await abandoned_start(service)
    files = sorted(p.name for p in service.store.root.iterdir())
    with pytest.raises(InterviewError) as refused:
        await service.start(InterviewConfig(mode="text"))
    assert refused.value.code == "store_full"
    assert sorted(p.name for p in service.store.root.iterdir()) == files, "nothing written, nothing purged"
    assert all([await readable(service, r) for r in reports])
    # a day later the idle unanswered session goes first, then the reports, oldest first
    later = utcnow() + timedelta(hours=25)
    await service.quota.make_room(now=later)
    assert await service.store.load(unanswered) is None and all([await readable(service, r) for r in reports])
    reports.append(await start_and_end(service))
    await service.quota.make_room(now=later)
    assert await service.store.load(reports[0]) is None and await readable(service, reports[1])


async def test_idle_never_answered_sessions_go_before_any_report(make_service):
    service = await make_service(min_retention=0)
    report = await start_and_end(service)
    unanswered = [await abandoned_start(service), await abandoned_start(service)]
    await service.quota.make_room(now=utcnow() + timedelta(seconds=HOUR + 1))
    assert await service.store.load(unanswered[0]) is None and await service.store.tombstone(unanswered[0]) is not None
    assert await readable(service, unanswered[1]) and await readable(service, report)
    # a never-answered session younger than the TTL is not taken: the old report goes instead
    unanswered.append(await abandoned_start(service))
    await service.quota.make_room(now=utcnow() + timedelta(seconds=1))
    assert await service.store.load(report) is None
    assert await readable(service, unanswered[1]) and await readable(service, unanswered[2])


async def test_a_session_a_socket_holds_is_never_taken(make_service):
    service = await make_service(min_retention=0)
    held = await start_and_end(service)
    await service.registry.bind("sid", await service.get(held), join=False)
    unanswered = await abandoned_start(service)
    await service.registry.bind("sid2", await service.get(unanswered), join=False)
    third, _ = await service.start(InterviewConfig(mode="text"))
    await service.registry.bind("sid3", third, join=False)
    with pytest.raises(InterviewError) as refused:
        await service.quota.make_room(now=utcnow() + timedelta(days=2))
    assert refused.value.code == "store_full"
    assert await readable(service, held) and await readable(service, unanswered) and await readable(service, third.id)


async def test_a_full_store_of_active_sessions_refuses_new_ones_and_writes_nothing(make_service):
    service = await make_service()
    for _ in range(3):
        await service.start(InterviewConfig(mode="text"))
    files = sorted(p.name for p in service.store.root.iterdir())
    with pytest.raises(InterviewError) as refused:
        await service.start(InterviewConfig(mode="text"))
    assert refused.value.code == "store_full"
    assert sorted(p.name for p in service.store.root.iterdir()) == files
    assert len(service.live) == 3


async def test_one_client_keeps_at_most_its_cap_of_active_sessions(make_service):
    service = await make_service(max_sessions=100, max_per_client=2)
    done = await start_and_end(service, "203.0.113.7")
    mine = [await abandoned_start(service, "203.0.113.7") for _ in range(2)]
    files = sorted(p.name for p in service.store.root.iterdir())
    with pytest.raises(InterviewError) as refused:
        await service.start(InterviewConfig(mode="text"), "203.0.113.7")
    assert refused.value.code == "too_many_sessions"
    assert sorted(p.name for p in service.store.root.iterdir()) == files
    other, _ = await service.start(InterviewConfig(mode="text"), "198.51.100.1")
    assert other.session.client_key == client_hash("198.51.100.1") != client_hash("203.0.113.7")
    # an ended interview does not count: ending one of the client's sessions lets it start again
    await service.end(await service.get(mine[0]))
    await service.wait_feedback(service.live[mine[0]], timeout=10)
    await service.start(InterviewConfig(mode="text"), "203.0.113.7")
    assert await readable(service, done)


async def test_the_client_count_survives_a_restart(make_service, tmp_path):
    service = await make_service(max_sessions=100, max_per_client=2)
    for _ in range(2):
        await abandoned_start(service, "2001:db8::1")
    again = await make_service(max_sessions=100, max_per_client=2)  # a new store on the same DATA_DIR
    assert await again.store.count_active(client_hash("2001:db8::1")) == 2
    with pytest.raises(InterviewError) as refused:
        await again.start(InterviewConfig(mode="text"), "2001:db8::1")
    assert refused.value.code == "too_many_sessions"
