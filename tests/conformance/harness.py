"""Drives the conformance runners: server actions for them, and the Node runner as a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.support.server import ADMIN_TOKEN, ServerProcess  # ADMIN_TOKEN: what server_factory sets
from tests.support.services import need

from .runner import load_scenarios

ROOT = Path(__file__).resolve().parents[2]
NODE_RUNNER = Path(__file__).with_name("runner.mjs")
SCENARIOS = {s["name"]: s for s in load_scenarios()}
SERVER_ACTIONS = {"kill", "start", "restart"}


def server_action(server: ServerProcess, action: str) -> None:
    """SIGKILL, start, or SIGKILL and start again on the same port and data dir."""
    assert action in SERVER_ACTIONS, action
    getattr(server, action)()


def run_node(server: ServerProcess, names: list[str], timeout: float = 120.0) -> dict[str, dict[str, Any]]:
    """Run ``runner.mjs`` on ``names``, doing the server actions it asks for; its result line per scenario."""
    need("node", shutil.which("node") is not None)
    need("socket.io-client in node_modules (run npm ci)", (ROOT / "node_modules" / "socket.io-client").is_dir())
    proc = subprocess.Popen(
        ["node", str(NODE_RUNNER), server.url, ADMIN_TOKEN, *names],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    results: dict[str, dict[str, Any]] = {}
    try:
        assert proc.stdin is not None and proc.stdout is not None
        for line in proc.stdout:
            message = json.loads(line)
            if "control" in message:
                server_action(server, message["control"])
                proc.stdin.write(json.dumps({"done": message["control"]}) + "\n")
                proc.stdin.flush()
            else:
                results[message["scenario"]] = message
        proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    return results
