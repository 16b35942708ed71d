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


def report_ticket(token_hash: str, session_id: str, expires: int) -> str:
    """A ticket that opens ``session_id``'s HTML report until ``expires`` (Unix seconds): ``<expires>.<HMAC>``.

    The HMAC-SHA256 key is the session's stored token hash, so only the server (or someone
    holding the resume token, who may read the report anyway) can make one, every node of a
    cluster checks it without a shared secret, and deleting the session voids it.
    """
    mac = hmac.new(token_hash.encode(), f"report:{session_id}:{expires}".encode(), hashlib.sha256).hexdigest()
    return f"{expires}.{mac}"


def ticket_valid(ticket: str, token_hash: str, session_id: str, now: float, max_age_s: int) -> bool:
    """Whether ``ticket`` is :func:`report_ticket`'s for this session, not expired and not valid for more than
    ``max_age_s`` from ``now`` (compared in constant time)."""
    head, _, _ = ticket.partition(".")
    if not head.isdigit() or len(head) > 12:
        return False
    expires = int(head)
    fresh = now < expires <= now + max_age_s
    return hmac.compare_digest(report_ticket(token_hash, session_id, expires), ticket) and fresh
