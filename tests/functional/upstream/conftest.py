"""Fixtures for credential injection: a fake Jira on loopback, and tokenward
configured to check credentials against it and to inject them (G6)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.functional.upstream.fake_jira import FakeJira, running_jira
from tests.support import LiveServer
from tokenward.config import Settings


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    """A fake Jira Data Center, answering on a free loopback port."""
    with running_jira() as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, jira: FakeJira) -> Settings:
    """The test's settings, with `jira` as the upstream and injection on."""
    return settings.model_copy(
        update={
            "gate_upstream_url": jira.url,
            "gate_identity": "inject",
            "gate_cache_poll_seconds": 0.05,
        }
    )


def new_pat() -> str:
    """A fresh value shaped like an Atlassian personal access token."""
    return secrets.token_urlsafe(33)


def save(
    server: LiveServer, token: str, value: str, scheme: str = "bearer"
) -> httpx.Response:
    with server.client(token) as api:
        return api.put(
            "/me/upstream-credential", json={"scheme": scheme, "value": value}
        )


def forward_auth(
    server: LiveServer,
    token: str | None,
    *,
    method: str = "GET",
    uri: str = "/rest/api/2/issue/ABC-1",
) -> httpx.Response:
    """Ask the nginx face whether `method uri` with `token` may pass."""
    headers = {"X-Original-Method": method, "X-Original-URI": uri}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"

    return httpx.get(f"{server.url}/auth/nginx", headers=headers, timeout=10)
