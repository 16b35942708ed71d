"""What ``python -m sio_server`` does as a process: what the supervisor imports, how the collector is tuned."""

from __future__ import annotations

import subprocess
import sys

from sio_server.devtools.process import ROOT


def test_a_supervisor_starts_its_workers_without_importing_aiohttp():
    """``python -m sio_server --workers N`` imports the settings and the supervisor, not the web server: the
    workers start (a restart after a crash) without waiting for the supervisor to import aiohttp first."""
    probe = "import sys, sio_server.__main__, sio_server.supervisor; print('aiohttp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"


def test_the_collector_is_tuned_once_the_server_has_started():
    """``tune_collector`` (run by ``serve`` after the app's start-up) freezes start-up's objects and raises the
    young generation's threshold: the cyclic collector was a third of a resume storm's CPU with the defaults."""
    probe = ("import gc, sio_server.__main__ as m; m.tune_collector(); "
             "print(gc.get_threshold()[0] == m.GC_YOUNG_THRESHOLD, gc.get_freeze_count() > 1000)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "True True"
