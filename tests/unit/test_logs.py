"""JSON logs: one object a line, session ids as a field, tokens redacted."""

from __future__ import annotations

import json
import logging
import time

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


def test_flood_guard_bounds_every_logger_on_the_root_handler(capsys):
    # Issue 19 row 3: pypdf's own loggers wrote 114 MB outside the repeat filter.
    import io

    from sio_server.observability.logs import MAX_MESSAGE_CHARS, FloodGuard, setup_logging

    setup_logging("INFO", "json")
    try:
        root = logging.getLogger()
        stream = io.StringIO()
        root.handlers[0].setStream(stream)
        guard = next(f for f in root.handlers[0].filters if isinstance(f, FloodGuard))
        assert logging.getLogger("pypdf").getEffectiveLevel() == logging.ERROR
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
        started = time.monotonic()
        for _ in range(10_000):  # any logger at all, unknown to the server
            logging.getLogger("some.library").warning("Ignoring final token of odd-length line %r", b"41")
        logging.getLogger("other.library").error("x" * 100_000)
        elapsed = time.monotonic() - started
        lines = stream.getvalue().splitlines()
        assert len(lines) <= guard.burst + guard.rate * elapsed + 2, (len(lines), elapsed)
        assert len(stream.getvalue()) < 200 * len(lines) + MAX_MESSAGE_CHARS + 500 and len(lines[-1]) < MAX_MESSAGE_CHARS + 500
    finally:
        setup_logging("INFO", "text")


def test_flood_guard_counts_what_it_dropped():
    from sio_server.observability.logs import FloodGuard

    guard = FloodGuard(rate=1000.0, burst=1.0)
    assert guard.filter(record("flood %d", 1)) and not guard.filter(record("flood %d", 2))
    time.sleep(0.01)
    passed = record("flood %d", 3)
    assert guard.filter(passed) and passed.getMessage() == "flood 3 [1 similar suppressed]"
