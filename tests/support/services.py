"""Finding the outside services a test needs: skip on a user's machine, fail in CI."""

from __future__ import annotations

import os

import pytest

# one copy of each, shared with the benchmarks
from sio_server.devtools.process import find_program, free_port, port_open, start_listening, stop_process  # noqa: F401

# The settings of a server behind the deploy/ templates' nginx or haproxy on this host: the proxy's address is
# trusted (TRUSTED_PROXIES is empty by default), as docs/deploy.md tells a real deployment to do.
BEHIND_LOCAL_PROXY = {"TRUSTED_PROXIES": "127.0.0.1, ::1"}


def services_required() -> bool:
    """True when ``REQUIRE_SERVICES=1``: a missing service is a failure, not a skip."""
    return os.environ.get("REQUIRE_SERVICES") == "1"


def need(what: str, available: bool) -> None:
    """Skip (or, under ``REQUIRE_SERVICES=1``, fail) when ``what`` is not available."""
    if available:
        return
    message = f"{what} is not available"
    if services_required():
        pytest.fail(f"{message} and REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


def need_program(name: str) -> str:
    """Return the path of program ``name`` (see :func:`need`)."""
    path = find_program(name)
    need(name, path is not None)
    assert path is not None
    return path
