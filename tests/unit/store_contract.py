"""The ``SessionStore`` contract, written once and run against every store."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from sio_server.domain.model import InterviewConfig, Status
from sio_server.interview import rules
from sio_server.store.base import Clock, SessionStore, VersionConflict

BAD_IDS = [
    "",
    "..",
    "../../etc/passwd",
    "/etc/passwd",
    "a" * 300,
    "00000000-0000-0000-0000-000000000000",
    "12345678-1234-1234-1234-123456789abc",  # not version 4
    "D3B07384-D113-4EC6-A1BB-34C4A1F6E4C2",  # upper case: not canonical
    "d3b07384-d113-4ec6-a1bb-34c4a1f6e4c2\x00",
    "d3b07384-d113-4ec6-a1bb-34c4a1f6e4c2/..",
    "d3b07384%2Fd113-4ec6-a1bb-34c4a1f6e4c2",
    "d3b07384-d113-4ec6-a1bb-34c4a1f6e4c\u0662",  # Arabic-Indic digit two
    "{d3b07384-d113-4ec6-a1bb-34c4a1f6e4c2}",
]


def make_session(questions: int = 0, max_questions: int = 5, client_key: str | None = None):
    session = rules.new_session(InterviewConfig(max_questions=max_questions), token_hash="0" * 64, mode="text")
    session.client_key = client_key
    for i in range(questions):
        rules.add_question(session, f"Q{i + 1}?", fallback=False)
        rules.record_answer(session, i + 1, f"answer {i + 1}")
    session.version = 1
    return session


class StoreContract:
    """Mix into a test class that provides a ``store`` fixture."""

    async def test_save_then_load_round_trips(self, store: SessionStore):
        session = make_session(questions=3)
        await store.save(session)
        loaded = await store.load(session.id)
        assert loaded is not None
        assert loaded.model_dump() == session.model_dump()

    async def test_load_missing_is_none(self, store: SessionStore):
        assert await store.load(str(uuid.uuid4())) is None

    async def test_versions_are_checked(self, store: SessionStore):
        session = make_session()
        await store.save(session)
        session.version = 2
        await store.save(session)
        stale = session.model_copy(deep=True)
        stale.version = 2  # based on version 1, but 2 is stored
        with pytest.raises(VersionConflict):
            await store.save(stale)
        fresh = make_session()
        fresh.version = 3  # first write must be version 1
        with pytest.raises(VersionConflict):
            await store.save(fresh)
        assert (await store.load(session.id)).version == 2

    async def test_concurrent_writers_with_the_same_base_one_wins(self, store: SessionStore):
        session = make_session()
        await store.save(session)
        writers = []
        for i in range(5):
            copy = session.model_copy(deep=True)
            copy.version = 2
            copy.end_reason = f"writer {i}"
            writers.append(copy)
        results = await asyncio.gather(*(store.save(w) for w in writers), return_exceptions=True)
        assert sum(r is None for r in results) == 1
        assert all(isinstance(r, VersionConflict) for r in results if r is not None)
        winner = writers[results.index(None)]
        assert (await store.load(session.id)).end_reason == winner.end_reason

    async def test_reload_is_the_stored_version_after_any_write(self, store: SessionStore):
        session = make_session(questions=1)
        await store.save(session)
        seen = await store.load(session.id)
        assert seen is not None
        again = await store.reload(seen)
        assert again is not None and again.model_dump() == seen.model_dump()
        newer = seen.model_copy(deep=True)
        rules.add_question(newer, "A newer question?", fallback=False)
        newer.version = 2
        await store.save(newer)
        current = await store.reload(seen)  # seen is version 1: the store must not hand it back
        assert current is not None and current.version == 2 and current.turns[-1].question == "A newer question?"
        await store.delete(session.id)
        assert await store.reload(seen) is None

    async def test_delete(self, store: SessionStore):
        session = make_session()
        await store.save(session)
        assert await store.delete(session.id) is True
        assert await store.load(session.id) is None
        assert await store.delete(session.id) is False

    async def test_count_is_the_number_of_stored_sessions(self, store: SessionStore):
        assert await store.count() == 0
        sessions = [make_session() for _ in range(3)]
        for session in sessions:
            await store.save(session)
        assert await store.count() == 3
        await store.delete(sessions[0].id)
        await store.purge(sessions[1].id, sessions[1].updated_at)
        assert await store.count() == 1, "deleted and purged sessions (tombstones) are not counted"

    async def test_list_summaries_filters_orders_and_limits(self, store: SessionStore):
        sessions = [make_session(questions=i) for i in range(3)]
        for i, s in enumerate(sessions):
            s.updated_at = s.updated_at + timedelta(seconds=i)
        sessions[0].status = Status.ENDED
        for s in sessions:
            await store.save(s)
        everything = await store.list_summaries()
        ids = [s.id for s in sessions]
        mine = [x for x in everything if x.session_id in ids]
        assert [x.session_id for x in mine] == [sessions[2].id, sessions[1].id, sessions[0].id]
        assert mine[0].questions_asked == 2
        active = [x.session_id for x in await store.list_summaries(Status.ACTIVE) if x.session_id in ids]
        assert active == [sessions[2].id, sessions[1].id]
        assert len(await store.list_summaries(limit=1)) == 1

    @pytest.mark.parametrize("bad_id", BAD_IDS)
    async def test_invalid_ids_are_never_found(self, store: SessionStore, bad_id: str):
        assert await store.load(bad_id) is None
        assert await store.delete(bad_id) is False

    async def test_ping(self, store: SessionStore):
        await store.ping()

    async def test_purge_leaves_a_tombstone_without_content(self, store: SessionStore):
        session = make_session(questions=2)
        session.token_hash = "ab" * 32
        await store.save(session)
        assert await store.tombstone(session.id) is None
        purged_at = session.created_at + timedelta(days=30)
        assert await store.purge(session.id, purged_at) is True
        assert await store.load(session.id) is None
        assert session.id not in [s.session_id for s in await store.list_summaries()]
        tombstone = await store.tombstone(session.id)
        assert tombstone is not None
        assert tombstone.model_dump() == {"session_id": session.id, "token_hash": "ab" * 32, "purged_at": purged_at}
        assert await store.purge(session.id, purged_at) is False, "nothing left to purge"
        assert await store.tombstone(str(uuid.uuid4())) is None

    @pytest.mark.parametrize("bad_id", BAD_IDS[:4])
    async def test_invalid_ids_have_no_tombstone(self, store: SessionStore, bad_id: str):
        assert await store.tombstone(bad_id) is None
        assert await store.purge(bad_id, make_session().created_at) is False

    async def test_due_names_the_sessions_due_on_each_clock_oldest_first(self, store: SessionStore):
        base = make_session().created_at
        asked = make_session()  # a question asked, never answered
        rules.add_question(asked, "Q1?", fallback=False)
        answered = make_session(questions=1)
        ended_old, ended_new = make_session(questions=1), make_session(questions=1)
        for minutes, session in ((10, asked), (20, answered), (30, ended_old), (40, ended_new)):
            session.updated_at = base + timedelta(minutes=minutes)
        for minutes, session in ((50, ended_old), (45, ended_new)):
            session.status, session.ended_at = Status.ENDED, base + timedelta(minutes=minutes)
        for session in (asked, answered, ended_old, ended_new):
            await store.save(session)
        late = base + timedelta(hours=1)
        assert await store.due(Clock.ABANDONED, late, 10) == [asked.id, answered.id]
        assert await store.due(Clock.UNANSWERED, late, 10) == [asked.id]
        assert await store.due(Clock.ENDED, late, 10) == [ended_new.id, ended_old.id], "by ended_at"
        assert await store.due(Clock.ENDED, late, 1) == [ended_new.id]
        assert await store.due(Clock.ENDED, base + timedelta(minutes=45), 10) == [ended_new.id], "the bound is inclusive"
        assert await store.due(Clock.ABANDONED, base + timedelta(minutes=15), 10) == [asked.id]
        assert await store.due(Clock.UNANSWERED, base, 10) == []
        asked.version = 2
        rules.record_answer(asked, 1, "an answer")
        await store.save(asked)
        assert await store.due(Clock.UNANSWERED, late, 10) == [], "answered since"
        await store.purge(ended_new.id, late)
        await store.delete(answered.id)
        assert await store.due(Clock.ENDED, late, 10) == [ended_old.id]
        assert await store.due(Clock.ABANDONED, late, 10) == [asked.id]

    async def test_count_active_counts_a_clients_active_sessions(self, store: SessionStore):
        mine = [make_session(client_key="a" * 32) for _ in range(3)]
        theirs = make_session(client_key="b" * 32)
        for session in (*mine, theirs, make_session()):
            await store.save(session)
        assert await store.count_active("a" * 32) == 3 and await store.count_active("b" * 32) == 1
        mine[0].status, mine[0].version = Status.ENDED, 2
        await store.save(mine[0])
        await store.delete(mine[1].id)
        assert await store.count_active("a" * 32) == 1
        assert await store.count_active("c" * 32) == 0
        assert (await store.load(theirs.id)).client_key == "b" * 32

    async def test_tombstones_expire_oldest_first_and_are_counted(self, store: SessionStore):
        start = await store.count_tombstones()
        sessions = [make_session() for _ in range(3)]
        base = sessions[0].created_at
        purged_at = [base, base + timedelta(days=1), base + timedelta(days=10)]
        for session, at in zip(sessions, purged_at):
            await store.save(session)
            await store.purge(session.id, at)
        assert await store.count_tombstones() == start + 3
        assert await store.expire_tombstones(base - timedelta(days=1), 100) == 0
        assert await store.expire_tombstones(base + timedelta(days=5), 100) == 2
        assert [await store.tombstone(s.id) is None for s in sessions] == [True, True, False]
        assert await store.count_tombstones() == start + 1
        assert await store.expire_tombstones(base + timedelta(days=5), 100) == 0, "nothing left that old"
        assert await store.expire_tombstones(base + timedelta(days=30), 100) == 1
        assert await store.tombstone(sessions[2].id) is None and await store.count_tombstones() == start
