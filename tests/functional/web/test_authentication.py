"""Authenticating callers of the API by a tokenward token (G1, G7)."""

from __future__ import annotations

import base64

import httpx

from tests.support import LiveServer, Setup
from tokenward.tokens.format import generate

# Headers that carry no well-formed token (the last but one is a password login).
MALFORMED = [
    None,
    "",
    "Bearer",
    "Bearer not-a-token",
    "Bearer tw_short",
    "Basic !!!",
    "Basic " + base64.b64encode(b"no colon here").decode(),
    "Basic " + base64.b64encode(b"alice:password123").decode(),
    "Digest username=alice",
]


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _me(server: LiveServer, authorization: str | None) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    with server.client() as api:
        return api.get("/me", headers=headers)


def _assert_unauthenticated(answer: httpx.Response) -> None:
    assert answer.status_code == 401, answer.text
    assert "Bearer" in answer.headers["WWW-Authenticate"]
    assert answer.json()["error"]["code"] == "unauthenticated"


def test_bearer_token_is_accepted(server: LiveServer, setup: Setup) -> None:
    """A valid token as a Bearer credential identifies its owner."""
    alice = setup.user("alice")

    answer = _me(server, f"Bearer {alice}")

    assert answer.status_code == 200
    assert answer.json()["username"] == "alice"


def test_basic_with_the_owners_username_is_accepted(
    server: LiveServer, setup: Setup
) -> None:
    """A valid token as the password of Basic, with its owner's name, is accepted."""
    alice = setup.user("alice")

    answer = _me(server, _basic("alice", alice))

    assert answer.status_code == 200
    assert answer.json()["username"] == "alice"


def test_basic_with_another_username_is_refused(
    server: LiveServer, setup: Setup
) -> None:
    """A valid token presented under another user's name is refused."""
    alice = setup.user("alice")
    setup.user("bob")

    _assert_unauthenticated(_me(server, _basic("bob", alice)))
    _assert_unauthenticated(_me(server, _basic("", alice)))


def test_missing_or_malformed_credentials_are_refused(
    server: LiveServer, setup: Setup
) -> None:
    """No credential, or one that is not a well-formed token, answers 401."""
    setup.user("alice")

    for authorization in MALFORMED:
        _assert_unauthenticated(_me(server, authorization))


def test_unknown_token_is_refused(server: LiveServer, setup: Setup) -> None:
    """A well-formed token that was never issued answers 401."""
    setup.user("alice")

    _assert_unauthenticated(_me(server, f"Bearer {generate('tw')}"))


def test_token_of_another_prefix_is_refused(server: LiveServer, setup: Setup) -> None:
    """A well-formed token with another instance's prefix answers 401."""
    setup.user("alice")

    _assert_unauthenticated(_me(server, f"Bearer {generate('xy')}"))


def test_token_in_the_url_is_never_accepted(server: LiveServer, setup: Setup) -> None:
    """A token passed in the query string instead of a header is ignored."""
    alice = setup.user("alice")

    with server.client() as api:
        answers = [
            api.get("/me", params={name: alice})
            for name in ("token", "access_token", "api_key")
        ]

    for answer in answers:
        _assert_unauthenticated(answer)


def test_every_refusal_reads_the_same(server: LiveServer, setup: Setup) -> None:
    """Unknown, revoked and misnamed tokens get the same answer, revealing nothing."""
    alice = setup.user("alice")
    revoked = setup.issue("alice", label="old")
    with server.client(alice) as api:
        api.post(f"/tokens/{revoked.token.id}/revoke")

    answers = [
        _me(server, f"Bearer {generate('tw')}"),
        _me(server, f"Bearer {revoked.secret}"),
        _me(server, _basic("mallory", alice)),
    ]

    assert len({answer.text for answer in answers}) == 1
    assert len({answer.headers["WWW-Authenticate"] for answer in answers}) == 1
