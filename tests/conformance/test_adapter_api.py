"""The two adapters expose one API and read one rule file (client_adapter/protocol.json)."""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
import tomllib

import pytest

from client_adapter import AudioBuffer, InterviewClient
from client_adapter.protocol import PROTOCOL, RETRYABLE_CODES
from tests.support.services import need

from .harness import ROOT

ADAPTER_DIR = ROOT / "client_adapter"
LISTING = """
import { InterviewClient } from "%s";
const names = Object.getOwnPropertyNames(InterviewClient.prototype);
process.stdout.write(JSON.stringify(names.filter((n) => n !== "constructor" && !n.startsWith("_"))));
"""


def test_both_adapters_expose_the_operations_of_protocol_json():
    need("node", shutil.which("node") is not None)
    source = LISTING % (ADAPTER_DIR / "interview-client.js").as_uri()
    out = subprocess.run(
        ["node", "--input-type=module", "-e", source], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
    )
    assert out.returncode == 0, out.stderr
    operations = PROTOCOL["operations"]
    assert set(json.loads(out.stdout)) == set(operations)
    missing = [py for py in operations.values() if not hasattr(InterviewClient, py)]
    assert missing == []


def test_retryable_and_rejected_codes_are_listed_only_in_protocol_json():
    assert RETRYABLE_CODES == set(PROTOCOL["retryable_codes"])
    for adapter in ("client.py", "interview-client.js"):
        source = (ADAPTER_DIR / adapter).read_text()
        for code in [*PROTOCOL["retryable_codes"], *PROTOCOL["rejected_codes"]]:
            assert f'"{code}"' not in source, (adapter, code)


def test_protocol_json_ships_with_the_package():
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert any(fnmatch.fnmatch("protocol.json", pattern) for pattern in package_data["client_adapter"])


def test_audio_buffer_keeps_at_most_its_bound_newest_first():
    buffer = AudioBuffer(max_bytes=10_000)
    for chunk in range(30):
        buffer.add({"index": 1 + chunk // 10, "chunk": chunk, "audio": bytes(1_000)})
    assert buffer.bytes == 10_000 and len(buffer) == 10 and buffer.dropped == 20
    assert [c["chunk"] for c in buffer.of(3)] == list(range(20, 30))
    assert buffer.of(1) == []
    buffer.clear()
    assert buffer.bytes == 0 and len(buffer) == 0


@pytest.mark.integration
async def test_a_reused_python_client_runs_two_interviews_in_a_row(server):
    client = InterviewClient(server.url)
    await client.connect()
    first = await client.start(language="en", mode="text", max_questions=2)
    finished = []
    for _ in range(2):
        while not (question := await client.next_question())["is_last"]:
            await client.answer_text(question["index"], "I owned the payments service and cut its latency by 40%.")
        await client.answer_text(question["index"], "I would ask how the team reviews code.")
        finished.append((client.session_id, await client.feedback(), [d["seq"] for _, d in client.events]))
        if len(finished) == 1:
            await client.start(language="en", mode="text", max_questions=3)
    await client.close()
    (first_id, first_feedback, first_seqs), (second_id, second_feedback, second_seqs) = finished
    assert first_id == first["session_id"] != second_id
    assert first_seqs == [1, 2, 3] and second_seqs == [1, 2, 3, 4]  # the new session's seq 1.. was not dropped
    assert client.duplicates_dropped == 0
    assert first_feedback["session_id"] == first_id and second_feedback["session_id"] == second_id
