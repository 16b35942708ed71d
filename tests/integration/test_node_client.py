"""The shipped JS adapter (client_adapter/interview-client.js) in Node over the pinned socket.io-client.

One Node process runs the whole conformance list (tests/conformance/scenarios.json)
against one server, as a long-lived Node app would: several clients one after the
other, SIGKILLs and restarts in between; every scenario reports its own JSON line.
"""

from __future__ import annotations

import pytest

from tests.conformance.checks import check_scenario
from tests.conformance.harness import ADMIN_TOKEN, SCENARIOS, run_node

pytestmark = pytest.mark.integration


def test_js_adapter_runs_every_conformance_scenario_in_one_node_process(server):
    results = run_node(server, [], timeout=300)
    assert list(results) == list(SCENARIOS)
    for name, result in results.items():
        assert result["ok"], (name, result["error"])
        check_scenario(SCENARIOS[name], result["report"], server.url, ADMIN_TOKEN)
    assert server.starts >= 3  # the SIGKILL scenarios really restarted the process
