"""Debian's Caddy with docs/deploy/Caddyfile in front of tokenward (SPEC G7)."""

from __future__ import annotations

import pytest

from tests.e2e.behaviour import ProxyBehaviour
from tests.e2e.deployment import Launcher
from tests.e2e.proxies import binary, run_caddy

pytestmark = pytest.mark.skipif(
    binary("caddy") is None,
    reason="needs Caddy 2.6 or later (Debian: apt-get install caddy)",
)


@pytest.fixture
def launch() -> Launcher:
    """Starts Caddy with the documented configuration."""
    return run_caddy


class TestCaddy(ProxyBehaviour):
    # Caddy answers 502 Bad Gateway when forward_auth cannot reach tokenward.
    unreachable_statuses = (502,)
