"""The token request lifecycle (SPEC P7): ask, cancel, approve or reject, generate,
and expire.

Every step writes its audit record in the transaction that makes it, and moves
the request only if it is still where the step expects (see `transitions`).
A request the actor may not see is reported exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.audit.events import AuditEvent
from tokenward.audit.services import Origin, append
from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.directory.models import User
from tokenward.directory.services import find_user
from tokenward.errors import InvalidInputError, NotFoundError
from tokenward.instance import InstanceSecret
from tokenward.notify import producers as notify
from tokenward.policies.enforcement import NewToken, conform_new_token
from tokenward.policies.permissions import Actor, Permission, require
from tokenward.requests import rules
from tokenward.requests.expiry import expire_requests
from tokenward.requests.generation import generation_records, requested_token
from tokenward.requests.models import OPEN, RequestStatus, TokenRequest
from tokenward.requests.transitions import entry, move, require_status, with_status
from tokenward.tokens import attributes
from tokenward.tokens.attributes import Scope, Tier
from tokenward.tokens.specs import IssuedToken

MAX_PAGE = 500


class RequestNotFoundError(NotFoundError):
    """No such request, or someone else's: the two are indistinguishable."""

    def __init__(self, request_id: str) -> None:
        super().__init__("token request", request_id)


class TokenRequestService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        instance_secret: InstanceSecret,
        *,
        prefix: str,
        default_lifetime: dt.timedelta,
        ttl: dt.timedelta,
    ) -> None:
        self._db = db
        self._clock = clock
        self._key = instance_secret.key
        self._prefix = prefix
        self._default_lifetime = default_lifetime
        self._ttl = ttl

    async def create(
        self, actor: Actor, origin: Origin, spec: rules.RequestSpec
    ) -> TokenRequest:
        """Ask for a token. Only for users who may hold tokens but not create
        their own: anyone who may is told to create it instead."""
        require(actor, Permission.USE_TOKENS)
        if actor.user_id is None:
            raise InvalidInputError("only a user can request a token for themselves")
        if actor.may(Permission.CREATE_OWN_TOKENS):
            raise InvalidInputError(
                "you may create tokens yourself (POST /api/v1/tokens); requests are "
                "for users who may not"
            )
        now = self._clock.now()
        label = attributes.check_label(spec.label)
        reason = rules.check_reason(
            spec.reason, required="say what the token is for: a reason is required"
        )
        lifetime = rules.check_lifetime(spec.lifetime_days, spec.never_expires)
        networks = attributes.check_networks(spec.allowed_networks)

        async with self._db.write() as session:
            requester = await find_user(session, actor.name)
            # Asking for what the policy would refuse anyway wastes a manager's time.
            await self._conform(
                session,
                requester,
                now=now,
                scope=Scope(spec.scope),
                lifetime_days=lifetime,
                networks=networks,
            )
            request = TokenRequest(
                id=secrets.token_hex(8),
                requester=requester,
                label=label,
                reason=reason,
                scope=str(spec.scope),
                lifetime_days=lifetime,
                allowed_networks=networks,
                status=str(RequestStatus.PENDING),
                created_at=now,
                expires_at=now + self._ttl,
            )
            session.add(request)
            record = entry(
                AuditEvent.TOKEN_REQUESTED,
                actor,
                request,
                label=label,
                reason=reason,
                scope=request.scope,
                lifetime_days=lifetime,
                allowed_networks=networks,
                expires_at=request.expires_at.isoformat(),
            )
            await append(session, [record], origin=origin, now=now)

        return request

    async def list_own(
        self, actor: Actor, *, status: RequestStatus | None = None
    ) -> Sequence[TokenRequest]:
        """The actor's requests, newest first."""
        query = select(TokenRequest).where(TokenRequest.requester_id == actor.user_id)
        query = with_status(query, status, self._clock.now())

        async with self._db.read() as session:
            found = await session.scalars(
                query.order_by(TokenRequest.created_at.desc())
            )

            return found.all()

    async def queue(
        self,
        actor: Actor,
        *,
        status: RequestStatus | None = None,
        requester: str | None = None,
        limit: int = 100,
    ) -> Sequence[TokenRequest]:
        """Requests of every user, oldest first (token managers)."""
        require(actor, Permission.MANAGE_TOKENS)
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInputError(f"limit is 1-{MAX_PAGE}", field="limit")
        query = with_status(select(TokenRequest), status, self._clock.now())

        async with self._db.read() as session:
            if requester is not None:
                user = await find_user(session, requester)
                query = query.where(TokenRequest.requester_id == user.id)
            found = await session.scalars(
                query.order_by(TokenRequest.created_at, TokenRequest.id).limit(limit)
            )

            return found.all()

    async def cancel(
        self, actor: Actor, origin: Origin, request_id: str
    ) -> TokenRequest:
        """Withdraw one of the actor's requests, pending or approved."""
        now = self._clock.now()

        async with self._db.write() as session:
            request = await self._own(session, actor, request_id)
            await move(
                session,
                request,
                now,
                OPEN,
                status=str(RequestStatus.CANCELLED),
                closed_at=now,
            )
            record = entry(AuditEvent.TOKEN_REQUEST_CANCELLED, actor, request)
            await append(session, [record], origin=origin, now=now)

        return request

    async def approve(
        self, actor: Actor, origin: Origin, request_id: str, approval: rules.Approval
    ) -> TokenRequest:
        """Approve a pending request as asked or narrower; the requester then has
        `token_request_ttl_days` to generate the token."""
        require(actor, Permission.MANAGE_TOKENS)
        now = self._clock.now()
        reason = approval.reason.strip()
        if len(reason) > rules.MAX_REASON:
            raise InvalidInputError(
                f"a reason is at most {rules.MAX_REASON} characters", field="reason"
            )

        async with self._db.write() as session:
            request = await self._to_decide(session, actor, request_id, now)
            scope = rules.narrowed_scope(Scope(request.scope), approval.scope)
            lifetime = rules.narrowed_lifetime(request.lifetime_days, approval)
            networks = rules.narrowed_networks(
                request.allowed_networks, approval.allowed_networks
            )
            await self._conform(
                session,
                request.requester,
                now=now,
                scope=scope,
                lifetime_days=lifetime,
                networks=networks,
                owner=False,
            )
            await move(
                session,
                request,
                now,
                (RequestStatus.PENDING,),
                status=str(RequestStatus.APPROVED),
                decided_by=actor.name,
                decided_at=now,
                decision_reason=reason or None,
                approved_scope=str(scope),
                approved_lifetime_days=lifetime,
                approved_networks=networks,
                expires_at=now + self._ttl,
            )
            record = entry(
                AuditEvent.TOKEN_REQUEST_APPROVED,
                actor,
                request,
                scope=str(scope),
                lifetime_days=lifetime,
                allowed_networks=networks,
                narrowed=(
                    str(scope) != request.scope
                    or lifetime != request.lifetime_days
                    or networks != request.allowed_networks
                ),
                reason=reason or None,
                expires_at=request.expires_at.isoformat(),
            )
            await append(session, [record], origin=origin, now=now)
            await notify.token_request_decided(session, request, now)

        return request

    async def reject(
        self, actor: Actor, origin: Origin, request_id: str, reason: str
    ) -> TokenRequest:
        """Reject a pending request; the requester is told why."""
        require(actor, Permission.MANAGE_TOKENS)
        now = self._clock.now()
        cleaned = rules.check_reason(
            reason, required="say why the request is rejected: a reason is required"
        )

        async with self._db.write() as session:
            request = await self._to_decide(session, actor, request_id, now)
            await move(
                session,
                request,
                now,
                (RequestStatus.PENDING,),
                status=str(RequestStatus.REJECTED),
                decided_by=actor.name,
                decided_at=now,
                decision_reason=cleaned,
                closed_at=now,
            )
            record = entry(
                AuditEvent.TOKEN_REQUEST_REJECTED, actor, request, reason=cleaned
            )
            await append(session, [record], origin=origin, now=now)
            await notify.token_request_decided(session, request, now)

        return request

    async def fulfil(
        self, actor: Actor, origin: Origin, request_id: str
    ) -> IssuedToken:
        """Generate the token of an approved request, once, for its requester only:
        the secret is in the answer and nowhere else."""
        require(actor, Permission.USE_TOKENS)
        now = self._clock.now()

        async with self._db.write() as session:
            request = await self._own(session, actor, request_id)
            require_status(request, now, RequestStatus.APPROVED)
            assert request.approved_scope is not None  # noqa: S101 - set on approval
            networks = list(request.approved_networks or [])
            lifetime = request.approved_lifetime_days
            expires_at, scope = await self._conform(
                session,
                request.requester,
                now=now,
                scope=Scope(request.approved_scope),
                lifetime_days=lifetime,
                networks=networks,
            )
            token, secret = requested_token(
                request,
                key=self._key,
                prefix=self._prefix,
                now=now,
                expires_at=expires_at,
                scope=scope,
                networks=networks,
            )
            session.add(token)
            await session.flush()
            await move(
                session,
                request,
                now,
                (RequestStatus.APPROVED,),
                status=str(RequestStatus.FULFILLED),
                token_id=token.id,
                closed_at=now,
            )
            records = generation_records(actor, request, token)
            await append(session, records, origin=origin, now=now)

        return IssuedToken(token=token, secret=secret)

    async def expire_due(
        self,
        *,
        batch: int = 500,
        between_batches: Callable[[], Awaitable[None]] | None = None,
    ) -> int:
        """Expire every open request past its expiry; see `expire_requests`."""
        return await expire_requests(
            self._db, self._clock, batch=batch, between_batches=between_batches
        )

    async def _conform(
        self,
        session: AsyncSession,
        requester: User,
        *,
        now: dt.datetime,
        scope: Scope,
        lifetime_days: int | None,
        networks: list[str],
        owner: bool = True,
    ) -> tuple[dt.datetime | None, Scope]:
        return await conform_new_token(
            session,
            NewToken(
                owner=requester,
                tier=Tier.REQUEST,
                by_owner=owner,
                created_at=now,
                expires_at=rules.expiry_of(now, lifetime_days),
                expiry_field="never_expires"
                if lifetime_days is None
                else ("lifetime_days"),
                scope=scope,
                allowed_networks=networks,
            ),
            instance_default=self._default_lifetime,
        )

    async def _own(
        self, session: AsyncSession, actor: Actor, request_id: str
    ) -> TokenRequest:
        request = await session.get(TokenRequest, request_id)
        if request is None or request.requester_id != actor.user_id:
            raise RequestNotFoundError(request_id)

        return request

    async def _to_decide(
        self, session: AsyncSession, actor: Actor, request_id: str, now: dt.datetime
    ) -> TokenRequest:
        request = await session.get(TokenRequest, request_id)
        if request is None:
            raise RequestNotFoundError(request_id)
        if actor.user_id is not None and request.requester_id == actor.user_id:
            raise InvalidInputError(
                "you cannot decide your own request; another token manager must"
            )
        require_status(request, now, RequestStatus.PENDING)

        return request
