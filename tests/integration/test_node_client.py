"""The shipped JS adapter (client_adapter/interview-client.js) in Node over the pinned socket.io-client.

One Node process runs the whole conformance list (tests/conformance/scenarios.json)
against one server, as a long-lived Node app would: several clients one after the
other, SIGKILLs, SIGTERMs and restarts in between; every scenario reports its own JSON
line. A scenario that needs other server settings (``server_env``) runs in a Node
process of its own against a server with them.
"""

from __future__ import annotations

import json

import pytest

from tests.conformance.checks import check_scenario
from tests.conformance.harness import ADMIN_TOKEN, SCENARIOS, run_node, server_groups

pytestmark = pytest.mark.integration


def test_js_adapter_runs_the_conformance_list_in_one_node_process_per_server_setting(server_factory):
    groups = server_groups(list(SCENARIOS))
    assert len(groups) < len(SCENARIOS) / 2  # most scenarios share one server and one Node process
    seen = []
    for env, names in groups.items():
        server = server_factory(env=json.loads(env)).start()
        results = run_node(server, names, timeout=300)
        assert list(results) == names
        for name, result in results.items():
            assert result["ok"], (name, result["error"])
            check_scenario(SCENARIOS[name], result["report"], server.url, ADMIN_TOKEN)
        seen += names
        if len(names) > 1:
            assert server.starts >= 3  # the SIGKILL scenarios really restarted the process
    assert sorted(seen) == sorted(SCENARIOS)
