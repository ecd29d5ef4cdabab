"""Fixtures for end-to-end tests: tokenward, an upstream, and a real proxy from
docs/deploy between them and the client. Each test module names its proxy by
providing `launch`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.deployment import (
    FAILURE_LIMIT,
    PROXY_ADDRESS,
    Deployment,
    Launcher,
    serve_gate,
)
from tests.e2e.upstream import EchoUpstream, run_upstream
from tests.support import LiveServer, Setup
from tokenward.clock import FrozenClock
from tokenward.config import Settings

# The shared checks live outside test modules; their asserts should explain too.
# (Before any test module imports them.)
pytest.register_assert_rewrite("tests.e2e.behaviour", "tests.e2e.checks")


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
    """tokenward serving /auth/* (and its API) on a free loopback port."""
    with serve_gate(gate_settings, clock) as live:
        yield live


@pytest.fixture
def upstream() -> Iterator[EchoUpstream]:
    """The protected API, echoing each request it receives."""
    with run_upstream() as echo:
        yield echo


@pytest.fixture
def injecting_gate(
    gate_settings: Settings, upstream: EchoUpstream, clock: FrozenClock
) -> Iterator[LiveServer]:
    """tokenward with credential injection on; a credential is checked against
    the echoing upstream (which accepts any) when it is saved."""
    injecting = gate_settings.model_copy(
        update={
            "gate_identity": "inject",
            "gate_upstream_check_path": f"http://{upstream.address}/myself",
        }
    )
    with serve_gate(injecting, clock) as live:
        yield live


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
