"""Upstream credentials for credential injection (SPEC G6): saved only after the
upstream accepted them, sealed at rest, audited, and forgotten by every gate cache
when they change.

Who may do what:
- a user sets, reads (metadata only), checks and removes their own;
- an administrator may remove anyone's (to stop injection at once), never read or
  set it;
- the operator at the command line may do everything but read the value, which no
  one can: it is never returned.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.audit.events import AuditEvent, Outcome
from tokenward.audit.services import AuditEntry, Origin, append
from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.directory.models import User
from tokenward.directory.services import find_user
from tokenward.gate.changes import bump
from tokenward.policies.permissions import Actor, Permission, require
from tokenward.upstream.check import UpstreamCheck
from tokenward.upstream.crypto import KEY_VERSION, CredentialCipher, UnreadableError
from tokenward.upstream.errors import (
    CredentialUnreadableError,
    NotYourCredentialError,
    TooManyFailedChecksError,
    UpstreamCredentialNotFoundError,
    UpstreamCredentialRejectedError,
)
from tokenward.upstream.models import UpstreamCredential
from tokenward.upstream.schemes import Scheme, authorization, check_value

# Each rejected check is a failed login upstream, where a few in a row can lock the
# account behind a CAPTCHA, and a Basic credential names any account it likes. So
# rejections per user are capped, before the upstream is asked again.
FAILED_CHECKS_ALLOWED = 5
FAILED_CHECK_WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True, slots=True)
class CredentialInfo:
    """What may be shown of a stored credential: everything but its value."""

    username: str
    scheme: Scheme
    checked_as: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    updated_by: str
    last_checked_at: dt.datetime | None
    # False once the instance secret changed since it was saved: the gate cannot
    # decrypt it and refuses, until it is saved again.
    key_current: bool


async def load_credential(
    session: AsyncSession, username: str
) -> UpstreamCredential | None:
    """The stored credential of `username`, or None."""
    found: UpstreamCredential | None = await session.scalar(
        select(UpstreamCredential)
        .join(User, UpstreamCredential.user_id == User.id)
        .where(User.username == username)
    )

    return found


class FailedChecks:
    """Rejected checks per username in fixed windows, in memory (per instance)."""

    def __init__(
        self,
        *,
        allowed: int = FAILED_CHECKS_ALLOWED,
        window_seconds: float = FAILED_CHECK_WINDOW_SECONDS,
        max_users: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._allowed = allowed
        self._window = window_seconds
        self._max_users = max_users
        self._monotonic = monotonic
        self._windows: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def refuse_if_exhausted(self, username: str) -> None:
        started, count = self._windows.get(username, (0.0, 0))
        left = self._window - (self._monotonic() - started)
        if count >= self._allowed and left > 0:
            raise TooManyFailedChecksError(max(1, math.ceil(left)))

    def record(self, username: str) -> None:
        now = self._monotonic()
        started, count = self._windows.pop(username, (now, 0))
        if now - started >= self._window:
            started, count = now, 0
        self._windows[username] = (started, count + 1)
        while len(self._windows) > self._max_users:
            self._windows.popitem(last=False)


class UpstreamCredentialService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        cipher: CredentialCipher,
        check: UpstreamCheck,
        *,
        failed_checks: FailedChecks | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._cipher = cipher
        self._check = check
        self._failed_checks = failed_checks or FailedChecks()

    async def save(
        self, actor: Actor, origin: Origin, username: str, scheme: Scheme, value: str
    ) -> CredentialInfo:
        """Check `value` against the upstream and, if accepted, store it as the
        credential of `username`, replacing any other."""
        _require_owner(actor, username)
        check_value(scheme, value)
        async with self._db.read() as session:
            await find_user(session, username)

        checked_as = await self._verify(
            actor, origin, username, authorization(scheme, value), saving=True
        )

        now = self._clock.now()
        async with self._db.write() as session:
            user = await find_user(session, username)
            stored = await load_credential(session, username)
            replaced = stored is not None
            if stored is None:
                stored = UpstreamCredential(user_id=user.id, created_at=now)
                session.add(stored)
            stored.scheme = str(scheme)
            stored.encrypted_value = self._cipher.seal(
                value, user_id=user.id, scheme=str(scheme)
            )
            stored.key_id = self._cipher.key_id
            stored.key_version = KEY_VERSION
            stored.updated_at = now
            stored.updated_by = actor.name
            stored.last_checked_at = now
            stored.checked_as = checked_as
            await session.flush()
            # Every gate must forget the credential it may have cached.
            await bump(session)
            entry = AuditEntry(
                AuditEvent.UPSTREAM_CREDENTIAL_SAVED,
                actor=actor.name,
                subject=username,
                details={
                    "scheme": str(scheme),
                    "checked_as": checked_as,
                    "replaced": replaced,
                },
            )
            await append(session, [entry], origin=origin, now=now)

            return self._info(username, stored)

    async def get(self, actor: Actor, username: str) -> CredentialInfo:
        """The metadata of `username`'s credential; its value is never returned."""
        if not _is_owner(actor, username):
            require(actor, Permission.ADMINISTER)

        async with self._db.read() as session:
            stored = await load_credential(session, username)
        if stored is None:
            raise UpstreamCredentialNotFoundError(username)

        return self._info(username, stored)

    async def remove(self, actor: Actor, origin: Origin, username: str) -> None:
        """Delete `username`'s credential; the gate stops injecting it at once."""
        if not _is_owner(actor, username):
            require(actor, Permission.ADMINISTER)

        async with self._db.write() as session:
            await find_user(session, username)
            stored = await load_credential(session, username)
            if stored is None:
                raise UpstreamCredentialNotFoundError(username)
            scheme = stored.scheme
            await session.delete(stored)
            await bump(session)
            entry = AuditEntry(
                AuditEvent.UPSTREAM_CREDENTIAL_REMOVED,
                actor=actor.name,
                subject=username,
                details={"scheme": scheme},
            )
            await append(session, [entry], origin=origin, now=self._clock.now())

    async def check(
        self, actor: Actor, origin: Origin, username: str
    ) -> CredentialInfo:
        """Try the stored credential against the upstream again, now.

        A rejection is audited and raised, and the credential stays stored:
        whether to replace or remove it is its owner's decision.
        """
        _require_owner(actor, username)
        async with self._db.read() as session:
            stored = await load_credential(session, username)
        if stored is None:
            raise UpstreamCredentialNotFoundError(username)
        value = self._open(username, stored)
        scheme = Scheme(stored.scheme)

        checked_as = await self._verify(
            actor, origin, username, authorization(scheme, value), saving=False
        )

        now = self._clock.now()
        async with self._db.write() as session:
            current = await load_credential(session, username)
            if current is None:
                raise UpstreamCredentialNotFoundError(username)
            # Replaced while the check ran: what was checked is no longer stored.
            if current.encrypted_value == stored.encrypted_value:
                current.last_checked_at = now
                current.checked_as = checked_as
            entry = AuditEntry(
                AuditEvent.UPSTREAM_CREDENTIAL_CHECKED,
                actor=actor.name,
                subject=username,
                details={"scheme": str(scheme), "checked_as": checked_as},
            )
            await append(session, [entry], origin=origin, now=now)

            return self._info(username, current)

    async def _verify(
        self,
        actor: Actor,
        origin: Origin,
        username: str,
        presented: str,
        *,
        saving: bool,
    ) -> str | None:
        self._failed_checks.refuse_if_exhausted(username)
        try:
            return await self._check.verify(presented, owner=username)
        except UpstreamCredentialRejectedError as error:
            self._failed_checks.record(username)
            entry = AuditEntry(
                AuditEvent.UPSTREAM_CREDENTIAL_CHECKED,
                outcome=Outcome.FAILURE,
                actor=actor.name,
                subject=username,
                reason=error.reason,
                details={"while": "saving" if saving else "checking"},
            )
            async with self._db.write() as session:
                await append(session, [entry], origin=origin, now=self._clock.now())
            raise

    def _open(self, username: str, stored: UpstreamCredential) -> str:
        try:
            return self._cipher.open(
                stored.encrypted_value, user_id=stored.user_id, scheme=stored.scheme
            )
        except UnreadableError:
            raise CredentialUnreadableError(username) from None

    def _info(self, username: str, stored: UpstreamCredential) -> CredentialInfo:
        return CredentialInfo(
            username=username,
            scheme=Scheme(stored.scheme),
            checked_as=stored.checked_as,
            created_at=stored.created_at,
            updated_at=stored.updated_at,
            updated_by=stored.updated_by,
            last_checked_at=stored.last_checked_at,
            key_current=(
                stored.key_id == self._cipher.key_id
                and stored.key_version == KEY_VERSION
            ),
        )


def _is_owner(actor: Actor, username: str) -> bool:
    """The user themselves, or the operator at the command line."""
    return actor.user_id is None or actor.name == username


def _require_owner(actor: Actor, username: str) -> None:
    if not _is_owner(actor, username):
        raise NotYourCredentialError
