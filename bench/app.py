"""The server under test: tokenward's app, plus a bare ASGI endpoint on the same
uvicorn server, so the two are measured under identical conditions.

Run by bench/forward_auth.py; reads the usual TOKENWARD_* settings.
"""

from __future__ import annotations

from tokenward.config import load_settings
from tokenward.container import Container
from tokenward.web.app import create_app
from tokenward.web.asgi import Receive, Scope, Send, send_empty

_tokenward = create_app(Container(load_settings()))


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """`/bare` answers 200 with nothing else done; everything else is tokenward."""
    if scope["type"] == "http" and scope["path"] == "/bare":
        await send_empty(send, 200, [])
        return
    await _tokenward(scope, receive, send)
