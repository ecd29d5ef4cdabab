"""Counting requests in memory: failed attempts per client address (SPEC G8) and
per-token rate limits (T3).

Both are per instance. TODO: share them between instances through Redis when it is
configured (SPEC S3); a Redis-backed twin of these two classes would do it.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from tokenward.gate.addresses import IPAddress


class _FixedWindows:
    """Counts per key within fixed windows; the oldest keys go first when full."""

    def __init__(
        self, window: float, max_keys: int, monotonic: Callable[[], float]
    ) -> None:
        self._window = window
        self._max_keys = max_keys
        self._monotonic = monotonic
        self._counts: OrderedDict[object, tuple[float, int]] = OrderedDict()

    def count(self, key: object) -> tuple[int, float]:
        """The key's count in its current window and the seconds left in it."""
        now = self._monotonic()
        started, count = self._counts.get(key, (now, 0))
        if now - started >= self._window:
            return 0, self._window

        return count, self._window - (now - started)

    def add(self, key: object) -> int:
        now = self._monotonic()
        started, count = self._counts.pop(key, (now, 0))
        if now - started >= self._window:
            started, count = now, 0
        self._counts[key] = (started, count + 1)
        while len(self._counts) > self._max_keys:
            self._counts.popitem(last=False)

        return count + 1


class FailureThrottle:
    """Refuses clients that failed to authenticate too often, for a while.

    Only failures are counted, and the gate still admits a throttled client whose
    token is already known to its cache: a token's owner behind the same NAT as an
    attacker is not locked out.
    """

    def __init__(
        self,
        *,
        max_failures: int,
        window_seconds: float,
        max_clients: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_failures = max_failures
        self._windows = _FixedWindows(window_seconds, max_clients, monotonic)

    def retry_after(self, client: IPAddress | None) -> int | None:
        """Seconds until `client` may try again, or None if it is not throttled."""
        if client is None or self._max_failures <= 0:
            return None
        count, remaining = self._windows.count(client)
        if count < self._max_failures:
            return None

        return max(1, math.ceil(remaining))

    def record_failure(self, client: IPAddress | None) -> None:
        if client is not None and self._max_failures > 0:
            self._windows.add(client)


class RateLimiter:
    """Per-token requests per minute, in fixed one-minute windows."""

    def __init__(
        self,
        *,
        max_tokens: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._windows = _FixedWindows(60.0, max_tokens, monotonic)

    def allow(self, token_id: str, per_minute: int) -> bool:
        return self._windows.add(token_id) <= per_minute
