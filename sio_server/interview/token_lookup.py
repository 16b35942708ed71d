"""Finding the session a resume token names, with the same work whether or not the session exists.

A wrong secret for an existing id and any secret for an unknown id must take
the same time, or the answer time tells which session ids exist. Both paths
do one store read, one parse of a session document (a decoy one when nothing
was stored) and one constant-time comparison of hashes (against a dummy hash
when there is no session).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ..domain.ids import parse_session_id
from ..domain.model import InterviewConfig, Session
from ..domain.tokens import hash_token, session_id_of, token_matches
from . import rules

_DUMMY_HASH = hash_token("no-session.dummy-secret-for-timing")
_NIL_ID = "00000000-0000-4000-8000-000000000000"
_DECOY = rules.new_session(InterviewConfig(job_title="decoy", job_description="x" * 600), _DUMMY_HASH, "text")
_DECOY_JSON = _DECOY.model_dump_json().encode()

Loader = Callable[[str], Awaitable[Session | None]]


async def session_for_token(load: Loader, token: str) -> Session | None:
    """The session whose resume token is ``token``, or None; ``load`` reads a session by id.

    An id that is not a canonical UUID4 is looked up as the nil id, so even a
    malformed token costs one read.
    """
    session_id = session_id_of(token)
    if session_id is None or parse_session_id(session_id) is None:
        session_id = _NIL_ID
    session = await load(session_id)
    if session is None:
        Session.model_validate_json(_DECOY_JSON)  # the parse a stored session would have cost
        token_matches(token, _DUMMY_HASH)
        return None
    return session if token_matches(token, session.token_hash) else None
