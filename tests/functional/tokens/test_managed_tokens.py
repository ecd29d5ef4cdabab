"""The Token Manager over HTTP: tokens of other users (T5, I1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import START
from tests.support import LiveServer, Setup
from tokenward.policies.permissions import Permission


@pytest.fixture
def manager(setup: Setup) -> str:
    """A token of `manager`, a member of the group that may manage tokens."""
    token = setup.user("manager", groups=("token-managers",))
    setup.grant(Permission.MANAGE_TOKENS, groups=["token-managers"])

    return token


def _search(server: LiveServer, token: str, **params: Any) -> dict[str, Any]:
    with server.client(token) as api:
        answer = api.get("/manage/tokens", params=params)
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()

    return page


def _labels(page: dict[str, Any]) -> set[str]:
    return {item["label"] for item in page["items"]}


def test_manager_creates_a_token_for_another_user(
    server: LiveServer, setup: Setup, manager: str
) -> None:
    """A token manager creates a token that belongs to, and works for, its owner."""
    setup.user("alice")

    with server.client(manager) as api:
        created = api.post(
            "/manage/tokens", json={"owner": "alice", "label": "deploy bot"}
        )

    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    token = created.json()["token"]
    assert (token["owner"], token["creator"], token["tier"]) == (
        "alice",
        "manager",
        "manager",
    )
    with server.client(created.json()["secret"]) as api:
        assert api.get("/me").json()["username"] == "alice"


def test_manager_cannot_create_for_a_missing_user(
    server: LiveServer, manager: str
) -> None:
    """Creating a token for a user who does not exist answers 404."""
    with server.client(manager) as api:
        answer = api.post("/manage/tokens", json={"owner": "ghost", "label": "x"})

    assert answer.status_code == 404
    assert "ghost" in answer.json()["error"]["message"]


def test_manager_reads_any_token(
    server: LiveServer, setup: Setup, manager: str
) -> None:
    """A token manager can read another user's token by id."""
    setup.user("alice")
    issued = setup.issue("alice", label="jira")

    with server.client(manager) as api:
        answer = api.get(f"/manage/tokens/{issued.token.id}")

    assert answer.status_code == 200
    assert answer.json()["owner"] == "alice"
    assert issued.secret not in answer.text


def test_manager_revokes_several_tokens_of_a_user(
    server: LiveServer, setup: Setup, manager: str
) -> None:
    """A token manager revokes named tokens of other users; the rest keep working."""
    setup.user("alice")
    setup.user("bob")
    first = setup.issue("alice", label="a1")
    second = setup.issue("bob", label="b1")
    kept = setup.issue("alice", label="a2")

    with server.client(manager) as api:
        answer = api.post(
            "/manage/tokens/revoke",
            json={"token_ids": [first.token.id, second.token.id], "reason": "audit"},
        )

    assert answer.status_code == 200, answer.text
    assert {item["revoked_by"] for item in answer.json()["items"]} == {"manager"}
    assert not server.accepts(first.secret)
    assert not server.accepts(second.secret)
    assert server.accepts(kept.secret)


def test_manager_revokes_all_tokens_of_a_user(
    server: LiveServer, setup: Setup, manager: str
) -> None:
    """Revoking all of a user's tokens stops each of them and nobody else's."""
    alice = setup.user("alice")
    extra = setup.issue("alice", label="extra")
    bob = setup.user("bob")

    with server.client(manager) as api:
        answer = api.post(
            "/manage/tokens/revoke", json={"owner": "alice", "reason": "leaver"}
        )

    assert answer.status_code == 200, answer.text
    assert {item["owner"] for item in answer.json()["items"]} == {"alice"}
    assert len(answer.json()["items"]) == 2
    assert not server.accepts(alice)
    assert not server.accepts(extra.secret)
    assert server.accepts(bob)
    assert server.accepts(manager)


def test_search_by_several_users(
    server: LiveServer, setup: Setup, manager: str
) -> None:
    """Naming several users finds the tokens of exactly those users."""
    for name in ("alice", "bob", "carol"):
        setup.user(name)

    page = _search(server, manager, user=["alice", "carol"])

    assert {item["owner"] for item in page["items"]} == {"alice", "carol"}
    assert page["total"] == 2


def test_search_by_label_substring(
    server: LiveServer, setup: Setup, manager: str
) -> None:
    """A label search matches a substring, ignoring case, taking wildcards literally."""
    setup.user("alice")
    labels = ["Jira sync", "old jira", "100% done", "1000 done", "a_b", "axb"]
    for label in [*labels, "back\\slash", "backslash"]:
        setup.issue("alice", label=label)

    found = {
        search: _labels(_search(server, manager, label=search))
        for search in ("JIRA", "100%", "a_b", "back\\slash", "zzz")
    }

    assert found == {
        "JIRA": {"Jira sync", "old jira"},
        "100%": {"100% done"},
        "a_b": {"a_b"},
        "back\\slash": {"back\\slash"},
        "zzz": set(),
    }


def test_search_by_status(
    server: LiveServer, setup: Setup, manager: str, clock: Any
) -> None:
    """Status narrows the search to active, expired or revoked tokens."""
    setup.user("alice")
    revoked = setup.issue("alice", label="revoked")
    setup.issue("alice", label="short", expires_in_days=1)
    with server.client(manager) as api:
        api.post("/manage/tokens/revoke", json={"token_ids": [revoked.token.id]})
    clock.advance(dt.timedelta(days=2))

    found = {
        status: _labels(_search(server, manager, user="alice", status=status))
        for status in ("active", "expired", "revoked")
    }

    assert found == {
        "active": {"alice-setup"},
        "expired": {"short"},
        "revoked": {"revoked"},
    }


def test_search_by_scope(server: LiveServer, setup: Setup, manager: str) -> None:
    """Scope narrows the search to read-only or read-write tokens."""
    setup.user("alice")
    setup.issue("alice", label="reader", scope="read-only")

    readers = _search(server, manager, user="alice", scope="read-only")
    writers = _search(server, manager, user="alice", scope="read-write")

    assert _labels(readers) == {"reader"}
    assert _labels(writers) == {"alice-setup"}


def test_search_by_expiry_window(
    server: LiveServer, setup: Setup, manager: str
) -> None:
    """An expiry window finds the tokens that expire inside it, bounds as documented."""
    setup.user("alice")
    for days in (5, 10, 20):
        setup.issue("alice", label=f"{days} days", expires_in_days=days)
    setup.issue("alice", label="forever", never_expires=True)

    page = _search(
        server,
        manager,
        user="alice",
        expires_after=(START + dt.timedelta(days=5)).isoformat(),
        expires_before=(START + dt.timedelta(days=20)).isoformat(),
    )

    assert _labels(page) == {"10 days", "20 days"}


def test_search_refuses_a_naive_expiry_bound(server: LiveServer, manager: str) -> None:
    """An expiry bound without a time zone is refused with 422, not guessed."""
    with server.client(manager) as api:
        answer = api.get(
            "/manage/tokens", params={"expires_before": "2026-07-01T00:00:00"}
        )

    assert answer.status_code == 422, answer.text
    assert "expires_before" in answer.json()["error"]["message"]


def test_search_pages_through_results(
    server: LiveServer, setup: Setup, manager: str
) -> None:
    """Pages of `limit` from `offset` cover every match once, with the total."""
    setup.user("alice")
    for number in range(6):
        setup.issue("alice", label=f"t{number}")

    pages = [
        _search(server, manager, user="alice", limit=3, offset=offset)
        for offset in (0, 3, 6)
    ]

    assert [page["total"] for page in pages] == [7, 7, 7]
    assert [len(page["items"]) for page in pages] == [3, 3, 1]
    assert [(page["limit"], page["offset"]) for page in pages] == [
        (3, 0),
        (3, 3),
        (3, 6),
    ]
    ids = [item["id"] for page in pages for item in page["items"]]
    assert len(set(ids)) == 7


def test_search_refuses_bad_paging_and_status(server: LiveServer, manager: str) -> None:
    """Out-of-range paging and unknown statuses answer 422."""
    bad: list[dict[str, Any]] = [
        {"limit": 0},
        {"limit": 501},
        {"offset": -1},
        {"status": "gone"},
    ]
    with server.client(manager) as api:
        answers = [api.get("/manage/tokens", params=params) for params in bad]

    assert [answer.status_code for answer in answers] == [422] * len(bad)
    assert {answer.json()["error"]["code"] for answer in answers} == {"invalid_input"}
