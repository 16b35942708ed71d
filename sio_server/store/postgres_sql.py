"""SQL helpers of the PostgreSQL store: identifiers, ``jsonb`` text, and database errors as :class:`StoreError`."""

from __future__ import annotations

import json
import re
from typing import Any

import asyncpg

from ..domain.model import Session
from .base import StoreError

IDENT = re.compile(r"[a-z_][a-z0-9_]*")
MAX_IDENT = 63  # PostgreSQL's NAMEDATALEN - 1

# Errors that mean "the database could not do it": wrapped as StoreError.
DB_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,  # also asyncio.TimeoutError on 3.11+
)


def ident(value: str, what: str, max_len: int = MAX_IDENT) -> str:
    """Return ``value`` double-quoted when it is a plain lower-case SQL identifier, else raise ValueError."""
    if not isinstance(value, str) or not value.isascii() or not IDENT.fullmatch(value) or len(value) > max_len:
        raise ValueError(f"invalid {what} name {value!r}: use [a-z_][a-z0-9_]*, at most {max_len} characters")
    return f'"{value}"'


def strip_nul(value: Any) -> Any:
    """Replace NUL characters (which ``jsonb`` cannot hold) with U+FFFD, recursively."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [strip_nul(v) for v in value]
    if isinstance(value, dict):
        return {strip_nul(k): strip_nul(v) for k, v in value.items()}
    return value


def session_json(session: Session) -> str:
    """The session as JSON text accepted by ``jsonb``."""
    text = session.model_dump_json()
    if "\\u0000" in text:  # only a real NUL in a string is dumped as this escape (a backslash would be \\)
        text = json.dumps(strip_nul(json.loads(text)), ensure_ascii=False, separators=(",", ":"))
    return text


class Wrap:
    """Context manager turning database/OS errors into :class:`StoreError`."""

    __slots__ = ("extra", "what")

    def __init__(self, what: str, extra: tuple[type[BaseException], ...] = ()) -> None:
        self.what = what
        self.extra = extra

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        if exc is None or isinstance(exc, StoreError):
            return False
        if isinstance(exc, DB_ERRORS + self.extra):
            detail = type(exc).__name__ + (f": {exc}" if str(exc) else "")
            raise StoreError(f"postgres store: {self.what} failed ({detail})") from exc
        return False
