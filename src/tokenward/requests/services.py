"""The token request lifecycle (SPEC P7): ask, cancel, approve or reject, generate,
and expire.

Every step writes its audit record in the transaction that makes it, and each
change of status is an UPDATE guarded by the status it leaves, so two managers
deciding at once, or a double click on "generate", change a request once only.
A request the actor may not see is reported exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from tokenward.audit.events import AuditEvent
from tokenward.audit.services import AuditEntry, Origin, append
from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.directory.models import User
from tokenward.directory.services import find_user
from tokenward.errors import ConflictError, InvalidInputError, NotFoundError
from tokenward.instance import InstanceSecret
from tokenward.notify import producers as notify
from tokenward.policies.enforcement import NewToken, conform_new_token
from tokenward.policies.permissions import Actor, Permission, require
from tokenward.requests import rules
from tokenward.requests.models import OPEN, RequestStatus, TokenRequest
from tokenward.tokens import attributes, format
from tokenward.tokens.attributes import Scope, Tier
from tokenward.tokens.digest import token_digest
from tokenward.tokens.models import Token
from tokenward.tokens.specs import IssuedToken, new_token_id

MAX_PAGE = 500
# Records written by the expiry job carry no request; nobody acted but time.
_JOB_ORIGIN = Origin()


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
            entry = _entry(
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
            await append(session, [entry], origin=origin, now=now)

        return request

    async def list_own(
        self, actor: Actor, *, status: RequestStatus | None = None
    ) -> Sequence[TokenRequest]:
        """The actor's requests, newest first."""
        query = select(TokenRequest).where(TokenRequest.requester_id == actor.user_id)
        query = _with_status(query, status, self._clock.now())

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
        query = _with_status(select(TokenRequest), status, self._clock.now())

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
            await _move(
                session,
                request,
                now,
                OPEN,
                status=str(RequestStatus.CANCELLED),
                closed_at=now,
            )
            entry = _entry(AuditEvent.TOKEN_REQUEST_CANCELLED, actor, request)
            await append(session, [entry], origin=origin, now=now)

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
            await _move(
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
            entry = _entry(
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
            await append(session, [entry], origin=origin, now=now)
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
            await _move(
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
            entry = _entry(
                AuditEvent.TOKEN_REQUEST_REJECTED, actor, request, reason=cleaned
            )
            await append(session, [entry], origin=origin, now=now)
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
            _require_status(request, now, RequestStatus.APPROVED)
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
            secret = format.generate(self._prefix)
            token = Token(
                id=new_token_id(),
                digest=token_digest(self._key, secret),
                owner=request.requester,
                creator=request.requester,
                label=request.label,
                tier=str(Tier.REQUEST),
                created_at=now,
                expires_at=expires_at,
                scope=str(scope),
                allowed_networks=networks,
                header_restrictions={},
                rate_limit_per_minute=None,
                use_count=0,
                last_used_from=[],
            )
            session.add(token)
            await session.flush()
            await _move(
                session,
                request,
                now,
                (RequestStatus.APPROVED,),
                status=str(RequestStatus.FULFILLED),
                token_id=token.id,
                closed_at=now,
            )
            details: dict[str, Any] = {
                "label": token.label,
                "scope": token.scope,
                "tier": token.tier,
                "expires_at": expires_at.isoformat() if expires_at else None,
                "allowed_networks": networks,
                "request_id": request.id,
                "approved_by": request.decided_by,
            }
            created = AuditEntry(
                AuditEvent.TOKEN_CREATED,
                actor=actor.name,
                subject=actor.name,
                token_id=token.id,
                details=details,
            )
            fulfilled = _entry(
                AuditEvent.TOKEN_REQUEST_FULFILLED,
                actor,
                request,
                token_id=token.id,
                approved_by=request.decided_by,
            )
            await append(session, [created, fulfilled], origin=origin, now=now)

        return IssuedToken(token=token, secret=secret)

    async def expire_due(
        self,
        *,
        batch: int = 500,
        between_batches: Callable[[], Awaitable[None]] | None = None,
    ) -> int:
        """Mark every open request past its expiry as expired, with one audit
        record each, exactly once however many runs overlap; returns how many."""
        total = 0
        while True:
            async with self._db.write() as session:
                now = self._clock.now()
                due = await session.execute(
                    select(TokenRequest.id, TokenRequest.status, User.username)
                    .join(User, User.id == TokenRequest.requester_id)
                    .where(
                        TokenRequest.status.in_([str(s) for s in OPEN]),
                        TokenRequest.expires_at <= now,
                    )
                    .order_by(TokenRequest.expires_at, TokenRequest.id)
                    .limit(batch)
                )
                candidates = {row.id: row for row in due}
                won = set(
                    await session.scalars(
                        update(TokenRequest)
                        .where(
                            TokenRequest.id.in_(list(candidates)),
                            TokenRequest.status.in_([str(s) for s in OPEN]),
                            TokenRequest.expires_at <= now,
                        )
                        .values(status=str(RequestStatus.EXPIRED), closed_at=now)
                        .returning(TokenRequest.id)
                        .execution_options(synchronize_session=False)
                    )
                )
                entries = [
                    AuditEntry(
                        AuditEvent.TOKEN_REQUEST_EXPIRED,
                        subject=row.username,
                        details={"request_id": row.id, "was": row.status},
                    )
                    for request_id, row in candidates.items()
                    if request_id in won
                ]
                await append(session, entries, origin=_JOB_ORIGIN, now=now)
            total += len(entries)
            if len(candidates) < batch:
                return total
            if between_batches is not None:
                await between_batches()

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
        _require_status(request, now, RequestStatus.PENDING)

        return request


def _require_status(
    request: TokenRequest, now: dt.datetime, wanted: RequestStatus
) -> None:
    status = request.status_at(now)
    if status is wanted:
        return
    detail = {
        RequestStatus.FULFILLED: f"; its token is {request.token_id}",
        RequestStatus.PENDING: "; it awaits a token manager's decision",
    }.get(status, "")
    raise ConflictError(
        f"token request {request.id!r} is {status}, not {wanted}{detail}",
        field="request_id",
    )


async def _move(
    session: AsyncSession,
    request: TokenRequest,
    now: dt.datetime,
    sources: Sequence[RequestStatus],
    **values: Any,
) -> None:
    """Change `request` if it is still in one of `sources` and unexpired, else a
    conflict: another transaction got there first."""
    moved = await session.scalar(
        update(TokenRequest)
        .where(
            TokenRequest.id == request.id,
            TokenRequest.status.in_([str(s) for s in sources]),
            TokenRequest.expires_at > now,
        )
        .values(**values)
        .returning(TokenRequest.id)
        .execution_options(synchronize_session=False)
    )
    if moved is None:
        await session.refresh(request)
        raise ConflictError(
            f"token request {request.id!r} is {request.status_at(now)} now",
            field="request_id",
        )
    # Committed values: the UPDATE above wrote them; a flush must not again.
    for name, value in values.items():
        set_committed_value(request, name, value)


def _with_status(
    query: Select[TokenRequest], status: RequestStatus | None, now: dt.datetime
) -> Select[TokenRequest]:
    if status is None:
        return query
    column = TokenRequest.status
    if status in OPEN:
        return query.where(column == str(status), TokenRequest.expires_at > now)
    if status is RequestStatus.EXPIRED:
        lapsed = column.in_([str(s) for s in OPEN]) & (TokenRequest.expires_at <= now)
        return query.where((column == str(status)) | lapsed)

    return query.where(column == str(status))


def _entry(
    event: AuditEvent, actor: Actor, request: TokenRequest, **details: Any
) -> AuditEntry:
    return AuditEntry(
        event,
        actor=actor.name,
        subject=request.requester.username,
        details={"request_id": request.id, **details},
    )
