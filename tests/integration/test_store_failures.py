"""A full disk under a real server: refused answers change nothing, readiness says so, work resumes after."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest
import socketio

from tests.support.services import need

pytestmark = [pytest.mark.integration, pytest.mark.services]
NS = "/interview"


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 1 MiB tmpfs for DATA_DIR (real ENOSPC when full)."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)], capture_output=True).returncode == 0
    need("a tmpfs mount (root)", mounted)
    yield mountpoint
    subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def ready(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


async def test_full_disk_refuses_answers_without_change_and_recovers(server_factory, small_disk):
    server = server_factory(data_dir=small_disk).start()
    sio = socketio.AsyncClient(reconnection=False)
    events: list[tuple[str, object]] = []
    sio.on("*", lambda event, data=None: events.append((event, data)), namespace=NS)
    await sio.connect(server.url, namespaces=[NS], transports=["websocket"])
    ack = await sio.call("start_interview", {"language": "en", "mode": "text", "max_questions": 2}, namespace=NS)
    for _ in range(100):
        if any(e == "question" for e, _ in events):
            break
        await asyncio.sleep(0.05)
    path = small_disk / "sessions" / f"{ack['session_id']}.json"
    before = path.read_bytes()

    filler = fill(small_disk)
    status, body = ready(server.url)
    assert status == 503 and body["checks"]["store"].startswith("error")
    refused = await sio.call("answer_text", {"index": 1, "text": "An answer the disk cannot take."}, namespace=NS)
    assert refused["ok"] is False and refused["error"]["code"] == "store_unavailable"
    assert path.read_bytes() == before
    assert [n for n in os.listdir(path.parent) if n.endswith(".tmp")] == []

    filler.unlink()
    assert ready(server.url)[0] == 200
    accepted = await sio.call("answer_text", {"index": 1, "text": "An answer the disk cannot take."}, namespace=NS)
    assert accepted == {"ok": True, "index": 1, "duplicate": False}
    for _ in range(100):
        if sum(e == "question" for e, _ in events) == 2:
            break
        await asyncio.sleep(0.05)
    stored = json.loads(path.read_text())
    assert stored["turns"][0]["answer"] == "An answer the disk cannot take." and len(stored["turns"]) == 2
    await sio.disconnect()


async def test_a_step_waiting_on_a_full_disk_is_saved_once_the_disk_frees(server_factory, small_disk):
    server = server_factory(data_dir=small_disk, env={"OFFLINE_LLM_DELAY": "0.5"}).start()
    sio = socketio.AsyncClient(reconnection=False)
    events: list[tuple[str, object]] = []
    sio.on("*", lambda event, data=None: events.append((event, data)), namespace=NS)
    await sio.connect(server.url, namespaces=[NS], transports=["websocket"])
    await sio.call("start_interview", {"language": "en", "mode": "text", "max_questions": 2}, namespace=NS)
    filler = fill(small_disk)  # the first question is being written; its save will fail
    for _ in range(100):
        if any(e == "error" for e, _ in events):
            break
        await asyncio.sleep(0.05)
    assert [d["code"] for e, d in events if e == "error"] == ["store_unavailable"]
    assert not any(e == "question" for e, _ in events), "nothing is emitted before it is saved"
    filler.unlink()
    for _ in range(200):
        if any(e == "question" for e, _ in events):
            break
        await asyncio.sleep(0.05)
    questions = [d for e, d in events if e == "question"]
    assert len(questions) == 1 and questions[0]["seq"] == 1
    await sio.disconnect()
