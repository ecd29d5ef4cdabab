"""What every REST route needs: the services, the caller, where the call came from."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBasic, HTTPBearer

from tokenward.audit.services import Origin
from tokenward.container import Container
from tokenward.errors import AuthenticationError
from tokenward.policies.permissions import Actor
from tokenward.web.credentials import parse_authorization
from tokenward.web.request_ids import request_id_from, scope_request_id

# Declared for the OpenAPI document only; the header is parsed by our own code.
_bearer = HTTPBearer(auto_error=False, description="A tokenward token")
_basic = HTTPBasic(auto_error=False, description="username and tokenward token")


def container(request: Request) -> Container:
    found: Container = request.app.state.container

    return found


def origin(request: Request) -> Origin:
    """Request fields for audit records; the request id is the one in the logs."""
    request_id = scope_request_id(request.scope) or request_id_from(
        request.headers.get("x-request-id")
    )

    return Origin(
        client_ip=request.client.host if request.client else None,
        method=request.method,
        path=request.url.path,
        user_agent=request.headers.get("user-agent"),
        request_id=request_id,
    )


async def actor(
    request: Request,
    services: Annotated[Container, Depends(container)],
    _bearer_doc: Annotated[object, Depends(_bearer)] = None,
    _basic_doc: Annotated[object, Depends(_basic)] = None,
) -> Actor:
    """The caller, authenticated by a tokenward token (Bearer or Basic)."""
    credential = parse_authorization(request.headers.get("authorization"))
    if credential is None:
        raise AuthenticationError("a tokenward token is required (Bearer or Basic)")

    return await services.tokens.authenticate(
        credential.secret, username=credential.username
    )


Services = Annotated[Container, Depends(container)]
Caller = Annotated[Actor, Depends(actor)]
RequestOrigin = Annotated[Origin, Depends(origin)]
