"""A real server process that tests and benchmarks start, SIGKILL, restart and measure.

:class:`ServerProcess` runs ``python -m sio_server`` (or any ``command`` that
serves ``/healthz``) on a fixed port and ``DATA_DIR``, so a restart after a kill
finds the same sessions. Standard library only: no pytest.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV_ADMIN_TOKEN = "dev-admin-token-of-tests-and-benchmarks"  # the ADMIN_TOKEN of their servers (32+ characters)


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    """True when something accepts TCP connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def find_program(name: str) -> str | None:
    """The path of program ``name`` on ``PATH``, or in /usr/sbin (haproxy, nginx), or None."""
    return shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)


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


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float, log: Callable[[], str]) -> None:
    """Wait until ``url``/healthz answers 200; raise (with the log) if ``proc`` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"server did not become healthy:\n{log()}")


def rss_of(pid: int) -> int:
    """VmRSS of ``pid`` from /proc, bytes."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class ServerProcess:
    """One server process on a fixed port and ``DATA_DIR``, restartable after a kill.

    ``command`` defaults to ``python -m sio_server``; ``env`` is laid over the
    caller's environment and the address settings; ``cpus`` pins the process
    (and every thread it makes) to those CPUs.
    """

    def __init__(
        self, data_dir: Path, env: dict[str, str] | None = None, port: int | None = None,
        command: Sequence[str] | None = None, cpus: set[int] | None = None,
    ) -> None:
        self.cpus = cpus
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATA_DIR": str(self.data_dir),
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.argv = list(command or [sys.executable, "-m", "sio_server"])  # what start() runs; a test may replace it
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir.parent / f"server-{self.port}.log"
        self.starts = 0

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    def start(self, timeout: float = 20.0) -> ServerProcess:
        """Start the process and wait until ``/healthz`` answers."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"\n--- start {self.starts} ---\n".encode())
            log.flush()
            pin = (lambda: os.sched_setaffinity(0, self.cpus)) if self.cpus else None
            self.proc = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=pin
            )
        wait_healthy(self.url, self.proc, timeout, self.log)
        return self

    def kill(self) -> None:
        """SIGKILL the process and reap it."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self, timeout: float = 10.0) -> int | None:
        """SIGTERM the process and wait for it; returns its exit code."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise
        return self.proc.returncode if self.proc else None

    def restart(self) -> ServerProcess:
        """SIGKILL, then start again on the same port and ``DATA_DIR``."""
        self.kill()
        return self.start()

    def rss(self) -> int:
        """Resident set size of the process, bytes."""
        return rss_of(self.pid)

    def log(self) -> str:
        """The process's output so far (its last 8,000 characters)."""
        try:
            return self.log_path.read_text(errors="replace")[-8000:]
        except OSError:
            return ""
