"""What the requester is told when a token request is approved or rejected."""

from __future__ import annotations

from tokenward.notify.events import NotificationEvent
from tokenward.notify.messages import render

FACTS = {
    "request_id": "3f9c0a1b2d4e5f60",
    "label": "jira-sync",
    "requester": "alice",
    "decided_by": "ann",
    "audience": "owner",
}


def test_approval_says_what_and_until_when() -> None:
    """The approval names the approved attributes, the deadline to generate the
    token and the call that does it."""
    message = render(
        NotificationEvent.REQUEST_APPROVED,
        {
            **FACTS,
            "reason": "read-only is enough",
            "scope": "read-only",
            "lifetime_days": 30,
            "allowed_networks": ["10.20.0.0/16"],
            "generate_before": "2026-06-15T12:00:00+00:00",
        },
    )

    assert message.subject == "tokenward: your token request 'jira-sync' was approved"
    for words in (
        "ann approved",
        "Note: read-only is enough",
        "Scope:      read-only",
        "Lifetime:   30 days",
        "Networks:   10.20.0.0/16",
        "before 2026-06-15 12:00 UTC",
        "POST /api/v1/requests/3f9c0a1b2d4e5f60/token",
    ):
        assert words in message.text


def test_approval_of_a_token_that_never_expires() -> None:
    """No lifetime reads "never expires", no ranges "any allowed", no note none."""
    message = render(
        NotificationEvent.REQUEST_APPROVED,
        {
            **FACTS,
            "reason": None,
            "scope": "read-write",
            "lifetime_days": None,
            "allowed_networks": [],
            "generate_before": "2026-06-15T12:00:00+00:00",
        },
    )

    assert "Lifetime:   never expires" in message.text
    assert "Networks:   any allowed" in message.text
    assert "Note:" not in message.text


def test_rejection_gives_the_reason() -> None:
    """The rejection names who rejected and why."""
    message = render(
        NotificationEvent.REQUEST_REJECTED,
        {**FACTS, "reason": "use the team's service account"},
    )

    assert message.subject == "tokenward: your token request 'jira-sync' was rejected"
    assert "ann rejected your token request 'jira-sync': use the team's" in (
        message.text
    )
