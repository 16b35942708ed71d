"""A real nginx in front of a server, from the template in ``deploy/nginx``."""

from __future__ import annotations

import subprocess
from pathlib import Path
from string import Template

from .services import free_port, start_listening, stop_process

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "idle-proxy.conf.template"


class Nginx:
    """nginx proxying ``127.0.0.1:<port>`` to an upstream port, cutting idle connections."""

    def __init__(self, binary: str, prefix: Path, upstream_port: int, idle_timeout: str = "3s") -> None:
        self.binary = binary
        self.prefix = prefix
        self.port = free_port()
        prefix.mkdir(parents=True, exist_ok=True)
        self.conf = prefix / "nginx.conf"
        self.conf.write_text(
            Template(TEMPLATE.read_text()).substitute(
                prefix=prefix, listen_port=self.port, upstream_port=upstream_port, idle_timeout=idle_timeout
            )
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL through the proxy."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Nginx":
        """Start nginx in the foreground and wait for its port."""
        self.proc = start_listening([self.binary, "-p", str(self.prefix), "-c", str(self.conf)], self.port, "nginx")
        return self

    def stop(self) -> None:
        """Stop nginx."""
        stop_process(self.proc)
