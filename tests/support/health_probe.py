"""The server's event-loop lag seen from outside: ``GET /healthz`` every 20 ms on one kept-alive connection."""

from __future__ import annotations

import http.client
import threading
import time
from typing import Self


class HealthProbe:
    """``GET /healthz`` every 20 ms on one kept-alive connection, in a thread: the server's event-loop lag, seen from outside."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        while not self._stop.is_set():
            started = time.perf_counter()
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            self.latencies.append(time.perf_counter() - started)
            self._stop.wait(0.02)
        connection.close()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def share_over(self, seconds: float) -> float:
        """The share of probes that took longer than ``seconds``."""
        return sum(1 for t in self.latencies if t > seconds) / max(1, len(self.latencies))
