"""Request ids: one per HTTP request, in its log lines, its audit record and its answer.

A client or a proxy in front (nginx `$request_id`, Envoy, a load balancer) may send
`X-Request-ID`; it is kept when it is short and made of characters that cannot
forge a log line or a header, so one id follows a call through every hop. Otherwise
tokenward makes one. Either way the answer carries it back in `X-Request-ID`.
"""

from __future__ import annotations

import re
import secrets

import structlog

from tokenward.web.asgi import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
# The audit column holds 64 characters; ids of common proxies (32 hex digits,
# UUIDs, `Root=1-...` trace ids) fit.
MAX_LENGTH = 64
_SANE = re.compile(rf"[A-Za-z0-9._:+/=-]{{1,{MAX_LENGTH}}}")
_RAW_HEADER = HEADER.lower().encode("latin-1")
# Where the id is kept in the ASGI scope, for the REST API's dependencies.
STATE_KEY = "request_id"


def new_request_id() -> str:
    """A fresh id: 128 random bits in hexadecimal, like nginx's `$request_id`."""
    return secrets.token_hex(16)


def request_id_from(sent: str | None) -> str:
    """The id the client sent if it is sane, else a new one."""
    if sent is not None and _SANE.fullmatch(sent):
        return sent

    return new_request_id()


def scope_request_id(scope: Scope) -> str | None:
    """The id `RequestIdMiddleware` chose for this request, if it ran."""
    state = scope.get("state")
    found = state.get(STATE_KEY) if isinstance(state, dict) else None

    return found if isinstance(found, str) else None


class RequestIdMiddleware:
    """Pure ASGI middleware: chooses the request id, binds it into the structlog
    context for every line logged while the request runs, and echoes it.

    Plain ASGI rather than Starlette's BaseHTTPMiddleware, which runs the app in a
    separate task (context variables bound here would not reach it) and costs a
    task and a stream per request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        sent = None
        for name, value in scope["headers"]:
            if name.lower() == _RAW_HEADER:
                sent = value.decode("latin-1")
                break
        request_id = request_id_from(sent)
        # uvicorn gives each request its own copy of the lifespan state.
        scope.setdefault("state", {})[STATE_KEY] = request_id
        echoed = (_RAW_HEADER, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self._app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.reset_contextvars(**bound)
