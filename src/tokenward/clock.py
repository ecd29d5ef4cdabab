"""The one source of time: aware UTC, replaceable in tests."""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    """Anything that can tell the current time as an aware UTC datetime."""

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FrozenClock:
    """A clock that stands still until it is moved; for tests and simulations."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._now = start.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta

    def set(self, moment: dt.datetime) -> None:
        self._now = moment.astimezone(dt.UTC)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """Return `moment` as aware UTC; naive values (as SQLite returns them) are UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)

    return moment.astimezone(dt.UTC)
