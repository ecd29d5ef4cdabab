"""Web UI sessions: opened by a sign-in, ended by sign-out, idleness or age.

The cookie carries 32 random bytes; the database stores their HMAC under the instance
secret. The CSRF token of a session is derived from the same secret with another
label, so it needs no storage and changes with every session.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from tokenward.audit.events import AuditEvent
from tokenward.audit.services import AuditEntry, Origin, append
from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.directory.models import User
from tokenward.errors import TokenwardError
from tokenward.instance import InstanceSecret
from tokenward.policies.permissions import Actor, Permission
from tokenward.policies.services import actor_for
from tokenward.ui.models import UiSession

SESSION_COOKIE = "tokenward_session"

# last_seen_at is written at most this often, so reading pages stays read-only.
_TOUCH_EVERY = dt.timedelta(seconds=60)


class ForgeryError(TokenwardError):
    """A state change without the session's CSRF token, or sent from another site."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The person behind a live session, as of this request."""

    username: str
    display_name: str
    actor: Actor
    csrf_token: str

    def may(self, permission: Permission) -> bool:
        return self.actor.may(permission)


class SessionService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        instance_secret: InstanceSecret,
        *,
        idle: dt.timedelta,
        lifetime: dt.timedelta,
    ) -> None:
        self._db = db
        self._clock = clock
        self._key = instance_secret.key
        self.idle = idle
        self.lifetime = lifetime

    async def open(self, user: User, origin: Origin) -> str:
        """Start a session for `user` (already authenticated); returns the cookie
        value. The sign-in is audited in the same transaction."""
        secret = _encode(secrets.token_bytes(32))
        now = self._clock.now()
        async with self._db.write() as session:
            session.add(
                UiSession(
                    digest=self._digest(secret),
                    user_id=user.id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + self.lifetime,
                    client_ip=origin.client_ip,
                )
            )
            # Sessions that ended long ago go with each new one, a few at a time.
            await session.execute(
                delete(UiSession).where(UiSession.expires_at < now - self.lifetime)
            )
            await append(
                session,
                [
                    AuditEntry(
                        event=AuditEvent.UI_SIGNED_IN,
                        actor=user.username,
                        subject=user.username,
                    )
                ],
                origin=origin,
                now=now,
            )

        return secret

    async def resolve(self, secret: str | None) -> SignedIn | None:
        """The live session named by a cookie value, or None (unknown, ended by
        idleness or age, or its user disabled)."""
        if not secret or len(secret) > 64:
            return None
        digest = self._digest(secret)
        now = self._clock.now()
        async with self._db.read() as session:
            found = await session.scalar(
                select(UiSession).where(UiSession.digest == digest)
            )
            if found is None or not self._live(found, now) or not found.user.active:
                return None
            actor = await actor_for(session, found.user)
            signed_in = SignedIn(
                username=found.user.username,
                display_name=found.user.display_name or found.user.username,
                actor=actor,
                csrf_token=self.csrf_token(secret),
            )
            stale = now - found.last_seen_at >= _TOUCH_EVERY
        if stale:
            async with self._db.write() as session:
                await session.execute(
                    update(UiSession)
                    .where(UiSession.digest == digest)
                    .values(last_seen_at=now)
                )

        return signed_in

    async def close(self, secret: str, origin: Origin) -> None:
        """End the session named by `secret`, if there is one; audited."""
        digest = self._digest(secret)
        now = self._clock.now()
        async with self._db.write() as session:
            found = await session.scalar(
                select(UiSession).where(UiSession.digest == digest)
            )
            if found is None:
                return
            username = found.user.username
            await session.delete(found)
            await append(
                session,
                [
                    AuditEntry(
                        event=AuditEvent.UI_SIGNED_OUT,
                        actor=username,
                        subject=username,
                    )
                ],
                origin=origin,
                now=now,
            )

    def csrf_token(self, secret: str) -> str:
        mac = hmac.new(self._key, b"csrf\0" + secret.encode(), hashlib.sha256)

        return _encode(mac.digest())

    def csrf_matches(self, secret: str, presented: str | None) -> bool:
        if not presented:
            return False

        return hmac.compare_digest(self.csrf_token(secret), presented)

    def _live(self, found: UiSession, now: dt.datetime) -> bool:
        return now < found.expires_at and now - found.last_seen_at < self.idle

    def _digest(self, secret: str) -> bytes:
        return hmac.new(
            self._key, b"session\0" + secret.encode(), hashlib.sha256
        ).digest()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
