"""``python -m sio_server`` runs on uvloop when it is installed (the ``fast`` extra), else on asyncio's loop."""

from __future__ import annotations

import importlib.util

from tests.support.server import ServerProcess


def test_the_server_runs_on_uvloop_when_it_is_installed(server: ServerProcess):
    expected = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    assert f"loop={expected})" in server.log()


def test_without_uvloop_the_server_runs_on_asyncio(server_factory):
    # sitecustomize-free way to make uvloop unimportable: a module named uvloop that raises ImportError
    server = server_factory()
    shadow = server.data_dir.parent / "no_uvloop"
    shadow.mkdir(parents=True, exist_ok=True)
    (shadow / "uvloop.py").write_text("raise ImportError('uvloop hidden by the test')\n")
    server.env["PYTHONPATH"] = f"{shadow}:{server.env.get('PYTHONPATH', '')}"
    server.start()
    assert "loop=asyncio)" in server.log()
