"""Resume tokens: made once, shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid


def new_token(session_id: uuid.UUID) -> str:
    """Return a fresh resume token for ``session_id``.

    The token is ``<session id>.<256 random bits>``: the id part lets the server
    find the session without scanning; only the random part is secret.
    """
    return f"{session_id}.{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest that is stored instead of the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_matches(token: str, token_hash: str) -> bool:
    """Compare ``token`` with a stored hash in constant time."""
    return hmac.compare_digest(hash_token(token), token_hash)


def session_id_of(token: str) -> str | None:
    """Return the session id part of a token, or None when it has none."""
    head, sep, secret = token.partition(".")
    return head if sep and secret else None
