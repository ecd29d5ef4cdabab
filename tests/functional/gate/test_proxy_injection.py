"""Credential injection through the reverse proxy (SPEC G6): the upstream receives
the user's stored credential in place of their tokenward token, and nothing a
client sends can put another credential or identity there."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.functional.upstream.fake_jira import FakeJira, running_jira
from tests.support import LiveProxy, Setup, start_proxy
from tokenward.clock import FrozenClock
from tokenward.config import Settings

MYSELF = "/rest/api/2/myself"


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with running_jira() as fake:
        yield fake


@pytest.fixture
def proxy(
    settings: Settings, clock: FrozenClock, jira: FakeJira
) -> Iterator[LiveProxy]:
    """The proxy in front of the fake Jira, injecting stored credentials."""
    with start_proxy(settings, clock, jira.url, gate_identity="inject") as live:
        yield live


def save_pat(proxy: LiveProxy, jira: FakeJira, token: str, username: str) -> str:
    """Store a new PAT for the owner of `token`, through tokenward's own API."""
    pat = secrets.token_urlsafe(33)
    jira.accept(f"Bearer {pat}", username)
    answer = httpx.put(
        f"{proxy.api_url}/api/v1/me/upstream-credential",
        headers={"Authorization": f"Bearer {token}"},
        json={"scheme": "bearer", "value": pat},
    )
    assert answer.status_code == 200, answer.text

    return pat


def test_the_upstream_receives_the_users_credential_not_the_token(
    proxy: LiveProxy, jira: FakeJira, setup: Setup
) -> None:
    """The stored PAT replaces the tokenward token; a credential or identity the
    client adds changes nothing."""
    alice = setup.user("alice")
    pat = save_pat(proxy, jira, alice, "alice")
    jira.seen.clear()

    answer = httpx.get(
        f"{proxy.url}{MYSELF}",
        headers={
            "Authorization": f"Bearer {alice}",
            "X-Tokenward-Authorization": "Bearer someone-elses-pat",
            "X-Tokenward-User": "admin",
        },
    )

    assert answer.status_code == 200
    assert answer.json()["name"] == "alice"
    assert jira.seen == [f"Bearer {pat}"]


def test_a_user_without_a_stored_credential_is_refused(
    proxy: LiveProxy, jira: FakeJira, setup: Setup
) -> None:
    """No stored credential: 403 upstream_credential_missing, and the upstream is
    not asked, with the token or anything else."""
    bob = setup.user("bob")
    jira.seen.clear()

    answer = httpx.get(
        f"{proxy.url}{MYSELF}", headers={"Authorization": f"Bearer {bob}"}
    )

    assert answer.status_code == 403
    assert answer.headers["x-tokenward-reason"] == "upstream_credential_missing"
    assert answer.json()["error"]["code"] == "upstream_credential_missing"
    assert jira.seen == []


def test_a_password_login_passes_through_unchanged(
    proxy: LiveProxy, jira: FakeJira, setup: Setup
) -> None:
    """With passwords allowed, Basic user:password reaches the upstream as sent,
    for it to check; no stored credential is put in its place."""
    alice = setup.user("alice")
    save_pat(proxy, jira, alice, "alice")
    basic = "Basic " + base64.b64encode(b"alice:her-jira-password").decode()
    jira.accept(basic, "alice")
    jira.seen.clear()

    answer = httpx.get(f"{proxy.url}{MYSELF}", headers={"Authorization": basic})

    assert answer.status_code == 200
    assert jira.seen == [basic]
