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
PROCESS_ACTIONS = {"kill", "start", "restart", "terminate"}
STORE_DOWN = "the session store is down: this file stands where the sessions folder was\n"


def store_down(server: ServerProcess) -> None:
    """Make the file store unreadable: a file stands where the sessions folder was (reads fail with ENOTDIR)."""
    sessions = server.data_dir / "sessions"
    sessions.rename(sessions.with_name("sessions.down"))
    sessions.write_text(STORE_DOWN)


def store_up(server: ServerProcess) -> None:
    """Put the sessions folder back."""
    sessions = server.data_dir / "sessions"
    sessions.unlink()
    sessions.with_name("sessions.down").rename(sessions)


def server_action(server: ServerProcess, action: str) -> None:
    """A runner's server action: SIGKILL, start, SIGKILL and start again on the same port and data dir,
    SIGTERM and wait for the exit (the server sends its shutdown notice first); or the store down / up."""
    if action in PROCESS_ACTIONS:
        getattr(server, action)()
    else:
        {"store_down": store_down, "store_up": store_up}[action](server)


def server_groups(names: list[str]) -> dict[str, list[str]]:
    """The scenarios of ``names`` grouped by their ``server_env`` (one server per group), as JSON keys."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(json.dumps(SCENARIOS[name].get("server_env", {}), sort_keys=True), []).append(name)
    return groups


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
