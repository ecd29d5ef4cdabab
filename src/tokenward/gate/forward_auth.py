"""Forward auth: the endpoint that nginx, Traefik, Caddy and Envoy ask (SPEC G7).

Plain ASGI, no framework on this path (DESIGN, "The hot path"). Each proxy family
sends the original request differently:

- nginx `auth_request` → GET /auth/nginx with X-Original-Method, X-Original-URI;
- Traefik ForwardAuth, Caddy `forward_auth` → GET /auth/forward with
  X-Forwarded-Method, X-Forwarded-Uri;
- Envoy `ext_authz` (HTTP) → the original method on /auth/envoy + original path.

Answers have no body and `Content-Length: 0`: with a body, nginx drops its
upstream connection after every check.
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from tokenward.gate.addresses import IPAddress, client_from_headers, parse_address
from tokenward.gate.decision import Denied, GateRequest
from tokenward.gate.identity import identity_values, upstream_authorization
from tokenward.gate.paths import PathError, normalise_path, split_target
from tokenward.gate.reasons import Reason
from tokenward.gate.runtime import GateRuntime
from tokenward.gate.service import RequestMeta, Verdict
from tokenward.web.asgi import Receive, Scope, Send, header_map, send_empty
from tokenward.web.request_ids import HEADER as REQUEST_ID_HEADER
from tokenward.web.request_ids import request_id_from

PREFIX = "/auth/"
ENVOY = "/auth/envoy"
REASON_HEADER = "X-Tokenward-Reason"
AUTHORIZATION_HEADER = "X-Tokenward-Authorization"
WWW_AUTHENTICATE = 'Bearer realm="tokenward", Basic realm="tokenward"'
# nginx `auth_request` knows only 2xx, 401 and 403: any other status reaches the
# client as a 500 and costs an error line in nginx's log. So the nginx face refuses
# with 403 and names the status it means here; docs/deploy/nginx.conf turns it back
# into that status (429 with Retry-After, 400, 503).
STATUS_HEADER = "X-Tokenward-Status"
_NGINX_STATUSES = frozenset({401, 403})
# Envoy sets the headers tokenward returns but removes only those it is told to.
ENVOY_REMOVE_HEADER = "x-envoy-auth-headers-to-remove"


class ForwardAuthApp:
    def __init__(self, runtime: GateRuntime) -> None:
        self._runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = header_map(scope)
        path: str = scope["path"]
        if path == "/auth/nginx":
            face, method = "nginx", headers.get("x-original-method")
            target = _target_of(
                headers.get("x-original-uri"), headers, "x-original-url"
            )
        elif path == "/auth/forward":
            face, method = "forward", headers.get("x-forwarded-method")
            target = headers.get("x-forwarded-uri")
        elif path == ENVOY or path.startswith(ENVOY + "/"):
            face, method = "envoy", scope["method"]
            raw = scope.get("raw_path") or path.encode()
            target = raw.decode("latin-1")[len(ENVOY) :] or "/"
            if scope.get("query_string"):
                target += "?" + scope["query_string"].decode("latin-1")
        else:
            await send_empty(send, 404, [])
            return

        request_id = request_id_from(headers.get("x-request-id"))
        # Every line logged meanwhile (uvicorn's access line too) names the request.
        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            verdict = await self._check(
                scope, headers, face, method, target, request_id=request_id
            )
            status, answer = self._answer(verdict, headers, face)
            answer.append((REQUEST_ID_HEADER, request_id))
            await send_empty(send, status, answer)
        finally:
            structlog.contextvars.reset_contextvars(**bound)

    async def _check(
        self,
        scope: Scope,
        headers: Mapping[str, str],
        face: str,
        method: str | None,
        target: str | None,
        *,
        request_id: str,
    ) -> Verdict:
        runtime = self._runtime
        meta = RequestMeta(
            face=face, user_agent=headers.get("user-agent"), request_id=request_id
        )
        peer = parse_address(scope["client"][0]) if scope.get("client") else None
        client = (
            client_from_headers(
                peer,
                headers,
                header=runtime.forwarding_header,
                trusted_proxies=runtime.trusted_proxies,
            )
            if peer is not None
            else None
        )
        request = _request(method, target, client, headers)
        if request is None:
            unjudged = GateRequest(
                method=(method or "GET").upper()[:16],
                # Never the query: it may hold a token, and this goes to the audit.
                path=split_target(target or "/")[0][:2048],
                query="",
                client_ip=client,
                authorization=None,
            )
            return await runtime.gate.refuse(
                unjudged, meta, Denied(Reason.INVALID_REQUEST)
            )

        return await runtime.gate.check(request, meta)

    def _answer(
        self, verdict: Verdict, headers: Mapping[str, str], face: str
    ) -> tuple[int, list[tuple[str, str]]]:
        decision = verdict.decision
        answer = [(REASON_HEADER, str(decision.reason))]
        if isinstance(decision, Denied):
            status = decision.reason.status
            if status == 401:
                answer.append(("WWW-Authenticate", WWW_AUTHENTICATE))
            if decision.retry_after is not None:
                answer.append(("Retry-After", str(decision.retry_after)))
            if face == "nginx" and status not in _NGINX_STATUSES:
                answer.append((STATUS_HEADER, str(status)))
                status = 403
            return status, answer

        runtime = self._runtime
        values = identity_values(verdict, runtime.identity, inject=runtime.inject)
        answer.extend(values.items())
        authorization = upstream_authorization(verdict, headers.get("authorization"))
        if authorization is not None:
            answer.append((AUTHORIZATION_HEADER, authorization))
            if face != "nginx":
                # Traefik and Envoy copy a header only under its own name.
                answer.append(("Authorization", authorization))
        if face == "envoy":
            removed = [name for name in runtime.identity.names if name not in values]
            if authorization is None:
                removed.append("Authorization")
            answer.append((ENVOY_REMOVE_HEADER, ",".join(removed).lower()))

        return 200, answer


def _request(
    method: str | None,
    target: str | None,
    client: IPAddress | None,
    headers: Mapping[str, str],
) -> GateRequest | None:
    """The request to judge, or None if the proxy sent too little to judge it."""
    if not method or not target:
        return None
    path, query = split_target(target)
    try:
        normalised = normalise_path(path)
    except PathError:
        return None

    return GateRequest(
        method=method.upper(),
        path=normalised,
        query=query,
        client_ip=client,
        authorization=headers.get("authorization"),
        headers=headers,
    )


def _target_of(
    uri: str | None, headers: Mapping[str, str], url_header: str
) -> str | None:
    """The request target from an URI header, or from the path of a full URL."""
    if uri:
        return uri
    url = headers.get(url_header)
    if not url:
        return None
    after_scheme = url.split("://", 1)[-1]
    slash = after_scheme.find("/")

    return after_scheme[slash:] if slash >= 0 else "/"
