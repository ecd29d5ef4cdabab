"""What notifications say: subjects, texts and the webhook JSON."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tokenward.notify.events import NotificationEvent
from tokenward.notify.messages import render, webhook_body

FACTS = {
    "token_id": "0123456789abcdef",
    "label": "jira-sync",
    "owner": "alice",
    "scope": "read-only",
    "created_at": "2026-06-01T12:00:00+00:00",
    "expires_at": "2026-06-08T12:00:00+00:00",
}


@pytest.mark.parametrize(
    ("event", "extra", "subject"),
    [
        (
            NotificationEvent.TOKEN_EXPIRING,
            {"days_left": 7, "audience": "owner"},
            "tokenward: your token 'jira-sync' expires in 7 days",
        ),
        (
            NotificationEvent.TOKEN_EXPIRING,
            {"days_left": 1, "audience": "admins"},
            "tokenward: alice's token 'jira-sync' expires in 1 day",
        ),
        (
            NotificationEvent.TOKEN_CREATED_FOR_YOU,
            {"actor": "helpdesk"},
            "tokenward: helpdesk created a token 'jira-sync' for you",
        ),
        (
            NotificationEvent.TOKEN_REVOKED_FOR_YOU,
            {"actor": "helpdesk", "reason": None},
            "tokenward: helpdesk revoked your token 'jira-sync'",
        ),
        (
            NotificationEvent.TOKEN_USED_FROM_NEW_ADDRESS,
            {"address": "192.0.2.1", "used_at": "2026-06-01T13:00:00+00:00"},
            "tokenward: your token 'jira-sync' was used from 192.0.2.1",
        ),
    ],
)
def test_each_event_has_its_subject_and_the_token_facts(
    event: NotificationEvent, extra: dict[str, object], subject: str
) -> None:
    """Every mail names the event in its subject and lists the token's id, label,
    owner, scope and expiry in its text."""
    message = render(event, {**FACTS, **extra})

    assert message.subject == subject
    for line in (
        "Token id:   0123456789abcdef",
        "Owner:      alice",
        "Expires at: 2026-06-08 12:00 UTC",
    ):
        assert line in message.text


def test_webhook_body_is_compact_sorted_json_without_the_audience() -> None:
    """The body is stable bytes (sorted keys, no spaces) and leaves out the e-mail
    audience, which means nothing to a receiver."""
    created = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)

    body = webhook_body(42, "token_expiring", created, {**FACTS, "audience": "x"})

    assert b" " not in body.replace(b"jira-sync", b"")
    document = json.loads(body)
    assert list(document) == sorted(document)
    assert document["id"] == "42"
    assert document["created_at"] == "2026-06-01T12:00:00+00:00"
    assert document["data"] == FACTS
