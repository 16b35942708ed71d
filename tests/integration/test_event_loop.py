"""``EVENT_LOOP``: ``auto`` runs on uvloop when it is installed (the ``fast`` extra), else on asyncio's loop;
``asyncio`` and ``uvloop`` choose; ``uvloop`` without uvloop installed refuses to start. (The test extra installs
uvloop; the suite's servers run on ``asyncio``, tests/conftest.py.)"""

from __future__ import annotations

import subprocess
import sys

from tests.support.server import ROOT


def _shadow_uvloop(server) -> None:
    """Make uvloop unimportable for ``server``: a module named uvloop that raises ImportError, first on its path."""
    shadow = server.data_dir.parent / "no_uvloop"
    shadow.mkdir(parents=True, exist_ok=True)
    (shadow / "uvloop.py").write_text("raise ImportError('uvloop hidden by the test')\n")
    server.env["PYTHONPATH"] = f"{shadow}:{server.env.get('PYTHONPATH', '')}"


def test_auto_runs_on_uvloop_when_it_is_installed(server_factory):
    server = server_factory(env={"EVENT_LOOP": "auto"}).start()
    assert "loop=uvloop)" in server.log()


def test_auto_without_uvloop_runs_on_asyncio(server_factory):
    server = server_factory(env={"EVENT_LOOP": "auto"})
    _shadow_uvloop(server)
    server.start()
    assert "loop=asyncio)" in server.log()


def test_asyncio_is_chosen_with_uvloop_installed(server_factory):
    server = server_factory(env={"EVENT_LOOP": "asyncio"}).start()
    assert "loop=asyncio)" in server.log()


def test_uvloop_without_uvloop_refuses_to_start(server_factory):
    server = server_factory(env={"EVENT_LOOP": "uvloop"})
    _shadow_uvloop(server)
    done = subprocess.run([sys.executable, "-m", "sio_server"], env=server.env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert "not starting: EVENT_LOOP=uvloop but uvloop is not installed" in done.stderr
    assert "Traceback" not in done.stderr
