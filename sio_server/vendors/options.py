"""How hard to try a vendor call: one small frozen value passed to every client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

RETRY_LISTENERS: set[Callable[[str], None]] = set()
"""Callbacks told the ``name`` of the provider whose call is about to be retried (metrics)."""


@dataclass(frozen=True)
class ConnectOptions:
    """Retry and time budget of a vendor call.

    ``max_tries`` counts the first attempt; delays grow exponentially from
    ``base_delay`` up to ``max_delay`` (see :func:`.retry.wait_gen`);
    ``timeout`` bounds one attempt and ``deadline`` (when set) the whole call,
    retries included: a wait that would pass it is not taken.
    """

    max_tries: int = 3
    base_delay: float = 1.0
    max_delay: float = 10.0
    timeout: float = 30.0
    deadline: float | None = None
