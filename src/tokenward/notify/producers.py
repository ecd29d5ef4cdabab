"""Producers: the changes that call for a notification add it to the outbox within
their own transaction.

Each function here is called by the service that makes the change, inside its
transaction, and adds one row per e-mail audience and per subscribed webhook.
A dedupe key names what the row tells (event, token, and the reminder's lead time
or the address), so a producer that runs twice adds nothing twice.

Another kind of event is added the same way: a member of `NotificationEvent`, its
wording in `notify.messages`, and a function here that builds its facts and calls
`_outgoing` then `enqueue` in the transaction that made the change, as
`token_request_decided` does for token requests (SPEC P7).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.directory.models import Group, User, memberships
from tokenward.logs import get_logger
from tokenward.notify.documents import NotificationSettings
from tokenward.notify.events import Audience, Channel, NotificationEvent
from tokenward.notify.outbox import Outgoing, enqueue, load_notification_settings
from tokenward.policies.permissions import Actor
from tokenward.tokens.models import Token

if TYPE_CHECKING:
    from tokenward.requests.models import TokenRequest

log = get_logger(__name__)

DAY = dt.timedelta(days=1)


def token_facts(token: Token) -> dict[str, Any]:
    """What a notification may say about a token: never its secret or digest."""
    return {
        "token_id": token.id,
        "label": token.label,
        "owner": token.owner.username,
        "scope": token.scope,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
    }


def _outgoing(
    settings: NotificationSettings,
    event: NotificationEvent,
    key: str,
    facts: dict[str, Any],
    emails: Mapping[Audience, Sequence[str]],
) -> list[Outgoing]:
    rows = []
    if settings.email:
        for audience, addresses in emails.items():
            recipients = tuple(dict.fromkeys(a for a in addresses if a))
            if recipients:
                rows.append(
                    Outgoing(
                        event=event,
                        channel=Channel.EMAIL,
                        target=str(audience),
                        recipients=recipients,
                        payload={**facts, "audience": str(audience)},
                        dedupe_key=f"{key}:email:{audience}",
                    )
                )
    rows.extend(
        Outgoing(
            event=event,
            channel=Channel.WEBHOOK,
            target=webhook.name,
            recipients=(),
            payload=facts,
            dedupe_key=f"{key}:webhook:{webhook.name}",
        )
        for webhook in settings.webhooks_for(event)
    )

    return rows


async def token_created(
    session: AsyncSession, actor: Actor, token: Token, now: dt.datetime
) -> None:
    """Tell the owner of `token` when someone else created it for them."""
    if actor.user_id == token.owner_id:
        return
    settings = await load_notification_settings(session)
    event = NotificationEvent.TOKEN_CREATED_FOR_YOU
    if not settings.sends(event):
        return
    facts = {**token_facts(token), "actor": actor.name}
    emails = {Audience.OWNER: [token.owner.email]}
    await enqueue(
        session,
        _outgoing(settings, event, f"created:{token.id}", facts, emails),
        now=now,
    )


async def tokens_revoked(
    session: AsyncSession, actor: Actor, tokens: Sequence[Token], now: dt.datetime
) -> None:
    """Tell the owners of the `tokens` this actor revoked just now, when the actor
    is someone else."""
    revoked = [
        token
        for token in tokens
        if token.owner_id != actor.user_id
        and token.revoked_at == now
        and token.revoked_by == actor.name
    ]
    if not revoked:
        return
    settings = await load_notification_settings(session)
    event = NotificationEvent.TOKEN_REVOKED_FOR_YOU
    if not settings.sends(event):
        return
    outgoing = []
    for token in revoked:
        facts = {
            **token_facts(token),
            "actor": actor.name,
            "reason": token.revocation_reason,
        }
        emails = {Audience.OWNER: [token.owner.email]}
        outgoing += _outgoing(settings, event, f"revoked:{token.id}", facts, emails)
    await enqueue(session, outgoing, now=now)


@dataclass(frozen=True, slots=True)
class AddressUse:
    """Addresses a token was just used from, beside those stored for it before."""

    token_id: str
    used_at: dt.datetime | None
    addresses: Sequence[str]
    known: Sequence[str]

    @property
    def new(self) -> list[str]:
        # A token's first use has nothing to compare with: it is not "new".
        if not self.known or self.used_at is None:
            return []

        return [address for address in self.addresses if address not in self.known]


async def addresses_seen(session: AsyncSession, uses: Sequence[AddressUse]) -> None:
    """Tell owners of tokens used from an address new to them, when enabled.

    Called by the gate's usage flush, in its transaction. A failure here is
    logged and rolled back to a savepoint, never passed on: an alert that cannot be
    queued must not cost the usage counts written with it.
    """
    fresh = [use for use in uses if use.new]
    if not fresh:
        return
    try:
        async with session.begin_nested():
            await _enqueue_new_addresses(session, fresh)
    except Exception as error:  # noqa: BLE001 - see the docstring
        log.error(  # noqa: TRY400 - a database failure is already one line here
            "new_address_alert_failed", tokens=len(fresh), error=str(error)
        )


async def _enqueue_new_addresses(
    session: AsyncSession, fresh: Sequence[AddressUse]
) -> None:
    settings = await load_notification_settings(session)
    event = NotificationEvent.TOKEN_USED_FROM_NEW_ADDRESS
    if not settings.new_address_alerts or not settings.sends(event):
        return
    tokens = {
        token.id: token
        for token in await session.scalars(
            select(Token).where(Token.id.in_([use.token_id for use in fresh]))
        )
    }
    outgoing = []
    newest = None
    for use in fresh:
        token = tokens.get(use.token_id)
        # `fresh` holds only uses with a time: see `AddressUse.new`.
        if token is None or (used_at := use.used_at) is None:
            continue
        newest = max(newest or used_at, used_at)
        for address in use.new:
            facts = {
                **token_facts(token),
                "address": address,
                "used_at": used_at.isoformat(),
            }
            # Once a day per address at most, if it keeps coming and going from
            # the few addresses remembered.
            key = f"new-address:{token.id}:{address}:{used_at.date().isoformat()}"
            emails = {Audience.OWNER: [token.owner.email]}
            outgoing += _outgoing(settings, event, key, facts, emails)
    if newest is not None:
        await enqueue(session, outgoing, now=newest)


async def group_emails(session: AsyncSession, name: str | None) -> list[str]:
    """E-mail addresses of the active members of group `name` who have one."""
    if not name:
        return []
    addresses = await session.scalars(
        select(User.email)
        .join(memberships, memberships.c.user_id == User.id)
        .join(Group, Group.id == memberships.c.group_id)
        .where(Group.name == name, User.active.is_(True), User.email != "")
        .order_by(User.email)
    )

    return list(addresses)


def expiry_reminder(
    settings: NotificationSettings,
    token: Token,
    lead_days: int,
    now: dt.datetime,
    admin_emails: Sequence[str],
) -> list[Outgoing]:
    """The reminder, `lead_days` ahead, that `token` is about to expire."""
    assert token.expires_at is not None  # noqa: S101 - only expiring tokens come here
    days_left = max(1, math.ceil((token.expires_at - now) / DAY))
    facts = {**token_facts(token), "lead_days": lead_days, "days_left": days_left}
    emails = {
        Audience.OWNER: [token.owner.email],
        Audience.ADMINS: [a for a in admin_emails if a != token.owner.email],
    }

    return _outgoing(
        settings,
        NotificationEvent.TOKEN_EXPIRING,
        f"reminder:{token.id}:{lead_days}",
        facts,
        emails,
    )


async def token_request_decided(
    session: AsyncSession, request: TokenRequest, now: dt.datetime
) -> None:
    """Tell the requester that `request` was just approved or rejected."""
    approved = request.status == "approved"
    event = (
        NotificationEvent.REQUEST_APPROVED
        if approved
        else NotificationEvent.REQUEST_REJECTED
    )
    settings = await load_notification_settings(session)
    if not settings.sends(event):
        return
    facts: dict[str, Any] = {
        "request_id": request.id,
        "label": request.label,
        "requester": request.requester.username,
        "decided_by": request.decided_by,
        "reason": request.decision_reason,
    }
    if approved:
        facts.update(
            scope=request.approved_scope,
            lifetime_days=request.approved_lifetime_days,
            allowed_networks=request.approved_networks,
            generate_before=request.expires_at.isoformat(),
        )
    emails = {Audience.OWNER: [request.requester.email]}
    key = f"request:{request.id}:{request.status}"
    await enqueue(session, _outgoing(settings, event, key, facts, emails), now=now)
