"""Bodies through the reverse proxy, streamed chunk by chunk in both directions.

Neither an upload nor a download is ever held whole: the request body is handed to
the upstream as the client sends it (the server stops reading from the client while
the upstream is slow to take it), and the answer is sent on as it arrives (the
server's `send` waits while the client is slow).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import httpx

from tokenward.gate.hop import end_to_end
from tokenward.web.asgi import Receive, Send


class ClientDisconnectedError(Exception):
    """The client went away while its request body was being forwarded."""


class RequestBody:
    """The request body as the upstream request's content, read as it arrives."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.done = False

    async def chunks(self) -> AsyncIterator[bytes]:
        """Each chunk the client sends; ClientDisconnectedError if it goes away."""
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnectedError
            chunk: bytes = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                self.done = True
                return


async def relay(
    response: httpx.Response,
    receive: Receive,
    send: Send,
    *,
    watch_disconnect: bool,
    on_cut: Callable[[Exception], None],
) -> None:
    """Send the upstream's answer on; stop reading it if the client goes away.

    The disconnect can be watched only once the request body has been read whole
    (`watch_disconnect`), since both arrive through `receive`. If the upstream
    breaks off mid-answer, `on_cut` hears why and the client's connection is
    closed without the end of the answer, so the client sees it cut, not whole.
    """
    streaming = asyncio.create_task(_stream(response, send, on_cut))
    if not watch_disconnect:
        await streaming
        return
    watcher = asyncio.create_task(_disconnected(receive))
    try:
        await asyncio.wait({streaming, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (watcher, streaming):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        with contextlib.suppress(asyncio.CancelledError):
            await streaming


async def _stream(
    response: httpx.Response, send: Send, on_cut: Callable[[Exception], None]
) -> None:
    headers = [
        (name.lower(), value) for name, value in end_to_end(response.headers.raw)
    ]
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": headers,
        }
    )
    try:
        async for chunk in response.aiter_raw():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except httpx.TransportError as error:
        # Too late for a 502. Returning without the final message makes the server
        # close the connection instead of ending the answer as if it were whole.
        on_cut(error)
        return
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
