"""JSON logs: one object a line, session ids as a field, tokens redacted."""

from __future__ import annotations

import json
import logging

from sio_server.observability.logs import JsonFormatter


def record(msg: str, *args, **extra) -> logging.LogRecord:
    rec = logging.LogRecord("sio_server.test", logging.INFO, __file__, 1, msg, args, None)
    for k, v in extra.items():
        setattr(rec, k, v)
    return rec


def test_session_id_becomes_a_field_and_tokens_are_redacted():
    sid = "d3b07384-d113-4ec6-a1bb-34c4a1f6e4c2"
    line = JsonFormatter().format(record("resume of %s with %s", sid, f"{sid}.abcdefghijklmnopqrstuvwxyz0123456789"))
    entry = json.loads(line)
    assert entry["session_id"] == sid and entry["level"] == "INFO"
    assert "abcdefghijklmnop" not in line and "<redacted>" in entry["message"]


def test_explicit_session_id_wins():
    entry = json.loads(JsonFormatter().format(record("hello", session_id="x")))
    assert entry == {**entry, "session_id": "x", "message": "hello"}
