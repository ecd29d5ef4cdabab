"""REST routes for tokens: one's own under /tokens, anyone's under /manage/tokens."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from tokenward.tokens.attributes import Scope
from tokenward.tokens.queries import TokenFilter
from tokenward.tokens.schemas import (
    IssuedTokenOut,
    ManagedTokenCreate,
    MyTokensRevoke,
    TokenCreate,
    TokenList,
    TokenOut,
    TokenPage,
    TokenRevoke,
    TokenRotate,
    TokensRevoke,
)
from tokenward.tokens.specs import IssuedToken
from tokenward.web.dependencies import Caller, RequestOrigin, Services

router = APIRouter(tags=["tokens"])
StatusQuery = Annotated[str | None, Query(pattern="^(active|expired|revoked)$")]


def _issued(
    services: Services, issued: IssuedToken, response: Response
) -> IssuedTokenOut:
    # The body holds a secret: no cache anywhere may keep it.
    response.headers["Cache-Control"] = "no-store"

    return IssuedTokenOut(
        token=TokenOut.of(issued.token, services.clock.now()), secret=issued.secret
    )


@router.post("/tokens", status_code=201, response_model=IssuedTokenOut)
async def create_my_token(
    body: TokenCreate,
    services: Services,
    caller: Caller,
    origin: RequestOrigin,
    response: Response,
) -> IssuedTokenOut:
    """Create a token for yourself; its secret is in this answer only."""
    issued = await services.tokens.create(caller, origin, body.spec())

    return _issued(services, issued, response)


@router.get("/tokens", response_model=TokenList)
async def list_my_tokens(
    services: Services, caller: Caller, status: StatusQuery = None
) -> TokenList:
    """Your tokens, newest first."""
    tokens = await services.tokens.list_own(caller, status=status)
    now = services.clock.now()

    return TokenList(items=[TokenOut.of(token, now) for token in tokens])


@router.get("/tokens/{token_id}", response_model=TokenOut)
async def get_my_token(token_id: str, services: Services, caller: Caller) -> TokenOut:
    """One of your tokens."""
    token = await services.tokens.get(caller, token_id)

    return TokenOut.of(token, services.clock.now())


@router.post("/tokens/{token_id}/revoke", response_model=TokenOut)
async def revoke_my_token(
    token_id: str,
    services: Services,
    caller: Caller,
    origin: RequestOrigin,
    body: TokenRevoke | None = None,
) -> TokenOut:
    """Revoke one of your tokens; it stops working at once."""
    reason = body.reason if body else ""
    [token] = await services.tokens.revoke(caller, origin, [token_id], reason=reason)

    return TokenOut.of(token, services.clock.now())


@router.post("/tokens/revoke", response_model=TokenList)
async def revoke_my_tokens(
    body: MyTokensRevoke, services: Services, caller: Caller, origin: RequestOrigin
) -> TokenList:
    """Revoke several of your tokens, or all of them with `"all": true`."""
    if body.all:
        tokens = await services.tokens.revoke_all(caller, origin, reason=body.reason)
    else:
        tokens = await services.tokens.revoke(
            caller, origin, body.token_ids, reason=body.reason
        )
    now = services.clock.now()

    return TokenList(items=[TokenOut.of(token, now) for token in tokens])


@router.post(
    "/tokens/{token_id}/rotate", status_code=201, response_model=IssuedTokenOut
)
async def rotate_my_token(
    token_id: str,
    services: Services,
    caller: Caller,
    origin: RequestOrigin,
    response: Response,
    body: TokenRotate | None = None,
) -> IssuedTokenOut:
    """Replace a token's secret; the old one may keep working for a grace period."""
    grace = dt.timedelta(seconds=body.grace_seconds) if body else None
    issued = await services.tokens.rotate(caller, origin, token_id, grace=grace)

    return _issued(services, issued, response)


@router.get("/manage/tokens", response_model=TokenPage, tags=["token manager"])
async def search_tokens(
    services: Services,
    caller: Caller,
    user: Annotated[list[str] | None, Query(description="Owner usernames")] = None,
    label: str | None = None,
    status: StatusQuery = None,
    scope: Scope | None = None,
    # Aware only: a bound without a time zone would be a guess (and cannot be stored).
    expires_after: AwareDatetime | None = None,
    expires_before: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> TokenPage:
    """Find tokens of any user (token managers)."""
    criteria = TokenFilter(
        owners=user or [],
        label=label,
        status=status,
        scope=scope,
        expires_after=expires_after,
        expires_before=expires_before,
        limit=limit,
        offset=offset,
    )
    tokens, total = await services.tokens.search(caller, criteria)
    now = services.clock.now()

    return TokenPage(
        items=[TokenOut.of(token, now) for token in tokens],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/manage/tokens",
    status_code=201,
    response_model=IssuedTokenOut,
    tags=["token manager"],
)
async def create_token_for_user(
    body: ManagedTokenCreate,
    services: Services,
    caller: Caller,
    origin: RequestOrigin,
    response: Response,
) -> IssuedTokenOut:
    """Create a token for a user (token managers); the secret is in this answer only."""
    issued = await services.tokens.create(caller, origin, body.spec(), owner=body.owner)

    return _issued(services, issued, response)


@router.get(
    "/manage/tokens/{token_id}", response_model=TokenOut, tags=["token manager"]
)
async def get_any_token(token_id: str, services: Services, caller: Caller) -> TokenOut:
    """Any user's token (token managers)."""
    token = await services.tokens.get(caller, token_id, managed=True)

    return TokenOut.of(token, services.clock.now())


@router.post("/manage/tokens/revoke", response_model=TokenList, tags=["token manager"])
async def revoke_tokens(
    body: TokensRevoke, services: Services, caller: Caller, origin: RequestOrigin
) -> TokenList:
    """Revoke several tokens by id, or every token of `owner` (token managers)."""
    if body.owner is not None:
        tokens = await services.tokens.revoke_all(
            caller, origin, owner=body.owner, reason=body.reason, managed=True
        )
    else:
        tokens = await services.tokens.revoke(
            caller, origin, body.token_ids, reason=body.reason, managed=True
        )
    now = services.clock.now()

    return TokenList(items=[TokenOut.of(token, now) for token in tokens])
