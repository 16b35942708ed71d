"""A held session kept compact: its compressed JSON while nothing uses it, the same session when used again."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sio_server.cluster.leases import Leases
from sio_server.domain.model import Feedback, InterviewConfig, Speaking, utcnow
from sio_server.interview import rules
from sio_server.interview.audio_queue import AudioQueue
from sio_server.interview.committer import Committer
from sio_server.interview.live import LiveSession
from sio_server.interview.session_registry import SessionRegistry
from sio_server.interview.sweeper import Sweeper, SweepPolicy
from sio_server.observability.metrics import Metrics
from sio_server.store.files import FileSessionStore
from tests.unit.test_service import FlakyStore
from tests.unit.test_sweeper import NoEmitter


def answered_session():
    """A session with everything a turn can carry: an answered question with timings and speaking, the next one asked."""
    config = InterviewConfig(language="en", mode="voice", job_title="Engineer", answer_time_limit_s=120, max_questions=2)
    session = rules.new_session(config, token_hash="ab" * 32, mode="voice")
    rules.add_question(session, "Q1?", fallback=False, timings={"llm_first_token_ms": 12.5})
    speaking = Speaking(talk_s=3.5, units=9, unit="words", rate_per_min=154.2, fillers_heard={"um": 2}, hints=["slow"])
    rules.record_answer(session, 1, "an answer", timings={"stt_ms": 80.0}, speaking=speaking)
    rules.add_question(session, "Q2?", fallback=True)
    session.version = 3
    return session


def test_a_compacted_session_is_the_same_session_when_used_again():
    session = answered_session()
    expected = session.model_copy(deep=True)
    live = LiveSession(session=session, audio=AudioQueue(2))
    assert live.compact() and live.compacted
    assert live.id == expected.id and live.ended_at is None and live.compacted, "read without building the model"
    assert live.session == expected and not live.compacted
    assert live.session is live.session, "built once, then held until compacted again"


def test_an_ended_session_says_when_it_ended_while_compact():
    session = answered_session()
    rules.record_answer(session, 2, "second")
    rules.set_feedback(session, Feedback(overall_score=70, summary="ok", strengths=[], improvements=[], per_question=[]))
    live = LiveSession(session=session, audio=AudioQueue(2))
    ended_at = live.ended_at
    assert ended_at is not None and live.compact()
    assert live.ended_at == ended_at and live.compacted


async def test_a_session_in_use_is_not_compacted():
    live = LiveSession(session=answered_session(), audio=AudioQueue(2))
    async with live.lock:
        assert not live.compact()
    never = asyncio.get_running_loop().create_future()
    for task_field in ("step_task", "speaking"):
        task = asyncio.create_task(asyncio.wait([never]))
        setattr(live, task_field, task)
        assert not live.compact() and not live.compacted
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        setattr(live, task_field, None)
    live.closing[2] = never
    assert not live.compact()
    live.closing.clear()
    live.deleted = True
    assert not live.compact()


async def test_a_failed_save_of_a_compacted_session_leaves_it_as_it_was(tmp_path: Path):
    store = FlakyStore(tmp_path / "data")
    await store.open()
    session = answered_session()
    session.version = 1
    await store.save(session)
    expected = session.model_copy(deep=True)
    live = LiveSession(session=session, audio=AudioQueue(2))
    assert live.compact()
    committer = Committer(store, NoEmitter(), Metrics())
    store.failing = True
    try:
        await committer.commit(live, lambda s: rules.record_answer(s, 2, "lost"))
    except Exception as exc:
        assert getattr(exc, "code", None) == "store_unavailable"
    else:
        raise AssertionError("the save should have failed")
    assert live.session == expected


async def test_a_sweep_compacts_idle_held_sessions_and_reads_them_without_building_them(tmp_path: Path):
    store = FileSessionStore(tmp_path / "data")
    await store.open()
    metrics = Metrics()
    registry = SessionRegistry(store, Leases(), metrics, 10, lambda s, a, spend: None, lambda live: None)
    sweeper = Sweeper(registry, Committer(store, NoEmitter(), metrics), metrics, SweepPolicy(session_ttl=60))
    ended = answered_session()
    rules.record_answer(ended, 2, "second")
    rules.set_feedback(ended, Feedback(overall_score=70, summary="ok", strengths=[], improvements=[], per_question=[]))
    held = [registry.hold(answered_session()), registry.hold(ended)]
    busy = registry.hold(answered_session())
    for live in (*held, busy):
        await registry.bind("sid-" + live.id, live, join=False)
    async with busy.lock:
        await sweeper.sweep()
    assert all(live.compacted for live in held) and not busy.compacted
    assert metrics.swept.labels("compacted")._value.get() == 2
    await sweeper.sweep(now=utcnow() + timedelta(seconds=61))  # the ended one is past SESSION_TTL
    assert all(live.compacted for live in held), "the sweep read when they ended from the compact form"
    assert busy.compacted, "compacted by the next sweep once unlocked"
    assert all(registry.live[live.id] is live for live in (*held, busy)), "held by their sockets"
