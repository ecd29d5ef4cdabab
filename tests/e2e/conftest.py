"""Fixtures for end-to-end tests: tokenward, an upstream, and a real proxy from
docs/deploy between them and the client. Each test module names its proxy by
providing `launch`."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.e2e.deployment import FAILURE_LIMIT, PROXY_ADDRESS, Deployment, Launcher
from tests.e2e.upstream import EchoUpstream, run_upstream
from tests.support import LiveServer, Setup, free_port
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.web.app import create_app

# The shared checks live outside test modules; their asserts should explain too.
# (Before any test module imports them.)
pytest.register_assert_rewrite("tests.e2e.behaviour")

START_SECONDS = 10.0


@pytest.fixture
def gate_settings(settings: Settings) -> Settings:
    """tokenward's settings behind a proxy on 127.0.0.1."""
    return settings.model_copy(
        update={
            "gate_trusted_proxies": [f"{PROXY_ADDRESS}/32"],
            "gate_failure_limit": FAILURE_LIMIT,
        }
    )


@pytest.fixture
def gate(gate_settings: Settings, clock: FrozenClock) -> Iterator[LiveServer]:
    """tokenward serving /auth/* (and its API) on a free loopback port.

    uvicorn runs as `tokenward serve` runs it, with its own X-Forwarded-For
    handling off: otherwise it would rewrite the peer address before tokenward
    applies its trusted proxies, and hide what the proxy under test sent.
    """
    container = Container(gate_settings, clock=clock)
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


@pytest.fixture
def upstream() -> Iterator[EchoUpstream]:
    """The protected API, echoing each request it receives."""
    with run_upstream() as echo:
        yield echo


@pytest.fixture
def deployment(
    launch: Launcher,
    gate: LiveServer,
    upstream: EchoUpstream,
    setup: Setup,
    tmp_path: Path,
) -> Iterator[Deployment]:
    """tokenward and the upstream behind the proxy under test."""
    with launch(
        tmp_path / "proxy",
        gate=gate.url.removeprefix("http://"),
        upstream=upstream.address,
    ) as url:
        yield Deployment(url=url, gate=gate, upstream=upstream, setup=setup)
