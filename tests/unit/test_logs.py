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


def test_repeat_filter_lets_one_record_of_a_kind_through_per_interval_without_traceback():
    from sio_server.observability.logs import RepeatFilter

    gate = RepeatFilter(interval=3600, brief=True)

    def failing(msg: str) -> logging.LogRecord:
        try:
            raise IndexError("list index out of range")
        except IndexError:
            import sys

            return logging.LogRecord("engineio.server", logging.ERROR, __file__, 1, msg, (), sys.exc_info())

    first = failing("message async handler error")
    assert gate.filter(first) and first.exc_info is None and "IndexError: list index out of range" in first.msg
    assert not any(gate.filter(failing("message async handler error")) for _ in range(1000))
    assert gate.filter(failing("another kind")), "kinds are limited separately"
    assert "Traceback" not in JsonFormatter().format(first)
