"""The token policy service (SPEC P3-P6): read, dry run, save with an action on the
tokens that break it, and the inactivity run.

Saving a policy and acting on the tokens it breaks happen in one transaction with
their audit records, and bump the gate's change counter, so every gate forgets the
shortened and revoked tokens' old state at once.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.audit.events import AuditEvent
from tokenward.audit.services import CLI_ORIGIN, AuditEntry, Origin, append
from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.directory.models import Group, User
from tokenward.errors import ConflictError, InvalidInputError
from tokenward.gate.changes import bump
from tokenward.notify import producers as notify
from tokenward.policies.documents import GatePolicyDocument
from tokenward.policies.enforcement import TOKEN_POLICY, load_token_policy
from tokenward.policies.impact import (
    BreakingToken,
    Impact,
    gate_policy_impact,
    token_policy_impact,
)
from tokenward.policies.inactivity import (
    INACTIVITY_BATCH,
    InactivityRun,
    expire_batch,
)
from tokenward.policies.permissions import Actor, Permission, require
from tokenward.policies.stored import save_policy_document
from tokenward.policies.token_policy import LifetimeRule, TokenPolicyDocument
from tokenward.tokens.attributes import Tier
from tokenward.tokens.models import Token

DEFAULT_GRACE_DAYS = 7
MAX_GRACE_DAYS = 90
# Ids per IN (...) list when many tokens are updated at once.
_CHUNK = 500
POLICY_REASON = "policy"


class Action(enum.StrEnum):
    """What saving a policy does to the active tokens that break it."""

    KEEP = "keep"
    SHORTEN = "shorten"
    REVOKE = "revoke"


@dataclass(frozen=True, slots=True)
class Applied:
    """A saved policy, the tokens that broke it, and what was done to them."""

    policy: TokenPolicyDocument
    action: Action
    impact: Impact
    shortened: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)


def grace_period(days: int) -> dt.timedelta:
    """The grace period "shorten" gives, from a number of days (0 to 90)."""
    if not 0 <= days <= MAX_GRACE_DAYS:
        raise InvalidInputError(f"grace_days is 0-{MAX_GRACE_DAYS}", field="grace_days")

    return dt.timedelta(days=days)


class TokenPolicyService:
    """The token policy document, stored whole under the name "tokens"."""

    def __init__(
        self, db: Database, clock: Clock, *, default_lifetime: dt.timedelta
    ) -> None:
        self._db = db
        self._clock = clock
        self._default_lifetime = default_lifetime

    async def get(self, actor: Actor) -> TokenPolicyDocument:
        require(actor, Permission.ADMINISTER)

        async with self._db.read() as session:
            return await load_token_policy(session)

    async def own_limits(self, actor: Actor) -> tuple[LifetimeRule, bool]:
        """The lifetime rule for tokens the actor creates for themselves, and
        whether those must be read-only: what the create form offers."""
        async with self._db.read() as session:
            document = await load_token_policy(session)
            user = await session.get(User, actor.user_id) if actor.user_id else None
            groups = [group.name for group in user.groups] if user else []

        rule = document.rule_for(Tier.SELF, groups, self._default_lifetime)

        return rule, document.force_read_only_for_self

    async def impact(
        self,
        actor: Actor,
        document: TokenPolicyDocument,
        *,
        grace_days: int = DEFAULT_GRACE_DAYS,
    ) -> Impact:
        """The dry run: the active tokens `document` would break, each with the
        expiry "shorten" would give it with `grace_days`. Saves nothing."""
        require(actor, Permission.ADMINISTER)
        grace = grace_period(grace_days)

        async with self._db.read() as session:
            await _check_groups(session, document)
            return await self._impact(session, document, grace, self._clock.now())

    async def gate_impact(self, actor: Actor, document: GatePolicyDocument) -> Impact:
        """The dry run of a gate policy: active tokens whose own IP ranges would
        fall outside its allowed networks. Saves nothing."""
        require(actor, Permission.ADMINISTER)

        async with self._db.read() as session:
            return await gate_policy_impact(session, document, now=self._clock.now())

    async def replace(
        self, actor: Actor, origin: Origin, document: TokenPolicyDocument
    ) -> TokenPolicyDocument:
        """Save `document` if it breaks no active token the policy in force does not
        already break; otherwise ConflictError, and the caller applies it with an
        action after looking at the dry run."""
        require(actor, Permission.ADMINISTER)

        async with self._db.write() as session:
            await _check_groups(session, document)
            before = await load_token_policy(session)
            now = self._clock.now()
            grace = grace_period(DEFAULT_GRACE_DAYS)
            impact = await self._impact(session, document, grace, now)
            already = await self._impact(session, before, grace, now)
            known = {
                (token.facts.id, reason)
                for token in already.tokens
                for reason in token.reasons
            }
            newly = [
                token
                for token in impact.tokens
                if any(
                    (token.facts.id, reason) not in known for reason in token.reasons
                )
            ]
            if newly:
                owners = len({token.owner for token in newly})
                raise ConflictError(
                    f"{_count(len(newly), 'active token')} of "
                    f"{_count(owners, 'user')} would break this policy; look at its "
                    "impact first, then apply it with an action: keep, shorten or "
                    "revoke",
                    field="policy",
                )
            await self._save(session, actor, origin, (before, document), now, extra={})

        return document

    async def apply(
        self,
        actor: Actor,
        origin: Origin,
        document: TokenPolicyDocument,
        action: Action,
        *,
        grace_days: int = DEFAULT_GRACE_DAYS,
    ) -> Applied:
        """Save `document` and do `action` to the active tokens that break it, all
        in one transaction. Inactive tokens are left to the inactivity run."""
        require(actor, Permission.ADMINISTER)
        grace = grace_period(grace_days)

        async with self._db.write() as session:
            await _check_groups(session, document)
            before = await load_token_policy(session)
            now = self._clock.now()
            impact = await self._impact(session, document, grace, now)
            applied = Applied(policy=document, action=action, impact=impact)
            targets = impact.acted_on()
            entries: list[AuditEntry] = []
            if action is Action.SHORTEN:
                entries = await _shorten(session, actor, targets)
                applied.shortened.extend(entry.token_id or "" for entry in entries)
            elif action is Action.REVOKE:
                entries = await _revoke(session, actor, targets, now)
                applied.revoked.extend(entry.token_id or "" for entry in entries)
            summary = {
                "action": str(action),
                "grace_days": grace_days,
                "breaking_tokens": len(impact.tokens),
                "breaking_by_reason": impact.by_reason(),
                "shortened": len(applied.shortened),
                "revoked": len(applied.revoked),
            }
            await self._save(
                session, actor, origin, (before, document), now, extra=summary
            )
            await append(session, entries, origin=origin, now=now)

        return applied

    async def expire_inactive(
        self,
        now: dt.datetime | None = None,
        *,
        actor: Actor | None = None,
        origin: Origin = CLI_ORIGIN,
        batch: int = INACTIVITY_BATCH,
        between_batches: Callable[[], Awaitable[None]] | None = None,
    ) -> list[str]:
        """Expire every active token unused for the policy's `inactivity_days`
        (last used, or created if never used, that long before `now`); return their
        ids. Nothing happens while inactivity is off. Each transaction expires at
        most `batch` tokens; `between_batches` (a job lease's renewal, say) is
        awaited between two transactions.

        The job runner calls this with no actor; a person running it by hand is
        checked for `administer` and named in the audit. Safe to run on several
        instances at once: on PostgreSQL each batch skips the rows another run holds
        and a token already expired is no longer selected, so no token is expired
        or audited twice.
        """
        if actor is not None:
            require(actor, Permission.ADMINISTER)
        if batch < 1:
            raise ValueError("an inactivity batch holds at least one token")
        moment = now or self._clock.now()

        async with self._db.read() as session:
            days = (await load_token_policy(session)).inactivity_days
        if days is None:
            return []

        expired: list[str] = []
        while True:
            done = await expire_batch(
                self._db,
                InactivityRun(
                    now=moment,
                    days=days,
                    actor=actor.name if actor else None,
                    origin=origin,
                ),
                limit=batch,
            )
            expired.extend(done)
            if len(done) < batch:
                return expired
            if between_batches is not None:
                await between_batches()

    async def _impact(
        self,
        session: AsyncSession,
        document: TokenPolicyDocument,
        grace: dt.timedelta,
        now: dt.datetime,
    ) -> Impact:
        return await token_policy_impact(
            session,
            document,
            now=now,
            instance_default=self._default_lifetime,
            grace=grace,
        )

    async def _save(
        self,
        session: AsyncSession,
        actor: Actor,
        origin: Origin,
        change: tuple[TokenPolicyDocument, TokenPolicyDocument],
        now: dt.datetime,
        *,
        extra: dict[str, Any],
    ) -> None:
        """Store the second document of `change` in place of the first, audited."""
        before, document = change
        after = document.model_dump(mode="json")
        await save_policy_document(
            session,
            TOKEN_POLICY,
            after,
            actor=actor,
            origin=origin,
            now=now,
            details={"before": before.model_dump(mode="json"), "after": after, **extra},
        )


async def _check_groups(session: AsyncSession, document: TokenPolicyDocument) -> None:
    """Every group an override names must exist: a misspelt name would silently
    override nothing."""
    named = document.overridden_groups()
    if not named:
        return
    found = set(await session.scalars(select(Group.name).where(Group.name.in_(named))))
    missing = sorted(named - found)
    if missing:
        raise InvalidInputError(
            f"group_overrides names groups that do not exist: {', '.join(missing)}",
            field="group_overrides",
        )


async def _shorten(
    session: AsyncSession, actor: Actor, tokens: Sequence[BreakingToken]
) -> list[AuditEntry]:
    """Give each token its shortened expiry; the audit entries of those changed."""
    changes = [token for token in tokens if token.shortened_expiry is not None]
    if not changes:
        return []
    await session.execute(
        update(Token),
        [
            {"id": token.facts.id, "expires_at": token.shortened_expiry}
            for token in changes
        ],
    )
    await bump(session)

    return [
        AuditEntry(
            AuditEvent.TOKEN_SHORTENED,
            actor=actor.name,
            subject=token.owner,
            token_id=token.facts.id,
            reason=POLICY_REASON,
            details={
                "reason": POLICY_REASON,
                "breaches": [str(reason) for reason in token.reasons],
                "expires_at_before": _iso(token.facts.expires_at),
                "expires_at": _iso(token.shortened_expiry),
            },
        )
        for token in changes
    ]


async def _revoke(
    session: AsyncSession,
    actor: Actor,
    tokens: Sequence[BreakingToken],
    now: dt.datetime,
) -> list[AuditEntry]:
    """Revoke each token, telling its owner; the audit entries."""
    if not tokens:
        return []
    ids = [token.facts.id for token in tokens]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        await session.execute(
            update(Token)
            .where(Token.id.in_(chunk), Token.revoked_at.is_(None))
            .values(
                revoked_at=now, revoked_by=actor.name, revocation_reason=POLICY_REASON
            )
        )
        # Owners hear of it as of any revocation by someone else (SPEC P8).
        changed = await session.scalars(select(Token).where(Token.id.in_(chunk)))
        await notify.tokens_revoked(session, actor, list(changed), now)
    await bump(session)

    return [
        AuditEntry(
            AuditEvent.TOKEN_REVOKED,
            actor=actor.name,
            subject=token.owner,
            token_id=token.facts.id,
            reason=POLICY_REASON,
            details={
                "reason": POLICY_REASON,
                "breaches": [str(reason) for reason in token.reasons],
            },
        )
        for token in tokens
    ]


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
