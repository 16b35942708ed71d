"""Structured JSON logs: one object per line, with ``session_id`` where there is one.

Nothing secret is logged: no resume tokens, no bearer tokens, and no answer or
question text at INFO or above.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_TOKEN = re.compile(r"([0-9a-f-]{36})\.[A-Za-z0-9_-]{20,}")


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON; a ``session_id`` found in ``extra`` or the message becomes a field."""

    def format(self, record: logging.LogRecord) -> str:
        message = _TOKEN.sub(r"\1.<redacted>", record.getMessage())
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        session_id = getattr(record, "session_id", None)
        if session_id is None:
            found = _UUID.search(message)
            session_id = found.group(0) if found else None
        if session_id:
            entry["session_id"] = session_id
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str, fmt: str) -> None:
    """Configure the root logger: ``fmt`` is ``"json"`` or ``"text"``."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
