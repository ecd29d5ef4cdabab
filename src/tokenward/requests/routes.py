"""REST routes for token requests: one's own under /requests, the queue of token
managers under /manage/requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Response

from tokenward.container import Container
from tokenward.requests.models import RequestStatus, TokenRequest
from tokenward.requests.schemas import (
    TokenRequestApprove,
    TokenRequestCreate,
    TokenRequestList,
    TokenRequestOut,
    TokenRequestReject,
)
from tokenward.tokens.schemas import IssuedTokenOut, TokenOut
from tokenward.web.dependencies import Caller, RequestOrigin, Services

router = APIRouter(tags=["token requests"])


def _listed(services: Container, requests: Sequence[TokenRequest]) -> TokenRequestList:
    now = services.clock.now()

    return TokenRequestList(items=[TokenRequestOut.of(r, now) for r in requests])


@router.post("/requests", status_code=201, response_model=TokenRequestOut)
async def request_token(
    body: TokenRequestCreate, services: Services, caller: Caller, origin: RequestOrigin
) -> TokenRequestOut:
    """Ask the token managers for a token (users who may not create their own)."""
    request = await services.token_requests.create(caller, origin, body.spec())

    return TokenRequestOut.of(request, services.clock.now())


@router.get("/requests", response_model=TokenRequestList)
async def list_my_requests(
    services: Services, caller: Caller, status: RequestStatus | None = None
) -> TokenRequestList:
    """Your token requests, newest first."""
    return _listed(
        services, await services.token_requests.list_own(caller, status=status)
    )


@router.post("/requests/{request_id}/cancel", response_model=TokenRequestOut)
async def cancel_my_request(
    request_id: str, services: Services, caller: Caller, origin: RequestOrigin
) -> TokenRequestOut:
    """Withdraw one of your requests that is pending, or approved and not generated."""
    request = await services.token_requests.cancel(caller, origin, request_id)

    return TokenRequestOut.of(request, services.clock.now())


@router.post(
    "/requests/{request_id}/token", status_code=201, response_model=IssuedTokenOut
)
async def generate_requested_token(
    request_id: str,
    services: Services,
    caller: Caller,
    origin: RequestOrigin,
    response: Response,
) -> IssuedTokenOut:
    """Generate the token of your approved request, once; its secret is in this
    answer only."""
    issued = await services.token_requests.fulfil(caller, origin, request_id)
    # The body holds a secret: no cache anywhere may keep it.
    response.headers["Cache-Control"] = "no-store"

    return IssuedTokenOut(
        token=TokenOut.of(issued.token, services.clock.now()), secret=issued.secret
    )


@router.get("/manage/requests", response_model=TokenRequestList, tags=["token manager"])
async def request_queue(
    services: Services,
    caller: Caller,
    status: RequestStatus | None = None,
    requester: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> TokenRequestList:
    """Token requests of every user, oldest first (token managers)."""
    requests = await services.token_requests.queue(
        caller, status=status, requester=requester, limit=limit
    )

    return _listed(services, requests)


@router.post(
    "/manage/requests/{request_id}/approve",
    response_model=TokenRequestOut,
    tags=["token manager"],
)
async def approve_request(
    request_id: str,
    services: Services,
    caller: Caller,
    origin: RequestOrigin,
    body: TokenRequestApprove | None = None,
) -> TokenRequestOut:
    """Approve a pending request as asked, or narrower (token managers)."""
    approval = (body or TokenRequestApprove()).approval()
    request = await services.token_requests.approve(
        caller, origin, request_id, approval
    )

    return TokenRequestOut.of(request, services.clock.now())


@router.post(
    "/manage/requests/{request_id}/reject",
    response_model=TokenRequestOut,
    tags=["token manager"],
)
async def reject_request(
    request_id: str,
    body: TokenRequestReject,
    services: Services,
    caller: Caller,
    origin: RequestOrigin,
) -> TokenRequestOut:
    """Reject a pending request with a reason the requester is told (token
    managers)."""
    request = await services.token_requests.reject(
        caller, origin, request_id, body.reason
    )

    return TokenRequestOut.of(request, services.clock.now())
