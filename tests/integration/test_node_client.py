"""The official socket.io-client (npm, pinned in package.json) run by Node: an interview with a restart."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.services import need

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "node" / "interview_client.mjs"


def test_node_socketio_client_interview_survives_a_restart(server):
    need("node", shutil.which("node") is not None)
    need("socket.io-client in node_modules (run npm ci)", (ROOT / "node_modules" / "socket.io-client").is_dir())
    proc = subprocess.Popen(
        ["node", str(SCRIPT), server.url], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    steps = []
    try:
        for line in proc.stdout:
            step = json.loads(line)
            steps.append(step)
            if step["step"] == "ready_for_restart":
                server.restart()
            if step["step"] in ("done", "failed"):
                break
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    done = steps[-1]
    assert done["step"] == "done", (steps, proc.stderr.read())
    assert proc.returncode == 0
    assert done["questions"] == [1, 2, 3] and done["seqs"] == 4
    assert done["resumes"] >= 1 and done["disconnects"] >= 1
    assert 0 <= done["score"] <= 100
    session = json.loads((server.data_dir / "sessions" / f"{done['session_id']}.json").read_text())
    assert [t["answer"] is not None for t in session["turns"]] == [True, True, True]
