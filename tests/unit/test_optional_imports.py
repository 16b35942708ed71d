"""``import_socketio`` keeps python-socketio's optional client and Redis packages out of the server process.

Pins the upstream behaviour it relies on (each optional package imported inside
``try``/``except ImportError`` at module level): run in fresh interpreters, since
this test process has imported socketio long ago.
"""

from __future__ import annotations

import subprocess
import sys

from sio_server.devtools.process import ROOT

PROBE = """
import sys
from sio_server.transport.optional_imports import import_socketio
hidden = import_socketio(redis={redis})
import engineio.client, socketio.async_redis_manager
sio = socketio.AsyncServer(async_mode="aiohttp")
print(sorted(hidden))
print(sorted(n for n in ("requests", "websocket", "redis") if n in sys.modules))
print(engineio.client.requests is None, socketio.async_redis_manager.aioredis is None)
import requests, redis  # still importable by anyone who needs them later
print("ok")
"""


def probe(redis: bool) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE.format(redis=redis)], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True)
    return out.stdout.splitlines()


def test_without_redis_url_neither_the_sync_client_nor_redis_is_imported():
    hidden, loaded, flags, done = probe(redis=False)
    assert "requests" in hidden and "redis" in hidden
    assert loaded == "[]"
    assert flags == "True True", "upstream must treat a missing optional package as absent"
    assert done == "ok"


def test_with_redis_url_the_redis_manager_keeps_redis():
    hidden, loaded, flags, done = probe(redis=True)
    assert "redis" not in hidden and "requests" in hidden
    assert loaded == "['redis']"
    assert flags == "True False"
    assert done == "ok"


def test_python_m_sio_server_imports_socketio_only_inside_main():
    """``sio_server.__main__`` must not import socketio at module level, or ``main`` is too late to hide anything."""
    probe = "import sys, sio_server.__main__; print('socketio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"

