"""The cap on rejected credential checks per user, which keeps tokenward from
locking upstream accounts or serving as a password-guessing oracle."""

from __future__ import annotations

import pytest

from tokenward.upstream.errors import TooManyFailedChecksError
from tokenward.upstream.services import FailedChecks


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_refuses_after_the_allowed_failures_until_the_window_ends() -> None:
    """The allowed number of failures pass; the next attempt is refused with the
    seconds left in the window, and a new window starts afresh."""
    ticks = Ticks()
    checks = FailedChecks(allowed=3, window_seconds=60, monotonic=ticks)
    for _ in range(3):
        checks.refuse_if_exhausted("alice")
        checks.record("alice")
    ticks.now += 20

    with pytest.raises(TooManyFailedChecksError) as raised:
        checks.refuse_if_exhausted("alice")

    assert raised.value.retry_after == 40
    ticks.now += 40
    checks.refuse_if_exhausted("alice")


def test_users_are_counted_apart() -> None:
    """One user's failures do not hold back another."""
    checks = FailedChecks(allowed=1, window_seconds=60, monotonic=Ticks())
    checks.record("alice")

    with pytest.raises(TooManyFailedChecksError):
        checks.refuse_if_exhausted("alice")
    checks.refuse_if_exhausted("bob")


def test_memory_is_bounded() -> None:
    """Past the bound, the oldest users' counts are forgotten."""
    checks = FailedChecks(allowed=1, window_seconds=60, max_users=2, monotonic=Ticks())
    for name in ("a", "b", "c"):
        checks.record(name)

    checks.refuse_if_exhausted("a")
    with pytest.raises(TooManyFailedChecksError):
        checks.refuse_if_exhausted("c")
