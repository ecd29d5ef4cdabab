"""What the reverse proxy answers itself, when it does not forward a request.

Forward-auth answers carry no body (the proxy in front shows its own page); the
reverse proxy answers the client directly, so a refusal carries, besides the
reason's status and `X-Tokenward-Reason`, a small JSON body saying in words what
the code means: `{"error": {"code": ..., "message": ...}}`. Messages name no secret
and no other user.

Two codes are the proxy's own, not gate reasons (the gate allowed the request;
the upstream failed it): `upstream_unavailable` (502) and `upstream_timeout` (504).
"""

from __future__ import annotations

import json

from tokenward.gate.decision import Denied
from tokenward.gate.forward_auth import REASON_HEADER, WWW_AUTHENTICATE
from tokenward.gate.reasons import Reason
from tokenward.web.asgi import Send

UPSTREAM_UNAVAILABLE = "upstream_unavailable"
UPSTREAM_TIMEOUT = "upstream_timeout"
_UPSTREAM = {
    UPSTREAM_UNAVAILABLE: (502, "The upstream cannot be reached."),
    UPSTREAM_TIMEOUT: (504, "The upstream did not answer in time."),
}

MESSAGES: dict[Reason, str] = {
    Reason.TOKEN_REQUIRED: (
        "This path needs an API token: send it as Authorization: Bearer <token>."
    ),
    Reason.MALFORMED_CREDENTIALS: (
        "The Authorization header is neither Bearer <token> nor Basic credentials."
    ),
    Reason.MALFORMED_TOKEN: "The token is mistyped or cut: its checksum is wrong.",
    Reason.TOKEN_IN_URL: (
        "Tokens are never accepted in the URL; send the token in the Authorization "
        "header and revoke the one that was exposed."
    ),
    Reason.UNKNOWN_TOKEN: "The token is not known.",
    Reason.TOKEN_REVOKED: "The token has been revoked.",
    Reason.TOKEN_EXPIRED: "The token has expired.",
    Reason.USERNAME_MISMATCH: (
        "With Basic authentication, the username must be the owner of the token."
    ),
    Reason.PASSWORD_DENIED: "Password logins are disabled here; use an API token.",
    Reason.OWNER_DISABLED: "The owner of the token is deactivated.",
    Reason.OWNER_NOT_PERMITTED: "The owner of the token may not use API tokens.",
    Reason.NETWORK_NOT_ALLOWED: "API authentication is not allowed from this address.",
    Reason.TOKEN_NETWORK_NOT_ALLOWED: "This token may not be used from this address.",
    Reason.READ_ONLY_SCOPE: "The token is read-only and this request is a write.",
    Reason.HEADER_MISMATCH: "The request lacks a header value this token requires.",
    Reason.UPSTREAM_CREDENTIAL_MISSING: (
        "No upstream credential is stored for the owner of the token; store one "
        "in tokenward first."
    ),
    Reason.INVALID_REQUEST: (
        "The request path cannot be judged safely, for example because it climbs "
        "above the root."
    ),
    Reason.RATE_LIMITED: "The token's rate limit is reached; retry later.",
    Reason.THROTTLED: "Too many failed attempts from this address; retry later.",
    Reason.UNAVAILABLE: "tokenward cannot decide right now; retry later.",
}


def refusal_message(reason: Reason) -> str:
    """The sentence that explains a refusal for `reason`."""
    return MESSAGES.get(reason, "The request is refused.")


async def send_refusal(send: Send, decision: Denied, *, request_id: str) -> None:
    """Answer a refusal: the reason's status, its code and message, and the
    `WWW-Authenticate` (401) or `Retry-After` (429) a client needs."""
    reason = decision.reason
    extra: list[tuple[str, str]] = []
    if reason.status == 401:
        extra.append(("www-authenticate", WWW_AUTHENTICATE))
    if decision.retry_after is not None:
        extra.append(("retry-after", str(decision.retry_after)))
    await _send_json(
        send,
        status=reason.status,
        code=str(reason),
        message=refusal_message(reason),
        request_id=request_id,
        extra=extra,
    )


async def send_upstream_error(send: Send, code: str, *, request_id: str) -> None:
    """Answer 502 (`upstream_unavailable`) or 504 (`upstream_timeout`)."""
    status, message = _UPSTREAM[code]
    await _send_json(
        send, status=status, code=code, message=message, request_id=request_id
    )


async def _send_json(
    send: Send,
    *,
    status: int,
    code: str,
    message: str,
    request_id: str,
    extra: list[tuple[str, str]] | None = None,
) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [
        ("content-type", "application/json"),
        ("content-length", str(len(body))),
        ("cache-control", "no-store"),
        (REASON_HEADER.lower(), code),
        ("x-request-id", request_id),
        *(extra or []),
    ]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(name.encode(), value.encode()) for name, value in headers],
        }
    )
    await send({"type": "http.response.body", "body": body})
