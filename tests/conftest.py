"""Shared fixtures: settings on a temp ``DATA_DIR`` and real server processes."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sio_server.settings import Settings
from tests.fakes.fixtures import fake_deepgram, fake_elevenlabs, fake_gemini, fake_openai, refused_url  # noqa: F401
from tests.support.server import ADMIN_TOKEN, ServerProcess

# Every server process of the suite (and of the benchmarks' smoke run) runs on asyncio's loop, the default install's,
# although the test extra installs uvloop for the tests that run on it (EVENT_LOOP=uvloop, or auto).
os.environ.setdefault("EVENT_LOOP", "asyncio")

NO_OFFLINE_STT = {"OFFLINE_STT": "false"}
"""The test servers' default: the ``[offline-stt]`` extra is installed with the tests, and a server with no key
would then take English voice answers; the tests of offline recognition turn it on (``OFFLINE_STT=true``)."""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Offline settings on a temp data folder, with an admin token (and no offline STT: :data:`NO_OFFLINE_STT`)."""
    return Settings(
        _env_file=None, data_dir=str(tmp_path / "data"), admin_token=ADMIN_TOKEN, sweep_interval=3600, offline_stt="false"
    )


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Make (and finally kill) real server processes on temp data folders."""
    servers: list[ServerProcess] = []

    def make(env: dict[str, str] | None = None, data_dir: Path | None = None, port: int | None = None) -> ServerProcess:
        env = {"ADMIN_TOKEN": ADMIN_TOKEN, **NO_OFFLINE_STT, **(env or {})}
        server = ServerProcess(data_dir or tmp_path / f"data{len(servers)}", env=env, port=port)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.kill()


@pytest.fixture
def server(server_factory: Callable[..., ServerProcess]) -> ServerProcess:
    """A started server process."""
    return server_factory().start()
