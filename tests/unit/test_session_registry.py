"""The session registry alone: the one socket <-> session map, supersede, release and owned tasks."""

from __future__ import annotations

from pathlib import Path

import pytest

from sio_server.cluster.leases import Leases
from sio_server.domain.model import InterviewConfig
from sio_server.interview import rules
from sio_server.interview.session_registry import SessionRegistry
from sio_server.observability.metrics import Metrics
from sio_server.store.files import FileSessionStore


class RecordingHost:
    """A SocketHost that records what the registry asked of the transport."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    async def join(self, sid: str, session_id: str) -> None:
        self.calls.append(("join", sid, session_id))

    async def leave(self, sid: str, session_id: str) -> None:
        self.calls.append(("leave", sid, session_id))

    async def supersede(self, sid: str, session_id: str) -> None:
        self.calls.append(("supersede", sid, session_id))


class CountingLeases(Leases):
    def __init__(self) -> None:
        self.released: list[str] = []

    async def release(self, session_id: str) -> None:
        self.released.append(session_id)


class RecordingHandler:
    """The registry's session handler: no listener; records the sessions restored from the store."""

    def __init__(self) -> None:
        self.restored_ids: list[str] = []

    def listener_for(self, session, audio, spend):
        return None

    def restored(self, live) -> None:
        self.restored_ids.append(live.id)


@pytest.fixture
async def registry(tmp_path: Path) -> SessionRegistry:
    store = FileSessionStore(tmp_path / "data")
    await store.open()
    handler = RecordingHandler()
    registry = SessionRegistry(store, CountingLeases(), Metrics(), 10)
    registry.handle_with(handler)
    return registry


async def saved_session(registry: SessionRegistry):
    session = rules.new_session(InterviewConfig(), token_hash="0" * 64, mode="text")
    session.version = 1
    await registry.store.save(session)
    return session


async def test_one_socket_per_session_and_the_older_one_is_superseded(registry):
    host = RecordingHost()
    registry.attach(host)
    live = registry.hold(await saved_session(registry))
    await registry.bind("a", live, join=True)
    assert registry.session_of("a") is live and registry.socket_of(live.id) == "a"
    await registry.bind("b", live, join=False)
    assert host.calls == [("join", "a", live.id), ("supersede", "a", live.id)]
    assert registry.session_of("a") is None and registry.session_of("b") is live
    assert await registry.unbind("a", leave=True) is None, "a superseded socket holds nothing"
    assert registry.socket_of(live.id) == "b"


async def test_a_session_leaves_memory_only_when_no_socket_holds_it(registry):
    live = registry.hold(await saved_session(registry))
    await registry.bind("a", live, join=False)
    registry.release(live)
    assert live.id in registry.live
    assert await registry.unbind("a", leave=False) is live
    assert live.id not in registry.live
    await registry.close()
    assert registry.leases.released == [live.id] and len(registry.tasks) == 0


async def test_a_loaded_session_is_reported_restored_once(registry):
    session = await saved_session(registry)
    first = await registry.get(session.id)
    again = await registry.get(session.id)
    assert first is again and registry.handler.restored_ids == [session.id]


async def test_hand_over_supersedes_the_socket_and_forgets_the_session(registry):
    host = RecordingHost()
    registry.attach(host)
    live = registry.hold(await saved_session(registry))
    await registry.bind("a", live, join=False)
    await registry.hand_over(live.id, wait=0)
    assert host.calls == [("supersede", "a", live.id)]
    assert registry.session_of("a") is None and live.id not in registry.live
    await registry.close()


async def test_a_resume_reads_the_session_once_and_holds_what_it_read(registry, monkeypatch):
    from sio_server.domain.tokens import hash_token, new_token
    from sio_server.store import files

    session = rules.new_session(InterviewConfig(), token_hash="", mode="text")
    token = new_token(session.session_id)
    session.token_hash = hash_token(token)
    session.version = 1
    await registry.store.save(session)
    registry.store.forget(session.id)  # as after a restart: nothing remembered
    reads = 0
    read_model = files.read_model

    async def counting(*args, **kwargs):
        nonlocal reads
        reads += 1
        return await read_model(*args, **kwargs)

    monkeypatch.setattr(files, "read_model", counting)
    live = await registry.authenticate(token)
    assert live is not None and live.id == session.id and reads == 1
    assert await registry.authenticate(new_token(session.session_id)) is None  # a wrong secret: no session
