"""Structured JSON logs: one object per line, with ``session_id`` where there is one.

Nothing secret is logged: no resume tokens, no bearer tokens, and no answer or
question text at INFO or above. Logs cannot be used as a weapon: every logger
goes through the root handler, whose :class:`FloodGuard` bounds each kind of
record (a burst, then a rate, with the count of the others) and the length of
every line and traceback; python-engineio's and python-socketio's own loggers
and asyncio's lose their own handlers and are stricter still (a
:class:`RepeatFilter`: one record of a kind per interval); the file parsers'
(``pypdf``, ``docx``, ``PIL``) log only errors and ``httpx`` only warnings
(its INFO line names every vendor request).
"""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import UTC, datetime

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_TOKEN = re.compile(r"([0-9a-f-]{36})\.[A-Za-z0-9_-]{20,}")
LIBRARY_LOGGERS = ("engineio.server", "socketio.server")
QUIET_LOGGERS = {"pypdf": logging.ERROR, "docx": logging.ERROR, "PIL": logging.ERROR, "httpx": logging.WARNING}
MAX_MESSAGE_CHARS = 2_000
MAX_TRACEBACK_CHARS = 8_000


def redact(text: str) -> str:
    """``text`` with the secret part of every resume token replaced."""
    return _TOKEN.sub(r"\1.<redacted>", text)


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON; a ``session_id`` found in ``extra`` or the message becomes a field."""

    def format(self, record: logging.LogRecord) -> str:
        message = redact(record.getMessage())
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
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
        if record.exc_info or record.exc_text:
            entry["exc"] = redact(record.exc_text or self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class KeyedGate:
    """Lets one occurrence per key through every ``interval`` seconds and counts the others.

    ``allow(key)`` returns None when the occurrence is to be dropped, else the
    number of occurrences dropped since the last one let through.
    """

    def __init__(self, interval: float, max_keys: int = 10_000) -> None:
        self.interval = interval
        self.max_keys = max_keys
        self._last: dict[object, float] = {}
        self._dropped: dict[object, int] = {}

    def allow(self, key: object) -> int | None:
        """None to drop this occurrence; otherwise how many were dropped before it."""
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._dropped[key] = self._dropped.get(key, 0) + 1
            return None
        if last is None and len(self._last) >= self.max_keys:
            self._last.clear()  # bounded memory whatever the keys; at worst one extra line per key
            self._dropped.clear()
        self._last[key] = now
        return self._dropped.pop(key, 0)


class RepeatFilter(logging.Filter):
    """A logging filter that lets one record per kind through per interval.

    The kind is the logger name and the record's format string (its first line
    for asyncio's multi-line messages), so "socket.accept() out of system
    resource" or "%s is not connected to namespace %s" is logged once per
    interval whatever the socket. With ``brief``, a traceback is cut to its
    last line (the exception), so a library cannot write raw tracebacks.
    """

    def __init__(self, interval: float = 10.0, brief: bool = False) -> None:
        super().__init__()
        self.gate = KeyedGate(interval)
        self.brief = brief

    def filter(self, record: logging.LogRecord) -> bool:
        kind = (record.name, str(record.msg).split("\n", 1)[0][:200])
        dropped = self.gate.allow(kind)
        if dropped is None:
            return False
        if self.brief and record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            record.msg = f"{record.msg} ({type(exc).__name__}: {str(exc)[:200]})"
            record.exc_info = None
            record.exc_text = None
        if dropped:
            record.msg = f"{record.msg} [{dropped} similar suppressed]"
        return True


class FloodGuard(logging.Filter):
    """The root handler's bound on every logger: per kind of record a burst, then a rate; short lines.

    The kind is the logger name and the first line of the format string (as in
    :class:`RepeatFilter`). Each kind may write ``burst`` records at once and
    ``rate`` a second after that; the dropped ones are counted on the next
    record let through. A message is cut at ``MAX_MESSAGE_CHARS`` and a
    traceback to its last ``MAX_TRACEBACK_CHARS``, so no record, however it is
    made, writes more than about 10 kB.
    """

    def __init__(self, rate: float = 5.0, burst: float = 50.0, max_keys: int = 10_000) -> None:
        super().__init__()
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[tuple[str, str], list[float]] = {}  # kind -> [tokens, stamp, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        kind = (record.name, str(record.msg).split("\n", 1)[0][:200])
        now = time.monotonic()
        bucket = self._buckets.get(kind)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._buckets.clear()  # bounded memory whatever the kinds
            bucket = self._buckets[kind] = [self.burst, now, 0]
        bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if bucket[0] < 1:
            bucket[2] += 1
            return False
        bucket[0] -= 1
        dropped, bucket[2] = int(bucket[2]), 0
        message = record.getMessage()
        if len(message) > MAX_MESSAGE_CHARS or dropped:
            cut = message if len(message) <= MAX_MESSAGE_CHARS else f"{message[:MAX_MESSAGE_CHARS]}… [cut]"
            record.msg, record.args = (f"{cut} [{dropped} similar suppressed]" if dropped else cut), None
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = text if len(text) <= MAX_TRACEBACK_CHARS else f"[cut]…{text[-MAX_TRACEBACK_CHARS:]}"
        return True


def setup_logging(level: str, fmt: str, repeat_interval: float = 10.0) -> None:
    """Configure the root logger: ``fmt`` is ``"json"`` or ``"text"``.

    python-engineio and python-socketio add a handler of their own to their
    loggers when they are left at level NOTSET; they are given a level here
    (WARNING: their INFO lines name every packet), lose any handler, and
    propagate to the root handler, through a brief :class:`RepeatFilter`.
    asyncio's logger (accept errors when descriptors run out) is rate-limited too.
    Every record of every logger passes the handler's :class:`FloodGuard`; the
    loggers of ``QUIET_LOGGERS`` get their level (the résumé parsers write a
    warning per token of a hostile file).
    """
    handler = logging.StreamHandler()
    handler.addFilter(FloodGuard())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(quiet, root.level))
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers[:] = []
        library.filters[:] = [RepeatFilter(repeat_interval, brief=True)]
        library.setLevel(max(logging.WARNING, root.level))
        library.propagate = True
    logging.getLogger("asyncio").filters[:] = [RepeatFilter(repeat_interval)]
