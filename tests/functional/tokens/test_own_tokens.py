"""A user's own tokens over HTTP: create, list, get and revoke (T5)."""

from __future__ import annotations

import datetime as dt

from tests.support import LiveServer, Setup


def test_create_returns_the_secret_once_and_uncached(
    server: LiveServer, setup: Setup
) -> None:
    """Creating a token answers 201 with its secret, marked not to be cached."""
    alice = setup.user("alice")

    with server.client(alice) as api:
        created = api.post("/tokens", json={"label": "jira", "scope": "read-only"})

    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    assert body["secret"].startswith("tw_")
    assert body["token"]["owner"] == "alice"
    assert body["token"]["creator"] == "alice"
    assert body["token"]["tier"] == "self"
    assert body["token"]["scope"] == "read-only"
    assert body["token"]["status"] == "active"


def test_created_secret_authenticates_its_owner(
    server: LiveServer, setup: Setup
) -> None:
    """The new secret is accepted and speaks for the user who created it."""
    alice = setup.user("alice")
    with server.client(alice) as api:
        secret = api.post("/tokens", json={"label": "jira"}).json()["secret"]

    with server.client(secret) as api:
        me = api.get("/me")

    assert me.status_code == 200
    assert me.json()["username"] == "alice"


def test_secret_is_never_shown_again(server: LiveServer, setup: Setup) -> None:
    """After creation no answer about the token contains its secret."""
    alice = setup.user("alice")
    with server.client(alice) as api:
        created = api.post("/tokens", json={"label": "jira"}).json()
        token_id = created["token"]["id"]
        answers = [
            api.get(f"/tokens/{token_id}"),
            api.get("/tokens"),
            api.post(f"/tokens/{token_id}/revoke"),
        ]

    assert created["secret"]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert token_id in answer.text
        assert created["secret"] not in answer.text
        assert "secret" not in answer.json()


def test_list_shows_own_tokens_only(server: LiveServer, setup: Setup) -> None:
    """The list holds the caller's tokens, newest first, and nobody else's."""
    alice = setup.user("alice")
    setup.user("bob")
    setup.issue("bob", label="bob-only")
    with server.client(alice) as api:
        api.post("/tokens", json={"label": "jira"})
        setup.clock.advance(dt.timedelta(seconds=1))
        api.post("/tokens", json={"label": "bitbucket"})
        listed = api.get("/tokens")

    assert listed.status_code == 200
    labels = [item["label"] for item in listed.json()["items"]]
    assert labels == ["bitbucket", "jira", "alice-setup"]


def test_list_filters_by_status(server: LiveServer, setup: Setup) -> None:
    """The list can be narrowed to active or revoked tokens."""
    alice = setup.user("alice")
    revoked = setup.issue("alice", label="old")
    with server.client(alice) as api:
        api.post(f"/tokens/{revoked.token.id}/revoke")
        active = api.get("/tokens", params={"status": "active"}).json()["items"]
        gone = api.get("/tokens", params={"status": "revoked"}).json()["items"]

    assert [item["label"] for item in active] == ["alice-setup"]
    assert [item["id"] for item in gone] == [revoked.token.id]


def test_get_own_token(server: LiveServer, setup: Setup) -> None:
    """One's own token can be read by id with its attributes."""
    alice = setup.user("alice")
    issued = setup.issue(
        "alice",
        label="ci",
        allowed_networks=["192.0.2.0/24"],
        header_restrictions={"X-Build": "nightly"},
    )

    with server.client(alice) as api:
        answer = api.get(f"/tokens/{issued.token.id}")

    assert answer.status_code == 200
    token = answer.json()
    assert token["id"] == issued.token.id
    assert token["label"] == "ci"
    assert token["allowed_networks"] == ["192.0.2.0/24"]
    assert token["header_restrictions"] == {"x-build": "nightly"}
    assert token["use_count"] == 0


def test_revoke_one(server: LiveServer, setup: Setup) -> None:
    """A revoked token stops working at once and records who revoked it and why."""
    alice = setup.user("alice")
    issued = setup.issue("alice", label="jira")
    assert server.accepts(issued.secret)

    with server.client(alice) as api:
        answer = api.post(
            f"/tokens/{issued.token.id}/revoke", json={"reason": "laptop lost"}
        )

    assert answer.status_code == 200, answer.text
    token = answer.json()
    assert token["status"] == "revoked"
    assert token["revoked_by"] == "alice"
    assert token["revocation_reason"] == "laptop lost"
    assert not server.accepts(issued.secret)
    assert server.accepts(alice)


def test_revoking_twice_is_harmless(server: LiveServer, setup: Setup) -> None:
    """Revoking a revoked token succeeds and keeps the first revocation's record."""
    alice = setup.user("alice")
    issued = setup.issue("alice", label="jira")
    with server.client(alice) as api:
        api.post(f"/tokens/{issued.token.id}/revoke", json={"reason": "first"})
        again = api.post(f"/tokens/{issued.token.id}/revoke", json={"reason": "2nd"})

    assert again.status_code == 200
    assert again.json()["revocation_reason"] == "first"


def test_revoke_several(server: LiveServer, setup: Setup) -> None:
    """Several named tokens are revoked together; the others keep working."""
    alice = setup.user("alice")
    first, second, kept = (setup.issue("alice", label=f"t{n}") for n in range(3))

    with server.client(alice) as api:
        answer = api.post(
            "/tokens/revoke", json={"token_ids": [first.token.id, second.token.id]}
        )

    assert answer.status_code == 200, answer.text
    assert {item["id"] for item in answer.json()["items"]} == {
        first.token.id,
        second.token.id,
    }
    assert not server.accepts(first.secret)
    assert not server.accepts(second.secret)
    assert server.accepts(kept.secret)


def test_revoke_all_of_ones_own(server: LiveServer, setup: Setup) -> None:
    """Revoking all revokes every token of the caller, the calling one too."""
    alice = setup.user("alice")
    others = [setup.issue("alice", label=f"t{n}") for n in range(2)]
    bob = setup.user("bob")

    with server.client(alice) as api:
        answer = api.post("/tokens/revoke", json={"all": True, "reason": "leaver"})

    assert answer.status_code == 200, answer.text
    assert len(answer.json()["items"]) == 3
    assert not server.accepts(alice)
    assert not any(server.accepts(issued.secret) for issued in others)
    assert server.accepts(bob)


def test_bulk_revoke_needs_exactly_one_selection(
    server: LiveServer, setup: Setup
) -> None:
    """Bulk revocation names tokens or asks for all, never both or neither."""
    alice = setup.user("alice")
    issued = setup.issue("alice", label="jira")

    with server.client(alice) as api:
        neither = api.post("/tokens/revoke", json={})
        both = api.post(
            "/tokens/revoke", json={"token_ids": [issued.token.id], "all": True}
        )

    assert neither.status_code == 422
    assert both.status_code == 422
    assert server.accepts(issued.secret)
