"""Notification settings documents: validation, write-only sealed secrets."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tokenward.instance import InstanceSecret
from tokenward.notify.documents import (
    NotificationSettings,
    NotificationSettingsIn,
    merge,
)
from tokenward.upstream.crypto import CredentialCipher, UnreadableError

CIPHER = CredentialCipher(InstanceSecret(b"i" * 32))
SECRET = "webhook-secret-" + "w" * 16


def _document(**fields: object) -> NotificationSettingsIn:
    return NotificationSettingsIn.model_validate(fields)


def test_lead_times_are_kept_longest_first() -> None:
    """Reminder days are sorted, longest lead first."""
    assert _document(reminder_days=[1, 30, 7]).reminder_days == [30, 7, 1]


@pytest.mark.parametrize(
    "fields",
    [
        {"reminder_days": [0]},
        {"reminder_days": [366]},
        {"reminder_days": [3, 3]},
        {"webhooks": [{"name": "Bad Name", "url": "https://x.test", "secret": SECRET}]},
        {"webhooks": [{"name": "a", "url": "https://u:p@x.test", "secret": SECRET}]},
        {"webhooks": [{"name": "a", "url": "https://x.test", "secret": "short"}]},
        {"webhooks": [{"name": "a", "url": "https://x.test", "events": ["nope"]}]},
        {
            "webhooks": [
                {"name": "a", "url": "https://x.test", "secret": SECRET},
                {"name": "a", "url": "https://y.test", "secret": SECRET},
            ]
        },
        {"unknown": True},
    ],
)
def test_invalid_documents_are_refused(fields: dict[str, object]) -> None:
    """Each malformed document fails validation."""
    with pytest.raises(ValidationError):
        _document(**fields)


def test_secrets_are_sealed_kept_and_never_public() -> None:
    """A secret is stored sealed, opens with the same instance secret only, is
    kept when a document omits it, and is absent from the public form."""
    hook = {"name": "siem", "url": "https://siem.test/h"}
    first = merge(
        _document(webhooks=[{**hook, "secret": SECRET}]),
        NotificationSettings(),
        CIPHER,
    )
    again = merge(_document(webhooks=[hook]), first, CIPHER)
    stored = NotificationSettings.from_stored(again.stored())

    assert stored.webhooks[0].secret(CIPHER) == SECRET
    assert SECRET not in repr(stored.stored())
    assert SECRET not in repr(stored.public())
    assert stored.public()["webhooks"][0]["secret_set"] is True
    with pytest.raises(UnreadableError):
        stored.webhooks[0].secret(CredentialCipher(InstanceSecret(b"o" * 32)))


def test_a_new_webhook_needs_a_secret() -> None:
    """A webhook with no secret given and none stored under its name is refused."""
    with pytest.raises(ValueError, match="needs a secret"):
        merge(
            _document(webhooks=[{"name": "siem", "url": "https://siem.test/h"}]),
            NotificationSettings(),
            CIPHER,
        )


def test_a_secret_is_bound_to_its_webhook_name() -> None:
    """A sealed secret copied onto another webhook's name does not open."""
    settings = merge(
        _document(webhooks=[{"name": "a", "url": "https://a.test", "secret": SECRET}]),
        NotificationSettings(),
        CIPHER,
    )
    stored = settings.stored()
    stored["webhooks"][0]["name"] = "b"

    with pytest.raises(UnreadableError):
        NotificationSettings.from_stored(stored).webhooks[0].secret(CIPHER)
