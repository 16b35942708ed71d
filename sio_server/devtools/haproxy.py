"""haproxy in front of two server ports, for the tests and benchmarks of several processes (standard library only).

The configuration is ``deploy/haproxy/haproxy.cfg.template`` (the one the deploy doc gives), filled in with a
free listening port and the two servers' ports.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from string import Template

from .process import ROOT, free_port, start_listening, stop_process


class HAProxy:
    """haproxy in front of two server ports, from ``deploy/haproxy/haproxy.cfg.template``."""

    def __init__(self, binary: str, workdir: Path, port_a: int, port_b: int) -> None:
        self.binary = binary
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.conf = workdir / "haproxy.cfg"
        template = Template((ROOT / "deploy" / "haproxy" / "haproxy.cfg.template").read_text())
        self.conf.write_text(template.substitute(listen_port=self.port, port_a=port_a, port_b=port_b))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL through haproxy."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "HAProxy":
        """Start haproxy in the foreground and wait for its port."""
        self.proc = start_listening([self.binary, "-db", "-f", str(self.conf)], self.port, "haproxy")
        return self

    def stop(self) -> None:
        """Stop haproxy."""
        stop_process(self.proc)
