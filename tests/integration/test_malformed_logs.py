"""Issue 13 rows 3 and 4: malformed packets and accept errors cannot flood the log."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import pytest

from sio_server.devtools.floods import malformed_flood, metric, raw_connections
from sio_server.devtools.process import wait_healthy

pytestmark = pytest.mark.integration


def log_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("--- start")]


async def test_3000_malformed_packets_are_counted_and_barely_logged(server_factory):
    server = server_factory().start()
    before = server.log_path.stat().st_size
    await malformed_flood(server.url, 3000)
    for _ in range(100):  # wait until the server has seen them all
        if await metric(server.url, "interview_malformed_packets_total") >= 3000:
            break
        await asyncio.sleep(0.1)
    assert await metric(server.url, "interview_malformed_packets_total") >= 3000
    growth = server.log_path.stat().st_size - before
    text = server.log_path.read_text()
    assert growth < 200_000, f"{growth} bytes of log"
    assert "Traceback" not in text, "no traceback, raw or in JSON"
    for line in log_lines(text):
        json.loads(line)  # every line is the JSON format (engineio's and socketio's loggers included)
    assert any("malformed input" in line for line in log_lines(text))
    assert len(text.splitlines()) < 40


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_accept_errors_are_rate_limited_in_the_log(server_factory, loop):
    """asyncio's loop logs every failed accept (here at most one line per 10 s); uvloop logs none."""
    server = server_factory(env={"HTTP_IDLE_TIMEOUT": "30", "EVENT_LOOP": loop})  # uvloop: installed by the test extra
    limit = "import resource, runpy; resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200)); "
    server.argv = [sys.executable, "-c", limit + "runpy.run_module('sio_server', run_name='__main__')"]
    server.start()
    conns = raw_connections(server.port, 400)  # the kernel queues what the server cannot accept
    try:
        time.sleep(4)  # the server retries accept() every second meanwhile; a fixed window to count log lines
        errors = [line for line in server.log().splitlines() if "out of system resource" in line]
        assert f"loop={loop}" in server.log()
        assert (1 if loop == "asyncio" else 0) <= len(errors) <= 2, errors
    finally:
        for conn in conns:
            conn.close()
    wait_healthy(server.url, server.proc, 20, server.log)  # it recovers once the connections are closed
