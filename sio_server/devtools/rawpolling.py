"""A raw Engine.IO long-polling client over plain sockets, to send a body in pieces or send bytes no client would."""

from __future__ import annotations

import json
import socket
import time
import urllib.request


class RawPolling:
    """One Engine.IO polling session on ``host:port``, POST bodies written by hand."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        with urllib.request.urlopen(self._url(), timeout=5) as r:
            self.sid = json.loads(r.read().decode()[1:])["sid"]

    def _url(self, sid: str | None = None) -> str:
        tail = f"&sid={sid}" if sid else ""
        return f"http://{self.host}:{self.port}/socket.io/?EIO=4&transport=polling{tail}"

    def post(self, body: bytes, pieces: int = 1, pause: float = 0.0, length: int | None = None) -> tuple[int, bytes]:
        """POST ``body`` in ``pieces`` TCP writes ``pause`` seconds apart; (status, response body)."""
        head = (
            f"POST /socket.io/?EIO=4&transport=polling&sid={self.sid} HTTP/1.1\r\n"
            f"Host: {self.host}:{self.port}\r\nContent-Type: text/plain;charset=UTF-8\r\n"
            f"Content-Length: {len(body) if length is None else length}\r\nConnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection((self.host, self.port), timeout=15) as conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.sendall(head)
            size = -(-len(body) // pieces)
            for i in range(pieces):
                conn.sendall(body[i * size : (i + 1) * size])
                if pause and i < pieces - 1:
                    time.sleep(pause)
            return read_response(conn)

    def get(self, timeout: float = 5) -> str:
        """One long-poll GET: the packets the server queued."""
        with urllib.request.urlopen(self._url(self.sid), timeout=timeout) as r:
            return r.read().decode()

    def read_until(self, needle: str, timeout: float = 10) -> str:
        """GET until a response contains ``needle``; everything read."""
        seen = ""
        deadline = time.monotonic() + timeout
        while needle not in seen and time.monotonic() < deadline:
            seen += self.get()
        return seen


def read_response(conn: socket.socket) -> tuple[int, bytes]:
    """Read one HTTP response with a Content-Length (the server may keep reading an unread body after it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {data!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(head.split(b" ", 2)[1]), body[:length]
