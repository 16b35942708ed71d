"""What ``python -m sio_server`` does as a process: how the collector is tuned (the supervisor of ``--workers``:
tests/integration/test_workers.py)."""

from __future__ import annotations

import subprocess
import sys

from sio_server.devtools.process import ROOT


def test_the_collector_is_tuned_once_the_server_has_started():
    """``tune_collector`` (run by ``serve`` after the app's start-up) freezes start-up's objects and raises the
    young generation's threshold: the cyclic collector was a third of a resume storm's CPU with the defaults."""
    probe = ("import gc, sio_server.__main__ as m; m.tune_collector(); "
             "print(gc.get_threshold()[0] == m.GC_YOUNG_THRESHOLD, gc.get_freeze_count() > 1000)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "True True"
