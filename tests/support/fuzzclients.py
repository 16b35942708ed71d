"""Socket.IO clients for the fuzz tests: raw JSON injection, error-event capture, documented codes."""

from __future__ import annotations

import json
import re
import types
from pathlib import Path
from typing import Any

import socketio

ROOT = Path(__file__).resolve().parents[2]
NS = "/interview"

# Codes PROTOCOL.md names for acks, HTTP errors, connect errors and error events.
PROTOCOL_CODES = frozenset(
    {
        "invalid_payload", "resume_rejected", "already_in_session", "no_session", "busy", "session_ended",
        "stale_answer", "empty_answer", "superseded", "unauthorized", "not_found", "session_active",
        "admin_disabled", "audio_dropped", "llm_fallback", "tts_failed", "stt_failed",
    }
)


def documented_codes() -> frozenset[str]:
    """PROTOCOL.md's codes plus every code in protocol-notes.md's "Error codes added" table."""
    protocol = (ROOT / "docs" / "PROTOCOL.md").read_text()
    missing = [c for c in PROTOCOL_CODES if f"`{c}`" not in protocol]
    assert not missing, f"codes no longer in PROTOCOL.md: {missing}"
    notes = (ROOT / "docs" / "protocol-notes.md").read_text()
    section = notes.split("## Error codes added", 1)[1].split("\n## ", 1)[0]
    added = set(re.findall(r"^\|\s*`([a-z_]+)`\s*\|", section, flags=re.M))
    assert added, "protocol-notes.md has no error code table"
    return frozenset(PROTOCOL_CODES | added)


class Raw(str):
    """A payload sent as this exact JSON text (what any Socket.IO client in another language could send)."""


def _dumps(obj: Any, *args: Any, **kwargs: Any) -> str:
    if isinstance(obj, list) and any(isinstance(x, Raw) for x in obj):
        return "[" + ",".join(x if isinstance(x, Raw) else json.dumps(x, *args, **kwargs) for x in obj) + "]"
    return json.dumps(obj, *args, **kwargs)


RAW_JSON = types.SimpleNamespace(dumps=_dumps, loads=json.loads)


class FuzzSocket:
    """A python-socketio client on ``/interview`` that records ``error`` and other server events."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sio = socketio.AsyncClient(reconnection=False, json=RAW_JSON)
        self.events: list[tuple[str, Any]] = []
        self.sio.on("*", self._record, namespace=NS)

    async def _record(self, event: str, data: Any = None, *rest: Any) -> None:
        self.events.append((event, data))

    async def connect(self, auth: Any = None) -> "FuzzSocket":
        await self.sio.connect(self.url, namespaces=[NS], transports=["websocket"], auth=auth, wait_timeout=5)
        return self

    @property
    def connected(self) -> bool:
        return self.sio.connected and NS in self.sio.namespaces

    async def call(self, event: str, args: tuple[Any, ...], timeout: float = 3.0) -> Any:
        """Send ``event`` with ``args`` (0, 1 or more arguments) and return the ack's first value."""
        data: Any = args[0] if len(args) == 1 else (args if args else None)
        return await self.sio.call(event, data, namespace=NS, timeout=timeout)

    async def emit(self, event: str, args: tuple[Any, ...]) -> None:
        data: Any = args[0] if len(args) == 1 else (args if args else None)
        await self.sio.emit(event, data, namespace=NS)

    async def close(self) -> None:
        try:
            await self.sio.disconnect()
        except Exception:  # pragma: no cover - already gone
            pass
