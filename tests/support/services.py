"""Finding the outside services a test needs: skip on a user's machine, fail in CI."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from sio_server.devtools.process import free_port  # noqa: F401  (one copy, shared with the benchmarks)
from sio_server.devtools.redis_server import port_open  # noqa: F401  (likewise)

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
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    need(name, path is not None)
    assert path is not None
    return path


def start_listening(cmd: list[str], port: int, what: str, timeout: float = 10.0) -> "subprocess.Popen[bytes]":
    """Start ``cmd`` in the foreground and wait until it accepts connections on ``port``."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while not port_open("127.0.0.1", port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{what} did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
        time.sleep(0.05)
    return proc


def stop_process(proc: "subprocess.Popen[bytes] | None") -> None:
    """Terminate ``proc`` (if it still runs) and reap it."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        proc.wait(10)
