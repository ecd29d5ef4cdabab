"""Bad input is refused with 422 and a clear message (I2)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.conftest import START
from tests.support import LiveServer, Setup

PAST = (START - dt.timedelta(minutes=1)).isoformat()
FUTURE = (START + dt.timedelta(days=3)).isoformat()

# Each bad body, the field the answer must name and words its message must hold.
BAD_BODIES: list[tuple[dict[str, Any], str, str]] = [
    ({"label": "jira", "colour": "red"}, "colour", "not permitted"),
    ({"label": "jira", "scope": "admin"}, "scope", "read-only"),
    (
        {"label": "jira", "allowed_networks": ["10.0.0.1/8"]},
        "allowed_networks",
        "host bits",
    ),
    (
        {"label": "jira", "allowed_networks": ["intranet"]},
        "allowed_networks",
        "'intranet' is not an IP range",
    ),
    ({"label": "jira", "expires_at": PAST}, "expires_at", "future"),
    (
        {"label": "jira", "expires_at": FUTURE, "expires_in_days": 3},
        "expires_at",
        "at most one",
    ),
    (
        {"label": "jira", "expires_in_days": 3, "never_expires": True},
        "expires_at",
        "at most one",
    ),
    (
        {"label": "jira", "expires_at": "2027-01-01T00:00:00"},
        "expires_at",
        "time zone",
    ),
    ({"label": ""}, "label", "at least 1"),
    ({"label": "   "}, "label", "at least 1"),
    ({}, "label", "required"),
    ({"label": "jira", "expires_in_days": 0}, "expires_in_days", "1"),
    (
        {"label": "jira", "header_restrictions": {"Authorization": "x"}},
        "header_restrictions",
        "Authorization",
    ),
]


def test_bad_creation_is_refused(server: LiveServer, setup: Setup) -> None:
    """Each kind of bad input answers 422 naming the problem, and creates nothing."""
    alice = setup.user("alice")

    with server.client(alice) as api:
        answers = [api.post("/tokens", json=body) for body, _, _ in BAD_BODIES]
        listed = api.get("/tokens").json()["items"]

    for (body, field, words), answer in zip(BAD_BODIES, answers, strict=True):
        assert answer.status_code == 422, (body, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "invalid_input", body
        assert words in error["message"], (body, error)
        assert field in str(error), (body, error)
    assert len(listed) == 1


def test_unknown_field_is_named(server: LiveServer, setup: Setup) -> None:
    """An unknown field is refused by name rather than silently ignored."""
    alice = setup.user("alice")

    with server.client(alice) as api:
        answer = api.post("/tokens", json={"label": "jira", "owner": "bob"})

    assert answer.status_code == 422
    assert answer.json()["error"]["problems"][0]["field"] == "owner"


def test_body_that_is_not_json_is_refused(server: LiveServer, setup: Setup) -> None:
    """A body that is not JSON answers 422, not 500."""
    alice = setup.user("alice")

    with server.client(alice) as api:
        answer = api.post(
            "/tokens",
            content=b"label=jira",
            headers={"Content-Type": "application/json"},
        )

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_input"
