"""The committer alone: a change is saved before its event is emitted, and undone when the save fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sio_server.domain.errors import InterviewError
from sio_server.domain.model import InterviewConfig
from sio_server.interview import rules
from sio_server.interview.audio_queue import AudioQueue
from sio_server.interview.committer import Committer
from sio_server.interview.live import LiveSession
from sio_server.observability.metrics import Metrics
from sio_server.store.files import FileSessionStore
from tests.unit.test_service import FlakyStore


class StoredFirst:
    """Records events, checking that each one is already in the store when it is emitted."""

    def __init__(self, store: FileSessionStore) -> None:
        self.store = store
        self.events: list[str] = []

    async def emit(self, session_id: str, event: str, data: dict[str, Any]) -> None:
        stored = await self.store.load(session_id)
        assert any(e.seq == data["seq"] for e in stored.events), "emitted before saved"
        self.events.append(event)

    def backlog(self, session_id: str) -> int:
        return 0


async def test_saved_before_emitted_and_undone_on_a_failed_save(tmp_path: Path):
    store = FlakyStore(tmp_path / "data")
    await store.open()
    session = rules.new_session(InterviewConfig(), token_hash="0" * 64, mode="text")
    session.version = 1
    await store.save(session)
    live = LiveSession(session=session, audio=AudioQueue(2))
    emitter = StoredFirst(store)
    committer = Committer(store, emitter, Metrics())

    store.failing = True
    with pytest.raises(InterviewError) as err:
        await committer.commit_event(live, lambda s: rules.add_question(s, "Q1?", fallback=False))
    assert err.value.code == "store_unavailable"
    assert live.session.version == 1 and live.session.turns == [] and emitter.events == []

    store.failing = False
    event = await committer.commit_event(live, lambda s: rules.add_question(s, "Q1?", fallback=False))
    assert event.seq == 1 and emitter.events == ["question"] and live.session.version == 2
    assert (await store.load(live.id)).version == 2
