"""Who may open a web UI session, and how often they may try.

Sign-in is pluggable: an `Authenticator` turns a user name and password into a
user or nothing. Local accounts check the argon2id hash; a directory (LDAP) source
can be added beside them later. A tokenward token is never a password here: the
check is against the stored password hash alone, so a token typed as a password
opens nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from typing import Protocol

from sqlalchemy import select

from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.directory.models import User
from tokenward.directory.passwords import unmatchable_hash, verify_password

WINDOW = dt.timedelta(minutes=15)


class Authenticator(Protocol):
    async def authenticate(self, username: str, password: str) -> User | None:
        """The user these credentials prove, or None."""


class LocalPasswords:
    """Local accounts: an active user with a password whose hash matches."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def authenticate(self, username: str, password: str) -> User | None:
        async with self._db.read() as session:
            user = await session.scalar(select(User).where(User.username == username))
        stored = user.password_hash if user is not None else None
        matches = verify_password(stored or unmatchable_hash(), password)
        if user is None or stored is None or not matches or not user.active:
            return None

        return user


class SignInThrottle:
    """Failed sign-ins per user name and per client address, in this process.

    After `max_failures` failures within WINDOW for either key, attempts for that
    key are refused until the oldest failure leaves the window.
    """

    def __init__(self, clock: Clock, max_failures: int) -> None:
        self._clock = clock
        self._max = max_failures
        self._failures: dict[str, deque[dt.datetime]] = {}

    def retry_after(self, *keys: str) -> dt.timedelta | None:
        """How long until `keys` may try again, or None if they may now."""
        now = self._clock.now()
        waits = []
        for key in keys:
            failures = self._recent(key, now)
            if len(failures) >= self._max:
                waits.append(failures[0] + WINDOW - now)

        return max(waits) if waits else None

    def failed(self, *keys: str) -> None:
        now = self._clock.now()
        for key in keys:
            self._recent(key, now).append(now)

    def succeeded(self, username_key: str) -> None:
        self._failures.pop(username_key, None)

    def _recent(self, key: str, now: dt.datetime) -> deque[dt.datetime]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - WINDOW:
            failures.popleft()
        if len(self._failures) > 100_000:
            # Bounded memory under a spray of names: forget keys with no failure.
            for stale in [k for k, v in self._failures.items() if not v]:
                del self._failures[stale]

        return failures
