"""The built-in reverse proxy: check each request, then stream it to the upstream
(SPEC G7, G6).

Plain ASGI, no framework on this path (DESIGN, "The hot path"). It runs on its own
listener (`gate_port`), apart from tokenward's API, so no upstream path can collide
with tokenward's own: every request that reaches it is the upstream's.

For each request: the gate decides on the normalised path; a refusal is answered
here, with a small JSON body (clients talk to this face directly). An allowed
request is forwarded with its original path and query, bodies streamed both ways
chunk by chunk, never held whole. On the way up, hop-by-hop headers and every
client-sent copy of an identity header or of `X-Tokenward-Authorization` are
removed, then the identity headers and the upstream `Authorization` are set from
the verdict: a tokenward token never reaches the upstream. Upstream failures
before the answer starts become 502 (`upstream_unavailable`) or 504
(`upstream_timeout`); these two codes are the proxy's own, not gate reasons.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

from tokenward.errors import ConfigurationError
from tokenward.gate.addresses import IPAddress, client_from_headers, in_networks
from tokenward.gate.addresses import parse_address as parse_peer
from tokenward.gate.answers import (
    UPSTREAM_TIMEOUT,
    UPSTREAM_UNAVAILABLE,
    send_refusal,
    send_upstream_error,
)
from tokenward.gate.decision import Denied, GateRequest
from tokenward.gate.forward_auth import AUTHORIZATION_HEADER, REASON_HEADER
from tokenward.gate.hop import FORWARDING, RawHeaders, end_to_end, forwarding_headers
from tokenward.gate.identity import identity_values, upstream_authorization
from tokenward.gate.paths import PathError, normalise_path
from tokenward.gate.reasons import Reason
from tokenward.gate.runtime import GateRuntime
from tokenward.gate.service import RequestMeta, Verdict
from tokenward.gate.streaming import ClientDisconnectedError, RequestBody, relay
from tokenward.logs import get_logger
from tokenward.web.asgi import Receive, Scope, Send, header_map
from tokenward.web.request_ids import request_id_from

FACE = "proxy"

# Bytes outside printable ASCII are percent-encoded before judging and forwarding,
# so the gate and the upstream read the same target.
_UNPRINTABLE = re.compile(rb"[^\x21-\x7e]")

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _Incoming:
    """One request as the proxy sees it, before and after the decision."""

    method: str
    target: bytes  # path and query, as sent (non-ASCII bytes percent-encoded)
    headers: dict[str, str]  # lower-case names, for the gate
    peer: IPAddress | None
    client: IPAddress | None
    request_id: str


def upstream_base(url: str | None) -> httpx.URL:
    """The upstream URL checked: http(s), a host, no query, no credentials."""
    if not url:
        raise ConfigurationError("the reverse proxy needs TOKENWARD_GATE_UPSTREAM_URL")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise ConfigurationError(
            f"TOKENWARD_GATE_UPSTREAM_URL is not a URL: {error}"
        ) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(
            "TOKENWARD_GATE_UPSTREAM_URL must be an http:// or https:// URL with a host"
        )
    if parsed.query or parsed.fragment or parsed.userinfo:
        raise ConfigurationError(
            "TOKENWARD_GATE_UPSTREAM_URL takes no query, fragment or user:password"
        )

    return parsed


class ProxyApp:
    """The ASGI app of the proxy listener. `start` before serving, `stop` after."""

    def __init__(self, runtime: GateRuntime) -> None:
        settings = runtime.settings
        self._runtime = runtime
        self._upstream = upstream_base(settings.gate_upstream_url)
        self._base_path = self._upstream.raw_path.split(b"?", 1)[0].rstrip(b"/")
        self._preserve_host = settings.gate_preserve_host
        self._ca_file = settings.gate_upstream_ca_file
        self._timeout = httpx.Timeout(
            connect=settings.gate_upstream_connect_timeout,
            read=settings.gate_upstream_read_timeout,
            write=settings.gate_upstream_read_timeout,
            pool=settings.gate_upstream_connect_timeout,
        )
        # Whatever the client sends under these names is dropped, whoever it is:
        # identity is tokenward's to assert (SPEC G6), forwarding headers are
        # rebuilt, and Authorization is replaced from the verdict.
        # `Expect: 100-continue` is answered by this server, not the upstream.
        removed = [*runtime.identity.names, AUTHORIZATION_HEADER, REASON_HEADER]
        removed += ["authorization", "expect", "x-request-id"]
        self._removed = FORWARDING | {
            name.lower().encode("latin-1") for name in removed
        }
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """Open the connection pool to the upstream."""
        if self._client is not None:
            return
        self._client = httpx.AsyncClient(
            timeout=self._timeout,
            verify=self._tls_context() if self._upstream.scheme == "https" else False,
            # A proxy does not follow redirects: the client does.
            follow_redirects=False,
            # Not from HTTP_PROXY and friends: the upstream is reached directly.
            trust_env=False,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=100),
            # Cookies belong to the clients; the shared client keeps none.
            cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),
        )

    async def stop(self) -> None:
        """Close the connection pool; requests still running fail."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # Not proxied; closing before accepting answers 403.
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            return
        incoming = self._incoming(scope)
        verdict = await self._check(incoming)
        decision = verdict.decision
        if isinstance(decision, Denied):
            await send_refusal(send, decision, request_id=incoming.request_id)
            return

        await self._forward(scope, receive, send, incoming, verdict)

    def _incoming(self, scope: Scope) -> _Incoming:
        headers = header_map(scope)
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        target = _printable(raw_path)
        if scope.get("query_string"):
            target += b"?" + _printable(scope["query_string"])
        peer = parse_peer(scope["client"][0]) if scope.get("client") else None
        client = (
            client_from_headers(
                peer,
                headers,
                header=self._runtime.forwarding_header,
                trusted_proxies=self._runtime.trusted_proxies,
            )
            if peer is not None
            else None
        )

        return _Incoming(
            method=scope["method"],
            target=target,
            headers=headers,
            peer=peer,
            client=client,
            request_id=request_id_from(headers.get("x-request-id")),
        )

    async def _check(self, incoming: _Incoming) -> Verdict:
        gate = self._runtime.gate
        headers = incoming.headers
        meta = RequestMeta(
            face=FACE,
            user_agent=headers.get("user-agent"),
            request_id=incoming.request_id,
        )
        path, _, query = incoming.target.decode("latin-1").partition("?")
        try:
            normalised = normalise_path(path)
        except PathError:
            unjudged = GateRequest(
                method=incoming.method[:16],
                path=path[:2048],
                query="",
                client_ip=incoming.client,
                authorization=None,
            )
            return await gate.refuse(unjudged, meta, Denied(Reason.INVALID_REQUEST))

        request = GateRequest(
            method=incoming.method,
            path=normalised,
            query=query,
            client_ip=incoming.client,
            authorization=headers.get("authorization"),
            headers=headers,
        )

        return await gate.check(request, meta)

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        incoming: _Incoming,
        verdict: Verdict,
    ) -> None:
        client = self._client
        if client is None:
            raise RuntimeError("the proxy was not started")
        raw: RawHeaders = list(scope["headers"])
        chunked = any(name.lower() == b"transfer-encoding" for name, _ in raw)
        sized = any(name.lower() == b"content-length" for name, _ in raw)
        body = RequestBody(receive) if chunked or sized else None
        request = httpx.Request(
            incoming.method,
            self._upstream.copy_with(raw_path=self._base_path + incoming.target),
            headers=self._upstream_headers(scope, raw, incoming, verdict, chunked),
            content=body.chunks() if body is not None else None,
        )

        try:
            response = await client.send(request, stream=True)
        except ClientDisconnectedError:
            return
        except httpx.TimeoutException as error:
            _log_failure(incoming, UPSTREAM_TIMEOUT, error)
            await send_upstream_error(
                send, UPSTREAM_TIMEOUT, request_id=incoming.request_id
            )
            return
        except httpx.TransportError as error:
            _log_failure(incoming, UPSTREAM_UNAVAILABLE, error)
            await send_upstream_error(
                send, UPSTREAM_UNAVAILABLE, request_id=incoming.request_id
            )
            return

        try:
            await relay(
                response,
                receive,
                send,
                watch_disconnect=body is None or body.done,
                on_cut=lambda error: _log_failure(incoming, "upstream_cut", error),
            )
        finally:
            await response.aclose()

    def _upstream_headers(
        self,
        scope: Scope,
        raw: RawHeaders,
        incoming: _Incoming,
        verdict: Verdict,
        chunked: bool,
    ) -> RawHeaders:
        removed = self._removed
        if not self._preserve_host:
            removed |= {b"host"}
        if chunked:
            # A chunked body's length is unknown here; RFC 9112 says to drop it.
            removed |= {b"content-length"}
        headers = end_to_end(raw, also=removed)

        runtime = self._runtime
        peer = str(incoming.peer) if incoming.peer is not None else None
        headers += forwarding_headers(
            raw,
            peer=peer,
            client=str(incoming.client) if incoming.client is not None else None,
            scheme=scope.get("scheme", "http"),
            host=incoming.headers.get("host"),
            trusted_peer=incoming.peer is not None
            and in_networks(incoming.peer, runtime.trusted_proxies),
        )
        headers.append((b"x-request-id", incoming.request_id.encode("latin-1")))
        identity = identity_values(verdict, runtime.identity, inject=runtime.inject)
        headers += [
            (name.lower().encode("latin-1"), value.encode("utf-8"))
            for name, value in identity.items()
        ]
        authorization = upstream_authorization(
            verdict, incoming.headers.get("authorization")
        )
        if authorization is not None:
            headers.append((b"authorization", authorization.encode("latin-1")))

        return headers

    def _tls_context(self) -> ssl.SSLContext:
        """Verify the upstream against the system's CAs, or only `ca_file`'s."""
        try:
            return ssl.create_default_context(
                cafile=str(self._ca_file) if self._ca_file else None
            )
        except (OSError, ssl.SSLError) as error:
            raise ConfigurationError(
                f"TOKENWARD_GATE_UPSTREAM_CA_FILE cannot be used: {error}"
            ) from None


def _log_failure(incoming: _Incoming, code: str, error: Exception) -> None:
    log.warning(
        "proxy_upstream_failed",
        code=code,
        error=type(error).__name__,
        detail=str(error),
        method=incoming.method,
        request_id=incoming.request_id,
    )


def _printable(raw: bytes) -> bytes:
    return _UNPRINTABLE.sub(lambda match: b"%%%02X" % match.group()[0], raw)
