"""Tokens expire at the set time (T5)."""

from __future__ import annotations

import datetime as dt

from tests.support import LiveServer, Setup
from tokenward.clock import FrozenClock


def test_token_stops_at_its_expiry(
    server: LiveServer, setup: Setup, clock: FrozenClock
) -> None:
    """A token works until its expiry, then answers 401 and shows as expired."""
    alice = setup.user("alice")
    with server.client(alice) as api:
        created = api.post("/tokens", json={"label": "jira", "expires_in_days": 1})
    assert created.status_code == 201, created.text
    short = created.json()

    clock.advance(dt.timedelta(days=1) - dt.timedelta(seconds=1))
    assert server.accepts(short["secret"])
    clock.advance(dt.timedelta(seconds=1))

    with server.client(short["secret"]) as api:
        refused = api.get("/me")
    assert refused.status_code == 401
    assert "WWW-Authenticate" in refused.headers
    with server.client(alice) as api:
        shown = api.get(f"/tokens/{short['token']['id']}").json()
    assert shown["status"] == "expired"


def test_expires_at_is_honoured(
    server: LiveServer, setup: Setup, clock: FrozenClock
) -> None:
    """A token created with expires_at stops at that moment."""
    alice = setup.user("alice")
    moment = clock.now() + dt.timedelta(hours=5)
    with server.client(alice) as api:
        created = api.post(
            "/tokens", json={"label": "jira", "expires_at": moment.isoformat()}
        )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]

    assert created.json()["token"]["expires_at"].startswith("2026-06-01T17:00:00")
    clock.set(moment)
    assert not server.accepts(secret)


def test_default_lifetime_applies(
    server: LiveServer, setup: Setup, clock: FrozenClock
) -> None:
    """Without an expiry the token lives the configured default lifetime."""
    alice = setup.user("alice")
    with server.client(alice) as api:
        created = api.post("/tokens", json={"label": "jira"}).json()
    lifetime = dt.timedelta(days=setup.settings.default_token_lifetime_days)

    clock.advance(lifetime - dt.timedelta(seconds=1))
    assert server.accepts(created["secret"])
    clock.advance(dt.timedelta(seconds=1))
    assert not server.accepts(created["secret"])


def test_never_expiring_token_keeps_working(
    server: LiveServer, setup: Setup, clock: FrozenClock
) -> None:
    """A token created to never expire has no expiry and still works years later."""
    alice = setup.user("alice")
    with server.client(alice) as api:
        created = api.post("/tokens", json={"label": "jira", "never_expires": True})
    assert created.json()["token"]["expires_at"] is None

    clock.advance(dt.timedelta(days=3650))

    assert server.accepts(created.json()["secret"])
