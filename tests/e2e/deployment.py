"""A deployment as a client meets it: a proxy, with tokenward and the upstream
behind it, all on loopback.

The client speaks from 127.0.0.2 and the proxy from 127.0.0.1, which alone is a
trusted proxy for tokenward: so, as in a real deployment, the client's address
reaches tokenward only in the forwarding header that the proxy writes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import uvicorn

from tests.e2e.upstream import EchoUpstream
from tests.support import LiveServer, Setup, free_port
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.web.app import create_app

PROXY_ADDRESS = "127.0.0.1"
CLIENT_ADDRESS = "127.0.0.2"
# Failed attempts a client may make before it is throttled; the tests stay below
# it, except the one about throttling.
FAILURE_LIMIT = 6
START_SECONDS = 10.0


class Launcher(Protocol):
    """Starts the proxy under test in front of `upstream`, asking `gate`; the
    context yields the proxy's base URL."""

    def __call__(
        self, workdir: Path, *, gate: str, upstream: str
    ) -> AbstractContextManager[str]: ...


@dataclass
class Deployment:
    url: str
    gate: LiveServer
    upstream: EchoUpstream
    setup: Setup
    _admin_token: str | None = None

    def call(
        self,
        method: str,
        path: str,
        *,
        authorization: str | None = None,
        headers: dict[str, str] | None = None,
        **options: Any,
    ) -> httpx.Response:
        """One request to the proxy, from the client address."""
        sent = dict(headers or {})
        if authorization is not None:
            sent["Authorization"] = authorization
        transport = httpx.HTTPTransport(local_address=CLIENT_ADDRESS)
        with httpx.Client(base_url=self.url, timeout=10, transport=transport) as client:
            return client.request(method, path, headers=sent, **options)

    def policy(self, **fields: Any) -> None:
        """Replace the gate policy through tokenward's REST API, as an admin would.

        This tokenward enforces it at once (the change is made in its process).
        """
        if self._admin_token is None:
            self._admin_token = self.setup.admin("policy-admin")
        with self.gate.client(self._admin_token) as api:
            answer = api.put("/policies/gate", json=fields)
        if answer.status_code != 200:
            raise AssertionError(f"the policy was refused: {answer.text}")


@contextmanager
def serve_gate(settings: Settings, clock: FrozenClock) -> Iterator[LiveServer]:
    """tokenward serving /auth/* (and its API) on a free loopback port.

    uvicorn runs as `tokenward serve` runs it, with its own X-Forwarded-For
    handling off: otherwise it would rewrite the peer address before tokenward
    applies its trusted proxies, and hide what the proxy under test sent.
    """
    container = Container(settings, clock=clock)
    port = free_port()
    config = uvicorn.Config(
        create_app(container),
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_level="warning",
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_SECONDS
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("tokenward did not start")
            time.sleep(0.01)
        yield LiveServer(url=f"http://127.0.0.1:{port}", container=container)
    finally:
        server.should_exit = True
        thread.join(timeout=START_SECONDS)
