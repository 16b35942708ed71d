"""The interview service driven without a socket: persistence, restarts, failures."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from sio_server.domain.errors import InterviewError
from sio_server.domain.model import InterviewConfig, PendingStep, Status
from sio_server.interview.build import ServicePolicy, build_service
from sio_server.interview.service import InterviewService
from sio_server.store.base import StoreError
from sio_server.store.files import FileSessionStore
from sio_server.vendors.fallback import FallbackLLM
from sio_server.vendors.offline_llm import OfflineLLM
from tests.support.waiting import wait_until


class RecordingEmitter:
    """Records events and checks that every ``seq`` event was saved before it was emitted."""

    def __init__(self, store: FileSessionStore) -> None:
        self.store = store
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def backlog(self, session_id: str) -> int:
        return 0

    async def emit(self, session_id: str, event: str, data: dict[str, Any]) -> None:
        if "seq" in data:
            stored = await self.store.load(session_id)
            assert stored is not None and any(e.seq == data["seq"] for e in stored.events), "emitted before saved"
        self.events.append((session_id, event, data))

    def named(self, name: str) -> list[dict[str, Any]]:
        return [d for _, e, d in self.events if e == name]


class FlakyStore(FileSessionStore):
    """A file store whose saves fail while ``failing`` is set."""

    failing = False

    async def save(self, session):
        if self.failing:
            raise StoreError("disk full (simulated)")
        await super().save(session)


class BrokenLLM:
    name = "broken"
    offline = False

    async def stream_question(self, request):
        raise ConnectionError("vendor down")
        yield ""  # pragma: no cover

    async def feedback(self, request):
        raise ConnectionError("vendor down")


async def make_service(tmp_path: Path, llm=None, store=None) -> tuple[InterviewService, RecordingEmitter]:
    store = store or FileSessionStore(tmp_path / "data")
    await store.open()
    emitter = RecordingEmitter(store)
    chain = FallbackLLM([llm, OfflineLLM()] if llm is not None else [OfflineLLM()])
    return build_service(store, chain, emitter, ServicePolicy(store_retry_delay=0.01)), emitter


async def settle(service: InterviewService) -> None:
    for _ in range(200):
        if not any(live.busy for live in service.live.values()):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("steps did not finish")


async def test_whole_interview_through_the_service(tmp_path):
    service, emitter = await make_service(tmp_path)
    live, token = await service.start(InterviewConfig(language="en", max_questions=3, job_title="Backend Engineer"))
    await service.registry.bind("socket", live, join=False)  # keep it in memory
    service.ensure_step(live)
    for index in (1, 2, 3):
        await settle(service)
        assert live.session.turns[-1].index == index
        outcome = await service.answer(live, index, f"In my last role I led a migration, answer {index}.")
        assert not outcome.duplicate
    await settle(service)
    assert live.session.status is Status.ENDED
    questions = emitter.named("question")
    assert [q["index"] for q in questions] == [1, 2, 3]
    assert [q["is_last"] for q in questions] == [False, False, True]
    assert [q["seq"] for q in questions] == [1, 2, 3]
    feedback = emitter.named("feedback")
    assert len(feedback) == 1 and feedback[0]["seq"] == 4
    assert 0 <= feedback[0]["overall_score"] <= 100
    assert token not in (tmp_path / "data" / "sessions" / f"{live.id}.json").read_text()


async def test_duplicate_answer_is_acked_and_changes_nothing(tmp_path):
    service, _ = await make_service(tmp_path)
    live, _ = await service.start(InterviewConfig(max_questions=2))
    await service.registry.bind("s", live, join=False)
    service.ensure_step(live)
    await settle(service)
    await service.answer(live, 1, "first")
    await settle(service)
    version = live.session.version
    again = await service.answer(live, 1, "changed my mind")
    assert again.duplicate and live.session.version == version and live.session.turns[0].answer == "first"


async def test_pending_question_is_finished_once_after_a_restart(tmp_path):
    store = FileSessionStore(tmp_path / "data")
    service, _ = await make_service(tmp_path, store=store)
    live, token = await service.start(InterviewConfig(max_questions=3))
    await service.registry.bind("s", live, join=False)
    service.ensure_step(live)
    await settle(service)
    # The answer is saved, then the process dies before the next question exists.
    service.ensure_step = lambda live: None  # type: ignore[method-assign]
    await service.answer(live, 1, "answer one")
    assert live.session.pending is PendingStep.QUESTION

    restarted, emitter = await make_service(tmp_path)
    resumed = await restarted.authenticate(token)
    assert resumed is not None
    await restarted.registry.bind("s2", resumed, join=False)
    await settle(restarted)
    assert [t.index for t in resumed.session.turns] == [1, 2]
    assert [q["index"] for q in emitter.named("question")] == [2]
    again = await restarted.get(resumed.id)
    restarted.ensure_step(again)
    await settle(restarted)
    assert [t.index for t in (await store.load(live.id)).turns] == [1, 2]


async def test_wrong_token_is_not_accepted(tmp_path):
    service, _ = await make_service(tmp_path)
    live, token = await service.start(InterviewConfig())
    assert await service.authenticate(token) is live
    assert await service.authenticate(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert await service.authenticate("not-a-token") is None
    assert await service.authenticate(f"{live.id}.") is None


async def test_store_failure_refuses_the_answer_and_keeps_memory_consistent(tmp_path):
    store = FlakyStore(tmp_path / "data")
    service, emitter = await make_service(tmp_path, store=store)
    live, _ = await service.start(InterviewConfig(max_questions=2))
    await service.registry.bind("s", live, join=False)
    service.ensure_step(live)
    await settle(service)
    before = live.session.model_dump()
    store.failing = True
    with pytest.raises(InterviewError) as err:
        await service.answer(live, 1, "lost?")
    assert err.value.code == "store_unavailable"
    assert live.session.model_dump() == before
    store.failing = False
    assert not (await service.answer(live, 1, "saved now")).duplicate


async def test_step_retries_while_the_store_is_down(tmp_path):
    store = FlakyStore(tmp_path / "data")
    service, emitter = await make_service(tmp_path, store=store)
    live, _ = await service.start(InterviewConfig(max_questions=2))
    await service.registry.bind("s", live, join=False)
    store.failing = True
    service.ensure_step(live)
    await wait_until(lambda: any(d["code"] == "store_unavailable" for d in emitter.named("error")))
    assert live.session.turns == [] and live.busy
    store.failing = False
    await settle(service)
    assert len(live.session.turns) == 1 and emitter.named("question")[0]["seq"] == 1


async def test_vendor_failure_uses_the_offline_fallback(tmp_path):
    service, emitter = await make_service(tmp_path, llm=BrokenLLM())
    live, _ = await service.start(InterviewConfig(language="en", max_questions=1))
    await service.registry.bind("s", live, join=False)
    service.ensure_step(live)
    await settle(service)
    assert emitter.named("question")[0]["fallback"] is True
    assert any(d["code"] == "llm_fallback" for d in emitter.named("warning"))
    await service.answer(live, 1, "an answer")
    await settle(service)
    assert emitter.named("feedback")[0]["fallback"] is True


async def test_end_early_gives_feedback_and_idle_sessions_leave_memory(tmp_path):
    service, emitter = await make_service(tmp_path)
    live, _ = await service.start(InterviewConfig(max_questions=5))
    service.ensure_step(live)
    await settle(service)
    assert live.id not in service.live  # no socket and no step: dropped from memory
    live = await service.get(live.id)
    await service.end(live)
    feedback = await service.wait_feedback(live, 5)
    assert live.session.status is Status.ENDED and live.session.end_reason == "ended_by_candidate"
    assert feedback.per_question == [] or all(q.index == 1 for q in feedback.per_question)
    with pytest.raises(InterviewError) as err:
        await service.answer(live, 1, "too late")
    assert err.value.code == "session_ended"


async def test_sweep_ends_abandoned_and_purges_expired(tmp_path):
    from datetime import timedelta

    from sio_server.domain.model import utcnow

    service, _ = await make_service(tmp_path)
    old, _ = await service.start(InterviewConfig())
    fresh, _ = await service.start(InterviewConfig())
    service.release(old)
    service.release(fresh)
    result = await service.sweep(session_ttl=3600, abandoned_ttl=60, now=utcnow() + timedelta(seconds=120))
    assert result == {"purged": 0, "ended": 2}
    result = await service.sweep(session_ttl=3600, abandoned_ttl=60, now=utcnow() + timedelta(hours=2), report_retention=3600)
    assert result == {"purged": 2, "ended": 0}
    assert await service.store.list_summaries() == []
    assert service.live == {}


async def test_a_wrong_token_does_not_load_or_take_over_the_session(tmp_path):
    service, _ = await make_service(tmp_path)
    live, token = await service.start(InterviewConfig())
    service.release(live)
    assert live.id not in service.live
    wrong = f"{live.id}.not-the-secret"
    assert await service.authenticate(wrong) is None
    assert live.id not in service.live, "a wrong token must not bring the session into this process"
    assert (await service.authenticate(token)).id == live.id


async def test_sessions_leaving_memory_leave_no_cache_behind(tmp_path):
    service, _ = await make_service(tmp_path)
    lives = [(await service.start(InterviewConfig()))[0] for _ in range(3)]
    assert set(service.store._versions) == {live.id for live in lives}
    for live in lives:
        service.release(live)
    await service.store.list_summaries()
    assert service.live == {} and service.store._versions == {}
    again = await service.get(lives[0].id)  # reloaded: its version is learnt from the file again
    await service.end(again)
    assert (await service.store.load(again.id)).version == 2


async def test_audio_goes_through_the_service_which_refuses_it_in_text_mode(tmp_path):
    service, _ = await make_service(tmp_path)  # no STT: every interview runs in text mode
    live, _ = await service.start(InterviewConfig(language="en", mode="voice"))
    assert live.session.mode == "text" and live.listener is None
    with pytest.raises(InterviewError) as refused:
        service.hear(live, b"\0" * 320)
    assert refused.value.code == "text_mode" and len(live.audio) == 0
    assert service.metrics.registry.get_sample_value("interview_audio_dropped_chunks_total") == 1
    await service.close()
