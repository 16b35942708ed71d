"""The resume replay never skips silently: a socket whose CONNECT does not complete is logged and disconnected."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sio_server.domain.model import InterviewConfig
from sio_server.interview.build import build_service
from sio_server.observability.metrics import Metrics
from sio_server.settings import Settings
from sio_server.store.files import FileSessionStore
from sio_server.transport.namespace import InterviewNamespace
from sio_server.transport.upstream import InterviewSocketServer, LocalManager
from sio_server.vendors.fallback import FallbackLLM
from sio_server.vendors.offline_llm import OfflineLLM


class NeverConnected(LocalManager):
    """A manager for which the socket's CONNECT never completes."""

    async def wait_connected(self, sid: str, namespace: str, timeout: float) -> bool:
        return False


class RecordingServer(InterviewSocketServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.disconnected: list[str] = []

    async def disconnect(self, sid: str, namespace: str | None = None, ignore_queue: bool = False) -> None:
        self.disconnected.append(sid)


class Emitter:
    async def emit(self, session_id: str, event: str, data: dict[str, Any]) -> None:
        return None

    def backlog(self, session_id: str) -> int:
        return 0


async def test_a_replay_that_cannot_wait_for_the_connection_disconnects_the_socket(tmp_path: Path, caplog):
    store = FileSessionStore(tmp_path / "data")
    await store.open()
    offline = OfflineLLM()
    service = build_service(store, FallbackLLM([offline]), Emitter())
    sio = RecordingServer(async_mode="aiohttp", client_manager=NeverConnected())
    namespace = InterviewNamespace(service, Settings(_env_file=None, data_dir=str(tmp_path / "data")), Metrics())
    sio.register_namespace(namespace)
    live, token = await service.start(InterviewConfig(mode="text"))
    assert await service.resume_on_socket("sid-1", token) is live
    sent: list[str] = []

    async def record(sid: str, event: str, data: dict[str, Any]) -> None:
        sent.append(event)

    namespace._send = record  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="sio_server.transport.namespace"):
        await namespace._replay("sid-1", live, 0, 0.0)
    assert sio.disconnected == ["sid-1"] and sent == []
    assert any("did not finish connecting" in r.getMessage() for r in caplog.records)
    await namespace.close()
    await service.close()
