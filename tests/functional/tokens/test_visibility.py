"""Someone else's token is answered exactly like a token that does not exist."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import LiveServer, Setup

MISSING_ID = "0000000000000000"


def _call(api: httpx.Client, action: str, token_id: str) -> httpx.Response:
    if action == "get":
        return api.get(f"/tokens/{token_id}")
    if action == "bulk revoke":
        return api.post("/tokens/revoke", json={"token_ids": [token_id]})

    return api.post(f"/tokens/{token_id}/{action}")


def _without_id(body: Any, token_id: str) -> str:
    return str(body).replace(token_id, "<id>")


def test_someone_elses_token_is_not_found(server: LiveServer, setup: Setup) -> None:
    """Another user's token answers 404 with the body of a token that never existed."""
    alice = setup.user("alice")
    setup.user("bob")
    bobs = setup.issue("bob", label="bob's")

    for action in ("get", "revoke", "rotate", "bulk revoke"):
        with server.client(alice) as api:
            foreign = _call(api, action, bobs.token.id)
            missing = _call(api, action, MISSING_ID)

        assert foreign.status_code == missing.status_code == 404, action
        assert _without_id(foreign.json(), bobs.token.id) == _without_id(
            missing.json(), MISSING_ID
        ), action
        assert foreign.headers["content-type"] == missing.headers["content-type"]
    assert server.accepts(bobs.secret)


def test_not_found_names_no_owner(server: LiveServer, setup: Setup) -> None:
    """The 404 for another user's token does not mention that user."""
    alice = setup.user("alice")
    setup.user("bob")
    bobs = setup.issue("bob", label="bob's")

    with server.client(alice) as api:
        answer = api.get(f"/tokens/{bobs.token.id}")

    assert answer.json()["error"]["code"] == "not_found"
    assert "bob" not in answer.text


def test_bulk_revoke_with_a_foreign_id_revokes_nothing(
    server: LiveServer, setup: Setup
) -> None:
    """A bulk revocation naming another user's token fails whole: none is revoked."""
    alice = setup.user("alice")
    own = setup.issue("alice", label="own")
    setup.user("bob")
    bobs = setup.issue("bob", label="bob's")

    with server.client(alice) as api:
        answer = api.post(
            "/tokens/revoke", json={"token_ids": [own.token.id, bobs.token.id]}
        )

    assert answer.status_code == 404
    assert server.accepts(own.secret)
    assert server.accepts(bobs.secret)
