"""The benchmarks still run: ``python -m bench --quick`` (small N, short windows; asserts no speed, writes no file)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.server import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.services, pytest.mark.timeout(900)]


def test_the_quick_benchmark_run_completes():
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    tail = (done.stdout + done.stderr)[-4000:]
    assert done.returncode == 0, tail
    assert "== done in" in done.stdout and "FAILED" not in done.stdout, tail
