"""What every REST route needs: the services, the caller, where the call came from."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBasic, HTTPBearer

from tokenward.audit.services import Origin
from tokenward.container import Container
from tokenward.errors import AuthenticationError
from tokenward.gate.addresses import IPAddress, client_from_headers, parse_address
from tokenward.policies.permissions import Actor
from tokenward.tokens.authentication import ApiCall
from tokenward.ui.sessions import SESSION_COOKIE, ForgeryError
from tokenward.web.credentials import parse_authorization
from tokenward.web.request_ids import request_id_from, scope_request_id


class _DocumentedBasic(HTTPBasic):
    """HTTP Basic as declared in the OpenAPI document, and nothing more.

    FastAPI's own HTTPBasic answers a malformed Basic header with its own 401 even
    with `auto_error=False`, ahead of our code and unlike our other refusals.
    """

    async def __call__(  # type: ignore[override]  # declares, never reads
        self, request: Request
    ) -> None:
        return None


# Declared for the OpenAPI document only; the header is parsed by our own code.
_bearer = HTTPBearer(auto_error=False, description="A tokenward token")
_basic = _DocumentedBasic(auto_error=False, description="username and tokenward token")


def container(request: Request) -> Container:
    found: Container = request.app.state.container

    return found


def origin(
    request: Request, services: Annotated[Container, Depends(container)]
) -> Origin:
    """Request fields for audit records (the REST API's dependency)."""
    return origin_of(request, services)


def origin_of(request: Request, services: Container) -> Origin:
    """Request fields for audit records; the request id is the one in the logs, the
    client address the one the token checks use."""
    request_id = scope_request_id(request.scope) or request_id_from(
        request.headers.get("x-request-id")
    )
    client = _client_address(request, services, _headers(request))

    return Origin(
        client_ip=None if client is None else str(client),
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
    """The caller, authenticated by a tokenward token (Bearer or Basic) or, with no
    Authorization header, by a web UI session (SPEC I2). A session's calls that
    change state must carry its CSRF token in X-CSRF-Token, as the pages do."""
    header = request.headers.get("authorization")
    if header is None and SESSION_COOKIE in request.cookies:
        return await _session_actor(request, services)
    credential = parse_authorization(header)
    if credential is None:
        raise AuthenticationError("a tokenward token is required (Bearer or Basic)")

    headers = _headers(request)
    call = ApiCall(
        method=request.method,
        path=request.url.path,
        client_ip=_client_address(request, services, headers),
        headers=headers,
    )

    return await services.tokens.authenticate(
        credential.secret, username=credential.username, call=call
    )


async def _session_actor(request: Request, services: Container) -> Actor:
    cookie = request.cookies[SESSION_COOKIE]
    person = await services.ui_sessions.resolve(cookie)
    if person is None:
        raise AuthenticationError("the web UI session has ended; sign in again")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        presented = request.headers.get("x-csrf-token")
        if not services.ui_sessions.csrf_matches(cookie, presented):
            raise ForgeryError(
                "a change made with a web UI session needs the session's "
                "X-CSRF-Token header; nothing was changed"
            )

    return person.actor


def _headers(request: Request) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers.items()}


def client_address(request: Request, services: Container) -> IPAddress | None:
    """The caller's address by the gate's rules (SPEC G5)."""
    return _client_address(request, services, _headers(request))


def _client_address(
    request: Request, services: Container, headers: dict[str, str]
) -> IPAddress | None:
    """The caller's address by the gate's rules (SPEC G5): forwarding headers are
    believed only from the configured trusted proxies."""
    peer = parse_address(request.client.host) if request.client else None
    if peer is None:
        return None

    return client_from_headers(
        peer,
        headers,
        header=services.settings.gate_forwarding_header,
        trusted_proxies=services.settings.trusted_proxy_networks,
    )


Services = Annotated[Container, Depends(container)]
Caller = Annotated[Actor, Depends(actor)]
RequestOrigin = Annotated[Origin, Depends(origin)]
