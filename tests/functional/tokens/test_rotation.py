"""Rotating a token: a new secret with the same attributes (T5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.support import LiveServer, Setup
from tokenward.clock import FrozenClock


def _rotate(
    server: LiveServer, token: str, token_id: str, **body: Any
) -> dict[str, Any]:
    with server.client(token) as api:
        answer = api.post(f"/tokens/{token_id}/rotate", json=body or None)
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    issued: dict[str, Any] = answer.json()

    return issued


def test_rotation_without_grace_stops_the_old_secret_at_once(
    server: LiveServer, setup: Setup
) -> None:
    """Without grace the old secret is refused at once and the new one works."""
    alice = setup.user("alice")
    old = setup.issue("alice", label="jira")

    new = _rotate(server, alice, old.token.id)

    assert new["secret"] != old.secret
    assert not server.accepts(old.secret)
    assert server.accepts(new["secret"])


def test_rotation_keeps_the_attributes(server: LiveServer, setup: Setup) -> None:
    """The new token has the old one's owner, label, scope, ranges and expiry."""
    alice = setup.user("alice")
    old = setup.issue(
        "alice",
        label="ci",
        scope="read-only",
        expires_in_days=30,
        allowed_networks=["192.0.2.0/24", "2001:db8::/32"],
        header_restrictions={"X-Build": "1"},
        rate_limit_per_minute=60,
    )

    new = _rotate(server, alice, old.token.id)["token"]
    with server.client(alice) as api:
        before = api.get(f"/tokens/{old.token.id}").json()

    kept = (
        "owner",
        "label",
        "scope",
        "tier",
        "expires_at",
        "allowed_networks",
        "header_restrictions",
        "rate_limit_per_minute",
    )
    assert {name: new[name] for name in kept} == {name: before[name] for name in kept}
    assert new["id"] != old.token.id
    assert new["rotated_from_id"] == old.token.id
    assert before["rotated_to_id"] == new["id"]
    assert before["status"] == "revoked"
    assert before["revocation_reason"] == "rotated"


def test_rotation_with_grace_keeps_the_old_secret_until_it_ends(
    server: LiveServer, setup: Setup, clock: FrozenClock
) -> None:
    """With grace both secrets work until the grace period ends; then only the new."""
    alice = setup.user("alice")
    old = setup.issue("alice", label="jira")

    new = _rotate(server, alice, old.token.id, grace_seconds=3600)

    assert server.accepts(old.secret)
    assert server.accepts(new["secret"])
    clock.advance(dt.timedelta(seconds=3599))
    assert server.accepts(old.secret)
    clock.advance(dt.timedelta(seconds=1))
    assert not server.accepts(old.secret)
    assert server.accepts(new["secret"])
    with server.client(new["secret"]) as api:
        assert api.get(f"/tokens/{old.token.id}").json()["status"] == "expired"


def test_grace_never_extends_the_old_expiry(
    server: LiveServer, setup: Setup, clock: FrozenClock
) -> None:
    """A grace period longer than the old token's remaining life does not extend it."""
    alice = setup.user("alice")
    old = setup.issue("alice", label="jira", expires_in_days=1)

    _rotate(server, alice, old.token.id, grace_seconds=7 * 24 * 3600)
    clock.advance(dt.timedelta(days=1))

    assert not server.accepts(old.secret)


def test_rotating_a_revoked_token_is_refused(server: LiveServer, setup: Setup) -> None:
    """Only an active token can be rotated; a revoked one answers 422."""
    alice = setup.user("alice")
    old = setup.issue("alice", label="jira")
    with server.client(alice) as api:
        api.post(f"/tokens/{old.token.id}/revoke")
        answer = api.post(f"/tokens/{old.token.id}/rotate")

    assert answer.status_code == 422
    assert "revoked" in answer.json()["error"]["message"]


def test_grace_beyond_the_maximum_is_refused(server: LiveServer, setup: Setup) -> None:
    """A grace period past the maximum answers 422 and leaves the token alone."""
    alice = setup.user("alice")
    old = setup.issue("alice", label="jira")

    with server.client(alice) as api:
        answer = api.post(
            f"/tokens/{old.token.id}/rotate", json={"grace_seconds": 31 * 24 * 3600}
        )

    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "grace_seconds"
    assert server.accepts(old.secret)
