"""Session ownership: exactly one process runs a session's turns at a time.

With several processes (``REDIS_URL``), a process holds a session only while
it holds the session's Redis lease (``SET NX PX``, renewed while held). A
process that wants a session another one holds publishes a release request;
the holder hands the session over (its socket is superseded) and deletes the
lease. When the holder dies, its liveness key (``interview:alive:<process id>``,
renewed every third of ``LEASE_LIVENESS_TTL``) expires within that TTL and the
lease is taken at once; a holder that lives but does not answer keeps it until
the lease itself expires (``LEASE_TTL``). The store's optimistic versions are the last line: a process that lost its lease without noticing
cannot overwrite the new owner's turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable


class LeaseUnavailable(Exception):
    """Another live process holds the session and did not hand it over in time."""


class Leases:
    """Single-process ownership: every session is ours."""

    process_id = "local"
    healthy = True

    async def open(self, on_release_request: Callable[[str], Awaitable[None]]) -> None:
        """Start listening for release requests (nothing to do here)."""

    async def close(self) -> None:
        """Stop listening."""

    async def acquire(self, session_id: str) -> bool:
        """Take the session's lease, asking its holder to hand it over; True when it changed hands."""
        return False

    async def release(self, session_id: str) -> None:
        """Give the lease up."""

    async def renew(self, session_ids: list[str]) -> list[str]:
        """Renew the leases of ``session_ids``; returns those no longer ours."""
        return []

    async def check(self) -> str:
        """'ok' or what is wrong (for ``/readyz``)."""
        return "ok"
