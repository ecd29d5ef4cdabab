"""Small pieces of plain ASGI for the hot path, where no framework runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def header_map(scope: Scope) -> dict[str, str]:
    """Request headers by lower-case name; repeated headers are joined by commas."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value

    return headers


async def send_empty(send: Send, status: int, headers: list[tuple[str, str]]) -> None:
    """An answer with no body and an explicit `Content-Length: 0`."""
    raw = [(b"content-length", b"0")]
    raw.extend(
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in headers
    )
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b""})
