"""A circuit breaker per provider: skip a vendor that keeps failing, try it again after a cooldown."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BreakerOptions:
    """``failures`` consecutive failures open the breaker (0: never) for ``cooldown`` seconds."""

    failures: int = 3
    cooldown: float = 30.0


class CircuitBreaker:
    """Availability of one provider, shared by every session of the process.

    Closed: calls go through. After ``options.failures`` consecutive failures
    it opens: :meth:`allow` says no for ``options.cooldown`` seconds. Then it
    lets exactly one trial call through (half-open); that call's
    :meth:`success` closes the breaker, its :meth:`failure` opens it for
    another cooldown. Other callers are refused while the trial runs.
    """

    def __init__(self, name: str, options: BreakerOptions, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.options = options
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.trial = False

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half_open``."""
        if self.opened_at is None:
            return "closed"
        return "half_open" if self.trial else "open"

    def allow(self) -> bool:
        """Whether a call may go to the provider now (taking the trial slot when the cooldown is over)."""
        if self.opened_at is None:
            return True
        if self.trial or self.clock() - self.opened_at < self.options.cooldown:
            return False
        self.trial = True
        log.info("vendor %s: cooldown over, one trial call", self.name)
        return True

    def success(self) -> None:
        """The call worked: close the breaker."""
        if self.opened_at is not None:
            log.info("vendor %s: available again", self.name)
        self.failures = 0
        self.opened_at = None
        self.trial = False

    def failure(self) -> None:
        """The call failed: count it, open the breaker after enough in a row (or when the trial failed)."""
        self.failures += 1
        if self.options.failures <= 0:
            return
        if self.trial or self.failures >= self.options.failures:
            if self.opened_at is None or self.trial:
                log.warning(
                    "vendor %s: %d failures in a row; skipped for %.0fs",
                    self.name,
                    self.failures,
                    self.options.cooldown,
                )
            self.opened_at = self.clock()
            self.trial = False

    def release(self) -> None:
        """The call ended without a verdict (cancelled): give the trial slot back."""
        self.trial = False

    @contextlib.contextmanager
    def call(self) -> Iterator[None]:
        """Judge the call in the ``with`` block: success when it ends, failure when it raises, none when cancelled."""
        try:
            yield
        except Exception:
            self.failure()
            raise
        except BaseException:
            self.release()
            raise
        self.success()
