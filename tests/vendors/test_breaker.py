"""The circuit breaker: opens after N failures, one trial after the cooldown."""

from __future__ import annotations

from sio_server.vendors.breaker import BreakerOptions, CircuitBreaker

from .helpers import FakeClock as Clock


def test_opens_after_consecutive_failures_and_one_trial_decides() -> None:
    clock = Clock()
    breaker = CircuitBreaker("v", BreakerOptions(failures=3, cooldown=30), clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.failure()
    breaker.success()  # a success resets the count
    for _ in range(3):
        assert breaker.allow()
        breaker.failure()
    assert breaker.state == "open" and not breaker.allow()
    clock.now += 29.9
    assert not breaker.allow()
    clock.now += 0.2
    assert breaker.allow() and breaker.state == "half_open"
    assert not breaker.allow(), "only one trial call at a time"
    breaker.failure()
    assert breaker.state == "open" and not breaker.allow()
    clock.now += 30.1
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed" and breaker.allow() and breaker.allow()


def test_a_cancelled_trial_gives_the_slot_back() -> None:
    clock = Clock()
    breaker = CircuitBreaker("v", BreakerOptions(failures=1, cooldown=5), clock)
    breaker.failure()
    clock.now += 5
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()


def test_zero_failures_means_never_open() -> None:
    breaker = CircuitBreaker("v", BreakerOptions(failures=0, cooldown=5), Clock())
    for _ in range(10):
        breaker.failure()
    assert breaker.allow() and breaker.state == "closed"
