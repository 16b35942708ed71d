"""The two adapters expose one API, read one rule file (client_adapter/protocol.json) and apply its rules alike."""

from __future__ import annotations

import fnmatch
import io
import json
import re
import shutil
import subprocess
import tokenize
import tomllib

import pytest

from client_adapter import AudioBuffer, InterviewClient
from client_adapter.protocol import PROTOCOL, backoff_ms, refusal_action, shutdown_delay_ms
from tests.support.services import need

from .harness import ROOT

ADAPTER_DIR = ROOT / "client_adapter"
PY_SOURCES = sorted(ADAPTER_DIR.glob("*.py"))
JS_SOURCES = sorted(ADAPTER_DIR.glob("*.js"))
MAX_LINES = 400
# The rules of protocol.json each adapter must read (not restate).
RULE_KEYS = (
    "resume", "transports", "connect_timeout_ms", "request_timeout_ms", "reconnect", "after_server_disconnect_ms",
    "shutdown", "refusals", "request_retry", "audio", "superseded_code", "terminal_states",
)
LISTING = """
import { InterviewClient } from "%s";
const names = new Set();
for (let p = InterviewClient.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
  for (const n of Object.getOwnPropertyNames(p)) if (n !== "constructor" && !n.startsWith("_")) names.add(n);
}
process.stdout.write(JSON.stringify([...names]));
"""


def node(source: str) -> str:
    """Run an ES module ``source`` in Node from the repository root; its stdout."""
    need("node", shutil.which("node") is not None)
    out = subprocess.run(
        ["node", "--input-type=module", "-e", source], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_both_adapters_expose_the_operations_of_protocol_json():
    names = json.loads(node(LISTING % (ADAPTER_DIR / "interview-client.js").as_uri()))
    operations = PROTOCOL["operations"]
    assert set(names) == set(operations)
    missing = [py for py in operations.values() if not hasattr(InterviewClient, py)]
    assert missing == []


def test_each_adapter_file_is_under_400_lines():
    sizes = {p.name: len(p.read_text().splitlines()) for p in [*PY_SOURCES, *JS_SOURCES]}
    assert all(n < MAX_LINES for n in sizes.values()), sizes


def _literals(path) -> tuple[set[str], set[str]]:
    """The string and number literals of a Python or JS source (comments and docstrings left out)."""
    text = path.read_text()
    if path.suffix == ".py":
        strings, numbers = set(), set()
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.STRING and not tok.string.startswith(('"""', "'''")):
                strings.add(tok.string.strip("\"'"))
            elif tok.type == tokenize.NUMBER:
                numbers.add(tok.string)
        return strings, numbers
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)
    strings = {m[1] or m[2] for m in re.finditer(r'"([^"\n]*)"|`([^`]*)`', code)}
    numbers = set(re.findall(r"(?<![\w.])\d[\d_]*(?:\.\d+)?", code))
    return strings, numbers


def test_no_rule_of_protocol_json_is_restated_in_an_adapter():
    """Codes, rule event names and delays come from protocol.json: an adapter that hard-codes one can drift."""
    codes = {
        *PROTOCOL["refusals"]["terminal"], *PROTOCOL["refusals"]["retry"], *PROTOCOL["request_retry"]["codes"],
        PROTOCOL["superseded_code"], PROTOCOL["resume"]["event"], PROTOCOL["shutdown"]["event"],
        PROTOCOL["shutdown"]["delay_field"], *PROTOCOL["transports"],
    } - set(PROTOCOL["states"])  # "superseded" is a state name too
    for path in [*PY_SOURCES, *JS_SOURCES]:
        strings, numbers = _literals(path)
        assert not strings & codes, (path.name, strings & codes)
        # ms<->s is the one number of 100 or more an adapter may write (Python's MS, defined once)
        big = {n for n in numbers if float(n.replace("_", "")) >= 100}
        assert big <= ({"1000"} if path.name == "protocol.py" else set()), (path.name, big)


@pytest.mark.parametrize("key", RULE_KEYS)
def test_both_adapters_read_each_rule_of_protocol_json(key):
    python = "".join(p.read_text() for p in PY_SOURCES)
    js = "".join(p.read_text() for p in JS_SOURCES)
    assert re.search(rf'PROTOCOL\["{key}"\]|\b{key.upper()}\b|"{key}"', python), key
    assert re.search(rf"PROTOCOL\.{key}\b|\b{key.upper()}\b", js), key


RULES_JS = """
import { backoffMs, refusalAction, shutdownDelayMs, PROTOCOL } from "%s";
const cases = JSON.parse(process.argv.at(-1));
process.stdout.write(JSON.stringify({
  backoff: cases.backoff.map(([name, n, u]) => backoffMs(PROTOCOL[name], n, u)),
  refusal: cases.refusal.map((code) => refusalAction(code)),
  shutdown: cases.shutdown.map(([notice, u]) => shutdownDelayMs(notice, u)),
}));
"""


def test_both_adapters_compute_the_same_delays_and_refusal_actions():
    cases = {
        "backoff": [[name, n, u] for name in ("reconnect", "refusals", "request_retry") for n in range(8) for u in (-1, 0, 0.99)],
        "refusal": [*PROTOCOL["refusals"]["terminal"], *PROTOCOL["refusals"]["retry"], "some_new_code"],
        "shutdown": [[{"reconnect_after_ms": 3000}, 0], [{"reconnect_after_ms": 3000}, 0.99], [{"reconnect_after_ms": 10**9}, 0],
                     [{"reconnect_after_ms": -5}, 0], [{"reconnect_after_ms": "soon"}, 0], [None, 0], [{}, 0]],
    }
    source = RULES_JS % (ADAPTER_DIR / "interview-protocol.js").as_uri()
    need("node", shutil.which("node") is not None)
    out = subprocess.run(["node", "--input-type=module", "-e", source, "--", json.dumps(cases)],
                         cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)
    assert out.returncode == 0, out.stderr
    js = json.loads(out.stdout)
    python = {
        "backoff": [backoff_ms(PROTOCOL[name], n, u) for name, n, u in cases["backoff"]],
        "refusal": [refusal_action(code) for code in cases["refusal"]],
        "shutdown": [shutdown_delay_ms(notice, u) for notice, u in cases["shutdown"]],
    }
    assert js["refusal"] == python["refusal"] and python["refusal"][-1] == PROTOCOL["refusals"]["unknown"]
    assert js["backoff"] == pytest.approx(python["backoff"]) and js["shutdown"] == pytest.approx(python["shutdown"])
    reconnect = PROTOCOL["reconnect"]
    assert python["backoff"][:8:3] == pytest.approx([reconnect["first_delay_ms"] * (1 - reconnect["randomization"]), *python["backoff"][3:8:3]])
    assert max(python["backoff"]) <= max(PROTOCOL[k]["max_delay_ms"] for k in ("reconnect", "refusals", "request_retry"))
    assert python["shutdown"][:3] == pytest.approx([3000, 3000 * (1 + PROTOCOL["shutdown"]["spread"] * 0.99), PROTOCOL["shutdown"]["max_delay_ms"]])
    assert python["shutdown"][3:] == [None] * 4


AUDIO_JS = """
import { AudioBuffer } from "%s";
const b = new AudioBuffer(10000);
for (let chunk = 0; chunk < 30; chunk++) b.add({ index: 1 + Math.floor(chunk / 10), chunk, audio: new Uint8Array(1000) });
const kept = b.of(3).map((c) => c.chunk);
process.stdout.write(JSON.stringify([b.bytes, b.length, b.dropped, kept, b.of(1).length]));
"""


def test_audio_buffer_keeps_at_most_its_bound_newest_first_in_both_adapters():
    buffer = AudioBuffer(max_bytes=10_000)
    for chunk in range(30):
        buffer.add({"index": 1 + chunk // 10, "chunk": chunk, "audio": bytes(1_000)})
    python = [buffer.bytes, len(buffer), buffer.dropped, [c["chunk"] for c in buffer.of(3)], len(buffer.of(1))]
    assert python == [10_000, 10, 20, list(range(20, 30)), 0]
    assert json.loads(node(AUDIO_JS % (ADAPTER_DIR / "audio-buffer.js").as_uri())) == python
    buffer.clear()
    assert buffer.bytes == 0 and len(buffer) == 0


def test_both_adapters_default_to_the_audio_bound_of_protocol_json():
    assert InterviewClient("http://127.0.0.1:1").audio.max_bytes == PROTOCOL["audio"]["buffer_bytes"]
    source = (
        'import { InterviewClient, memoryStorage } from "%s";\n'
        'const io = () => ({ on() {}, io: { on() {}, reconnection() {} } });\n'
        "process.stdout.write(String(new InterviewClient({ io, url: 'http://x', storage: memoryStorage() }).audio.maxBytes));"
    ) % (ADAPTER_DIR / "interview-client.js").as_uri()
    assert int(node(source)) == PROTOCOL["audio"]["buffer_bytes"]


def test_protocol_json_ships_with_the_package():
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert any(fnmatch.fnmatch("protocol.json", pattern) for pattern in package_data["client_adapter"])


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
