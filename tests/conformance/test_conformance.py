"""The shared client conformance list, run against both adapters on a real server process.

Python: ``client_adapter/client.py`` in this process (``runner.py``). JS: the
shipped ``client_adapter/interview-client.js`` in Node with the pinned
socket.io-client (``runner.mjs``, a subprocess answering in JSON lines). Both
reports are judged by the same checks (``checks.py``).
"""

from __future__ import annotations

import asyncio

import pytest

from .checks import check_scenario
from .harness import ADMIN_TOKEN, SCENARIOS, run_node, server_action
from .runner import PythonRunner

pytestmark = pytest.mark.integration


def server_of(server_factory, name: str):
    """A started server with the scenario's ``server_env``."""
    return server_factory(env=SCENARIOS[name].get("server_env")).start()


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_python_adapter(server_factory, name):
    scenario = SCENARIOS[name]
    server = await asyncio.to_thread(server_of, server_factory, name)

    async def control(action: str) -> None:
        await asyncio.to_thread(server_action, server, action)

    report = await PythonRunner(scenario, server.url, ADMIN_TOKEN, control).run()
    check_scenario(scenario, report, server.url, ADMIN_TOKEN)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_js_adapter_in_node(server_factory, name):
    server = server_of(server_factory, name)
    result = run_node(server, [name])[name]
    assert result["ok"], result["error"]
    check_scenario(SCENARIOS[name], result["report"], server.url, ADMIN_TOKEN)
