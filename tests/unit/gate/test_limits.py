"""The failure throttle per client address (G8) and per-token rate limits (T3),
on a monotonic clock that moves only when told."""

from __future__ import annotations

import ipaddress

from tokenward.gate.limits import FailureThrottle, RateLimiter

ALICE_PC = ipaddress.ip_address("192.0.2.10")
ATTACKER = ipaddress.ip_address("198.51.100.66")
IPV6 = ipaddress.ip_address("2001:db8::66")


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def throttle(
    max_failures: int = 3, window: float = 60.0, max_clients: int = 100
) -> tuple[FailureThrottle, FakeMonotonic]:
    clock = FakeMonotonic()
    limiter = FailureThrottle(
        max_failures=max_failures,
        window_seconds=window,
        max_clients=max_clients,
        monotonic=clock,
    )

    return limiter, clock


def test_below_the_limit_is_not_throttled() -> None:
    """Fewer failures than the limit leave the client free."""
    limiter, _ = throttle()
    for _ in range(2):
        limiter.record_failure(ATTACKER)

    assert limiter.retry_after(ATTACKER) is None


def test_at_the_limit_the_client_waits_for_the_window() -> None:
    """At the limit the client is told to wait until its window ends."""
    limiter, clock = throttle()
    for _ in range(3):
        limiter.record_failure(ATTACKER)
        clock.now += 5

    assert limiter.retry_after(ATTACKER) == 45
    clock.now += 44.5
    assert limiter.retry_after(ATTACKER) == 1
    clock.now += 0.5
    assert limiter.retry_after(ATTACKER) is None


def test_retry_after_is_at_least_one_second() -> None:
    """Retry-After is a whole number of seconds, never zero."""
    limiter, clock = throttle(window=1.0)
    for _ in range(3):
        limiter.record_failure(ATTACKER)
    clock.now += 0.999

    assert limiter.retry_after(ATTACKER) == 1


def test_a_new_window_starts_counting_afresh() -> None:
    """Failures of an ended window do not count in the next."""
    limiter, clock = throttle()
    for _ in range(3):
        limiter.record_failure(ATTACKER)
    clock.now += 60
    limiter.record_failure(ATTACKER)
    limiter.record_failure(ATTACKER)

    assert limiter.retry_after(ATTACKER) is None


def test_addresses_are_counted_apart() -> None:
    """One client's failures do not throttle another, IPv4 or IPv6."""
    limiter, _ = throttle()
    for _ in range(3):
        limiter.record_failure(ATTACKER)

    assert limiter.retry_after(ATTACKER) is not None
    assert limiter.retry_after(ALICE_PC) is None
    assert limiter.retry_after(IPV6) is None


def test_unknown_address_is_never_throttled() -> None:
    """Without a client address there is nothing to count (the gate refuses it)."""
    limiter, _ = throttle(max_failures=1)
    limiter.record_failure(None)

    assert limiter.retry_after(None) is None


def test_zero_limit_turns_throttling_off() -> None:
    """A limit of 0 never throttles."""
    limiter, _ = throttle(max_failures=0)
    for _ in range(100):
        limiter.record_failure(ATTACKER)

    assert limiter.retry_after(ATTACKER) is None


def test_tracked_clients_are_bounded() -> None:
    """Past its bound, the throttle forgets the client it heard from least recently."""
    limiter, _ = throttle(max_failures=1, max_clients=2)
    limiter.record_failure(ATTACKER)
    limiter.record_failure(ALICE_PC)
    limiter.record_failure(IPV6)

    assert limiter.retry_after(ATTACKER) is None
    assert limiter.retry_after(ALICE_PC) == 60
    assert limiter.retry_after(IPV6) == 60


def test_rate_limit_per_minute() -> None:
    """A token gets its number of requests per one-minute window, then refusals."""
    clock = FakeMonotonic()
    limiter = RateLimiter(monotonic=clock)

    assert [limiter.allow("t1", 3) for _ in range(4)] == [True, True, True, False]
    clock.now += 59.9
    assert not limiter.allow("t1", 3)
    clock.now += 0.1
    assert limiter.allow("t1", 3)


def test_rate_limits_are_per_token() -> None:
    """One token's requests do not use up another's."""
    limiter = RateLimiter(monotonic=FakeMonotonic())

    assert limiter.allow("t1", 1)
    assert not limiter.allow("t1", 1)
    assert limiter.allow("t2", 1)
