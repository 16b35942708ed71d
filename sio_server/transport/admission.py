"""Admission control: how many sockets and sessions one client address, and the process, may hold.

Every refusal comes before any work is done, with a documented code:
``too_many_sockets`` / ``server_busy`` at the Engine.IO handshake (HTTP 429 /
503, the client's ``connect_error``), ``too_many_sessions`` /
``server_busy`` in the ``start_interview`` ack. Addresses are counted by
:func:`..net.client_address.client_key` (an IPv6 client with its /64). The socket cap is kept below
the process's descriptor limit, so new sockets are refused before accept()
starts failing.
"""

from __future__ import annotations

import collections
import resource
import time
from collections.abc import Callable
from typing import Any

from ..domain.errors import InterviewError
from ..net.client_address import ClientAddress, client_key


def raise_descriptor_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass  # the kernel's own cap (nr_open) is lower: keep what we have
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def socket_budget(max_sockets: int, reserve: int) -> int:
    """``MAX_SOCKETS``, lowered so sockets leave ``reserve`` descriptors (and a tenth) for files, HTTP and vendors."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft == resource.RLIM_INFINITY:
        return max_sockets
    return max(1, min(max_sockets, soft - max(reserve, soft // 10)))


class Refusal(Exception):
    """A refused handshake: HTTP ``status`` with the error ``code``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class Admission:
    """Counts open sockets per client address and session starts per address per minute."""

    def __init__(
        self,
        max_sockets: int,
        max_sockets_per_client: int,
        sessions_per_client_per_minute: int,
        max_active_sessions: int,
        active_sessions: Callable[[], int] = lambda: 0,
    ) -> None:
        self.max_sockets = max_sockets
        self.max_sockets_per_client = max_sockets_per_client
        self.sessions_per_minute = sessions_per_client_per_minute
        self.max_active_sessions = max_active_sessions
        self.active_sessions = active_sessions
        self._sockets: dict[str, str] = {}  # engine.io sid -> client key
        self._per_client: collections.Counter[str] = collections.Counter()
        self._starts: dict[str, collections.deque[float]] = {}

    @classmethod
    def from_settings(cls, settings: Any, active_sessions: Callable[[], int]) -> Admission:
        """The limits of ``settings``, the socket cap sized to the descriptor limit."""
        return cls(
            socket_budget(settings.max_sockets, settings.descriptor_reserve),
            settings.max_sockets_per_client,
            settings.sessions_per_client_per_minute,
            settings.max_active_sessions,
            active_sessions,
        )

    @property
    def sockets(self) -> int:
        """Sockets open now."""
        return len(self._sockets)

    def retain(self, alive: Any) -> None:
        """Forget counted sockets that are not in ``alive`` (sockets closed without a disconnect event)."""
        for sid in [s for s in self._sockets if s not in alive]:
            self.closed(sid)

    def check_socket(self, address: str) -> None:
        """Raise :class:`Refusal` when a new socket from ``address`` would pass a cap."""
        if len(self._sockets) >= self.max_sockets:
            raise Refusal(503, "server_busy", "the server is at its connection limit; retry later")
        if self._per_client[client_key(address)] >= self.max_sockets_per_client:
            raise Refusal(429, "too_many_sockets", "too many connections from your address")

    def opened(self, sid: str, address: str) -> None:
        """Count the socket ``sid`` of ``address``."""
        if sid not in self._sockets:
            key = client_key(address)
            self._sockets[sid] = key
            self._per_client[key] += 1

    def closed(self, sid: str) -> None:
        """Forget the socket ``sid``."""
        key = self._sockets.pop(sid, None)
        if key is not None:
            self._per_client[key] -= 1
            if self._per_client[key] <= 0:
                del self._per_client[key]

    def admit_session(self, address: str) -> None:
        """Count a session start by ``address``, or raise ``too_many_sessions`` / ``server_busy``."""
        if self.active_sessions() >= self.max_active_sessions:
            raise InterviewError("server_busy", "the server is running as many interviews as it can; retry later")
        now = time.monotonic()
        starts = self._starts.setdefault(client_key(address), collections.deque())
        while starts and now - starts[0] >= 60.0:
            starts.popleft()
        if len(starts) >= self.sessions_per_minute:
            raise InterviewError("too_many_sessions", "too many interviews started from your address; wait a minute")
        starts.append(now)
        if len(self._starts) > 10_000:
            self._prune(now)

    def _prune(self, now: float) -> None:
        for address in [a for a, s in self._starts.items() if not s or now - s[-1] >= 60.0]:
            del self._starts[address]


def socket_guards(settings: Any, addresses: ClientAddress) -> dict[str, Any]:
    """The keyword arguments of :class:`InterviewSocketServer` that guard admission and input, from ``settings``."""
    return {
        "admission": Admission.from_settings(settings, active_sessions=lambda: 0),
        "addresses": addresses,
        "body_timeout": settings.http_body_timeout,
        "malformed_log_interval": settings.malformed_log_interval,
    }
