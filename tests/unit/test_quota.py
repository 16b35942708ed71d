"""The store quota: the oldest ended sessions make room; with none to purge, new sessions are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from sio_server.domain.errors import InterviewError
from sio_server.domain.model import InterviewConfig
from sio_server.interview.service import InterviewService
from sio_server.store.files import FileSessionStore
from sio_server.vendors.fallback import FallbackLLM
from sio_server.vendors.offline_llm import OfflineLLM


class NoEmitter:
    async def emit(self, session_id, event, data) -> None:
        pass

    def backlog(self, session_id: str) -> int:
        return 0


@pytest.fixture
async def service(tmp_path: Path):
    store = FileSessionStore(tmp_path / "data")
    await store.open()
    service = InterviewService(store, FallbackLLM([OfflineLLM()]), NoEmitter(), max_stored_sessions=3)
    yield service
    await service.close()
    await store.close()


async def start_and_end(service: InterviewService) -> str:
    live, _ = await service.start(InterviewConfig(mode="text", max_questions=1))
    await service.end(live)
    await service.wait_feedback(live, timeout=10)
    service.release(live)
    return live.id


async def test_the_oldest_ended_sessions_make_room(service: InterviewService):
    first, second = await start_and_end(service), await start_and_end(service)
    active, _ = await service.start(InterviewConfig(mode="text"))
    assert await service.store.count() == 3
    fourth, _ = await service.start(InterviewConfig(mode="text"))
    assert await service.store.count() == 3
    assert await service.store.load(first) is None and await service.store.tombstone(first) is not None
    assert await service.store.load(second) is not None, "only as many as needed are purged"
    assert await service.store.load(active.id) is not None and await service.store.load(fourth.id) is not None
    value = service.metrics.registry.get_sample_value("interview_swept_sessions_total", {"action": "quota"})
    assert value == 1


async def test_a_full_store_of_active_sessions_refuses_new_ones_and_writes_nothing(service: InterviewService):
    for _ in range(3):
        await service.start(InterviewConfig(mode="text"))
    files = sorted(p.name for p in service.store.root.iterdir())
    with pytest.raises(InterviewError) as refused:
        await service.start(InterviewConfig(mode="text"))
    assert refused.value.code == "store_full"
    assert sorted(p.name for p in service.store.root.iterdir()) == files
    assert len(service.live) == 3
