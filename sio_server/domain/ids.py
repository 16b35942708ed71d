"""Session id validation: only canonical UUID4 text ever reaches a path or a query."""

from __future__ import annotations

import re
import uuid

_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def parse_session_id(value: object) -> uuid.UUID | None:
    """Return the UUID when ``value`` is a canonical lower-case UUID4 string, else None.

    Anything else (other UUID spellings, ``..``, slashes, NUL, look-alike
    unicode digits) is refused, so callers never build a path from it.
    """
    if not isinstance(value, str) or not value.isascii() or not _UUID4.fullmatch(value):
        return None
    return uuid.UUID(value)
