"""The token lifecycle (SPEC T5): create, list, search, revoke, rotate.

Permission rules live here, so no route or command can skip them. A token the actor
may not see is reported exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.audit.events import AuditEvent
from tokenward.audit.services import AuditEntry, Origin, append
from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.directory.models import User
from tokenward.directory.services import find_user
from tokenward.errors import (
    InvalidInputError,
)
from tokenward.gate.changes import bump
from tokenward.instance import InstanceSecret
from tokenward.notify import producers as notify
from tokenward.policies.enforcement import (
    NewToken,
    conform_new_token,
    conform_rotation,
    expiry_field,
)
from tokenward.policies.permissions import Actor, Permission, require
from tokenward.policies.services import actor_for
from tokenward.tokens import attributes, format
from tokenward.tokens.attributes import Tier
from tokenward.tokens.authentication import ApiCall, authenticate
from tokenward.tokens.digest import token_digest
from tokenward.tokens.errors import (
    TokenNotActiveError,
    TokenNotFoundError,
)
from tokenward.tokens.models import Token
from tokenward.tokens.queries import (
    TokenFilter,
    search_order,
    search_query,
    with_status,
)
from tokenward.tokens.specs import IssuedToken, TokenSpec, checked_values, new_token_id

MAX_PAGE = 500


class TokenService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        instance_secret: InstanceSecret,
        *,
        prefix: str,
        default_lifetime: dt.timedelta,
    ) -> None:
        self._db = db
        self._clock = clock
        self._key = instance_secret.key
        self._prefix = prefix
        self._default_lifetime = default_lifetime

    async def create(
        self, actor: Actor, origin: Origin, spec: TokenSpec, *, owner: str | None = None
    ) -> IssuedToken:
        """Create a token for the actor, or for `owner` if a token manager asks."""
        if owner is None and actor.user_id is None:
            raise InvalidInputError(
                "name the user who will own the token", field="owner"
            )
        # The operator (no user) only ever creates for others, whatever its name.
        for_self = actor.user_id is not None and owner in (None, actor.name)
        require(
            actor,
            Permission.CREATE_OWN_TOKENS if for_self else Permission.MANAGE_TOKENS,
        )
        now = self._clock.now()
        values = checked_values(spec, now, self._default_lifetime)
        tier = Tier.SELF if for_self else Tier.MANAGER

        async with self._db.write() as session:
            owner_user = await find_user(session, owner or actor.name)
            await self._check_owner_may_use(session, owner_user)
            expires_at, scope = await conform_new_token(
                session,
                NewToken(
                    owner=owner_user,
                    tier=tier,
                    by_owner=owner_user.id == actor.user_id,
                    created_at=now,
                    expires_at=values["expires_at"],
                    expiry_field=expiry_field(
                        spec.expires_at, spec.expires_in_days, spec.never_expires
                    ),
                    scope=values["scope"],
                    allowed_networks=values["allowed_networks"],
                ),
                instance_default=self._default_lifetime,
            )
            values.update(expires_at=expires_at, scope=str(scope))
            secret = format.generate(self._prefix)
            token = Token(
                id=new_token_id(),
                digest=token_digest(self._key, secret),
                owner=owner_user,
                creator=await _creator(session, actor),
                tier=str(tier),
                created_at=now,
                use_count=0,
                last_used_from=[],
                **values,
            )
            session.add(token)
            await append(
                session, [_created_entry(actor, token)], origin=origin, now=now
            )
            await notify.token_created(session, actor, token, now)

        return IssuedToken(token=token, secret=secret)

    async def list_own(
        self, actor: Actor, *, status: str | None = None
    ) -> Sequence[Token]:
        """The actor's own tokens, newest first."""
        query = select(Token).where(Token.owner_id == actor.user_id)
        query = with_status(query, status, self._clock.now())

        async with self._db.read() as session:
            tokens = await session.scalars(query.order_by(Token.created_at.desc()))

            return tokens.all()

    async def get(self, actor: Actor, token_id: str, *, managed: bool = False) -> Token:
        """One token: the actor's own, or any if `managed` and the actor manages."""
        if managed:
            require(actor, Permission.MANAGE_TOKENS)

        async with self._db.read() as session:
            return await self._visible(session, actor, token_id, managed=managed)

    async def search(
        self, actor: Actor, criteria: TokenFilter
    ) -> tuple[Sequence[Token], int]:
        """Token Manager search: a page of matching tokens in the order asked for
        (newest first by default), and how many match in all."""
        require(actor, Permission.MANAGE_TOKENS)
        if not 1 <= criteria.limit <= MAX_PAGE or criteria.offset < 0:
            raise InvalidInputError(
                f"limit is 1-{MAX_PAGE}, offset at least 0", field="limit"
            )
        query = search_query(criteria, self._clock.now())

        async with self._db.read() as session:
            total = await session.scalar(
                select(func.count()).select_from(query.subquery())
            )
            page = await session.scalars(
                query.order_by(*search_order(criteria))
                .limit(criteria.limit)
                .offset(criteria.offset)
            )

            return page.all(), total or 0

    async def revoke(
        self,
        actor: Actor,
        origin: Origin,
        token_ids: Sequence[str],
        *,
        reason: str = "",
        managed: bool = False,
    ) -> list[Token]:
        """Revoke each named token; all are visible to the actor or none is revoked.

        Revoking a token that is already revoked changes nothing and is not an error.
        """
        if managed:
            require(actor, Permission.MANAGE_TOKENS)
        if not token_ids:
            raise InvalidInputError("name at least one token", field="token_ids")

        async with self._db.write() as session:
            tokens = [
                await self._visible(session, actor, token_id, managed=managed)
                for token_id in dict.fromkeys(token_ids)
            ]
            await self._revoke_tokens(session, actor, origin, tokens, reason)

        return tokens

    async def revoke_all(
        self,
        actor: Actor,
        origin: Origin,
        *,
        owner: str | None = None,
        reason: str = "",
        managed: bool = False,
    ) -> list[Token]:
        """Revoke every token of `owner` (a token manager's act), or of the actor.

        `managed` marks a request made through the Token Manager, which needs the
        permission even when the owner named is the actor.
        """
        if owner is None and actor.user_id is None:
            raise InvalidInputError(
                "name the user whose tokens to revoke", field="owner"
            )
        if managed or actor.user_id is None or owner not in (None, actor.name):
            require(actor, Permission.MANAGE_TOKENS)

        async with self._db.write() as session:
            owner_id = (await find_user(session, owner)).id if owner else actor.user_id
            tokens = list(
                await session.scalars(
                    select(Token).where(
                        Token.owner_id == owner_id, Token.revoked_at.is_(None)
                    )
                )
            )
            await self._revoke_tokens(session, actor, origin, tokens, reason)

        return tokens

    async def rotate(
        self,
        actor: Actor,
        origin: Origin,
        token_id: str,
        *,
        grace: dt.timedelta | None = None,
        managed: bool = False,
    ) -> IssuedToken:
        """Issue a new secret with the same attributes. The old secret stops now, or
        at the end of `grace` (never later than its own expiry)."""
        if managed:
            require(actor, Permission.MANAGE_TOKENS)
        grace = attributes.check_grace(grace)
        now = self._clock.now()

        async with self._db.write() as session:
            old = await self._visible(session, actor, token_id, managed=managed)
            status = old.status_at(now)
            if status != "active":
                raise TokenNotActiveError(old.id, status)
            await self._check_owner_may_use(session, old.owner)
            await conform_rotation(
                session,
                old,
                now=now,
                by_owner=old.owner_id == actor.user_id,
                instance_default=self._default_lifetime,
            )
            secret = format.generate(self._prefix)
            new = Token(
                id=new_token_id(),
                digest=token_digest(self._key, secret),
                owner=old.owner,
                creator=await _creator(session, actor),
                label=old.label,
                tier=old.tier,
                created_at=now,
                expires_at=old.expires_at,
                scope=old.scope,
                allowed_networks=list(old.allowed_networks),
                header_restrictions=dict(old.header_restrictions),
                rate_limit_per_minute=old.rate_limit_per_minute,
                use_count=0,
                last_used_from=[],
                rotated_from_id=old.id,
            )
            old.rotated_to_id = new.id
            await bump(session)
            if grace is None:
                _mark_revoked(old, actor, now, "rotated")
            elif old.expires_at is None or old.expires_at > now + grace:
                old.expires_at = now + grace
            session.add(new)
            entry = AuditEntry(
                AuditEvent.TOKEN_ROTATED,
                actor=actor.name,
                subject=old.owner.username,
                token_id=old.id,
                details={
                    "new_token_id": new.id,
                    "grace_seconds": int(grace.total_seconds()) if grace else 0,
                },
            )
            await append(session, [entry], origin=origin, now=now)

        return IssuedToken(token=new, secret=secret)

    async def authenticate(
        self, secret: str, *, username: str | None = None, call: ApiCall | None = None
    ) -> Actor:
        """The actor a token speaks for when calling tokenward's own API; see
        `tokens.authentication.authenticate`."""
        return await authenticate(
            self._db,
            self._clock,
            self._key,
            self._prefix,
            secret,
            username=username,
            call=call,
        )

    async def _check_owner_may_use(self, session: AsyncSession, owner: User) -> None:
        if not owner.active:
            raise InvalidInputError(
                f"user {owner.username!r} is disabled", field="owner"
            )
        if not (await actor_for(session, owner)).may(Permission.USE_TOKENS):
            raise InvalidInputError(
                f"user {owner.username!r} may not use tokens", field="owner"
            )

    async def _visible(
        self, session: AsyncSession, actor: Actor, token_id: str, *, managed: bool
    ) -> Token:
        token = await session.get(Token, token_id)
        if token is None or (not managed and token.owner_id != actor.user_id):
            raise TokenNotFoundError(token_id)

        return token

    async def _revoke_tokens(
        self,
        session: AsyncSession,
        actor: Actor,
        origin: Origin,
        tokens: Sequence[Token],
        reason: str,
    ) -> None:
        now = self._clock.now()
        entries = []
        for token in tokens:
            if token.revoked_at is not None:
                continue
            _mark_revoked(token, actor, now, reason)
            entries.append(
                AuditEntry(
                    AuditEvent.TOKEN_REVOKED,
                    actor=actor.name,
                    subject=token.owner.username,
                    token_id=token.id,
                    details={"reason": reason} if reason else {},
                )
            )
        if entries:
            # Every gate must forget these tokens now (SPEC S2).
            await bump(session)
        await append(session, entries, origin=origin, now=now)
        await notify.tokens_revoked(session, actor, tokens, now)


async def _creator(session: AsyncSession, actor: Actor) -> User | None:
    return None if actor.user_id is None else await session.get(User, actor.user_id)


def _mark_revoked(token: Token, actor: Actor, now: dt.datetime, reason: str) -> None:
    token.revoked_at = now
    token.revoked_by = actor.name
    token.revocation_reason = reason or None


def _created_entry(actor: Actor, token: Token) -> AuditEntry:
    return AuditEntry(
        AuditEvent.TOKEN_CREATED,
        actor=actor.name,
        subject=token.owner.username,
        token_id=token.id,
        details={
            "label": token.label,
            "scope": token.scope,
            "tier": token.tier,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
            "allowed_networks": token.allowed_networks,
        },
    )
