"""What generating an approved request makes (SPEC P7): the token, owned and
created by the requester in the request tier, and its two audit records.

The service moves the request and writes both in one transaction; the secret
leaves only in its answer to the requester.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tokenward.audit.events import AuditEvent
from tokenward.audit.services import AuditEntry
from tokenward.policies.permissions import Actor
from tokenward.requests.models import TokenRequest
from tokenward.requests.transitions import entry
from tokenward.tokens import format
from tokenward.tokens.attributes import Scope, Tier
from tokenward.tokens.digest import token_digest
from tokenward.tokens.models import Token
from tokenward.tokens.specs import new_token_id


def requested_token(
    request: TokenRequest,
    *,
    key: bytes,
    prefix: str,
    now: dt.datetime,
    expires_at: dt.datetime | None,
    scope: Scope,
    networks: list[str],
) -> tuple[Token, str]:
    """A new token for the request's requester, and its secret."""
    secret = format.generate(prefix)
    token = Token(
        id=new_token_id(),
        digest=token_digest(key, secret),
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

    return token, secret


def generation_records(
    actor: Actor, request: TokenRequest, token: Token
) -> list[AuditEntry]:
    """`token_created` and `token_request_fulfilled`, for the token just made."""
    expires_at = token.expires_at
    details: dict[str, Any] = {
        "label": token.label,
        "scope": token.scope,
        "tier": token.tier,
        "expires_at": expires_at.isoformat() if expires_at else None,
        "allowed_networks": token.allowed_networks,
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
    fulfilled = entry(
        AuditEvent.TOKEN_REQUEST_FULFILLED,
        actor,
        request,
        token_id=token.id,
        approved_by=request.decided_by,
    )

    return [created, fulfilled]
