"""Notification settings as administrators write them and as they are stored.

They live as the policy document named "notifications". Webhook secrets are
write-only: a document sent in may carry one, a document answered never does. They
are stored sealed with the instance's credential cipher (AES-256-GCM under a key
derived from the instance secret; see `tokenward.upstream.crypto`), bound to the
webhook's name, so a database dump alone cannot forge a signature.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from tokenward.notify.events import NotificationEvent
from tokenward.schemas import Input, Output
from tokenward.upstream.crypto import CredentialCipher

DEFAULT_REMINDER_DAYS = (30, 7, 1)
MAX_REMINDER_DAYS = 365
MIN_WEBHOOK_SECRET = 16
WEBHOOK_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"
# The cipher binds a value to a user id and a scheme; webhooks belong to no user.
_NO_USER = 0


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http or https URL with a host")
    if parts.username or parts.password:
        raise ValueError(
            "must not carry a user or password; the signature is the proof"
        )

    return url


def _check_days(days: list[int]) -> list[int]:
    for value in days:
        if not 1 <= value <= MAX_REMINDER_DAYS:
            raise ValueError(f"each lead time is 1-{MAX_REMINDER_DAYS} days")
    if len(set(days)) != len(days):
        raise ValueError("lead times must be distinct")

    return sorted(days, reverse=True)


class WebhookIn(Input):
    """A webhook as an administrator sets it."""

    name: str = Field(pattern=WEBHOOK_NAME, description="Lowercase, unique.")
    url: str = Field(description="Where events are POSTed, as signed JSON.")
    secret: SecretStr | None = Field(
        default=None,
        description=(
            f"Signing secret, at least {MIN_WEBHOOK_SECRET} characters. Write-only; "
            "left out, a webhook of the same name keeps its stored secret."
        ),
    )
    events: list[NotificationEvent] = Field(
        default_factory=list, description="Events to send; empty: every event."
    )
    enabled: bool = True
    secret_set: bool | None = Field(
        default=None,
        exclude=True,
        description="Ignored: accepted so that an answer can be edited and sent back.",
    )

    _check_url = field_validator("url")(_check_url)

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value()) < MIN_WEBHOOK_SECRET:
            raise ValueError(f"must be at least {MIN_WEBHOOK_SECRET} characters")

        return secret


class NotificationSettingsIn(Input):
    """What an administrator sends to replace the notification settings."""

    email: bool = Field(
        default=False,
        description="Send e-mail; needs an SMTP server (TOKENWARD_SMTP_HOST).",
    )
    webhooks: list[WebhookIn] = Field(default_factory=list)
    reminder_days: list[int] = Field(
        default_factory=lambda: list(DEFAULT_REMINDER_DAYS),
        description="Days before expiry that a reminder is sent; empty: none.",
    )
    reminder_group: str | None = Field(
        default=None,
        description="A group whose members get a copy of every expiry reminder.",
    )
    new_address_alerts: bool = Field(
        default=False,
        description="Tell owners when a token is used from an address new to it.",
    )

    _check_days = field_validator("reminder_days")(_check_days)

    @model_validator(mode="after")
    def _distinct_names(self) -> NotificationSettingsIn:
        names = [webhook.name for webhook in self.webhooks]
        if len(set(names)) != len(names):
            raise ValueError("webhook names must be distinct")

        return self


class WebhookOut(Output):
    name: str
    url: str
    events: list[NotificationEvent]
    enabled: bool
    secret_set: bool = Field(description="Whether a secret is stored; never shown.")


class NotificationSettingsOut(Output):
    email: bool
    webhooks: list[WebhookOut]
    reminder_days: list[int]
    reminder_group: str | None
    new_address_alerts: bool


@dataclass(frozen=True, slots=True)
class Webhook:
    """A stored webhook; its secret still sealed."""

    name: str
    url: str
    events: frozenset[NotificationEvent]
    enabled: bool
    sealed_secret: bytes

    def wants(self, event: NotificationEvent) -> bool:
        return self.enabled and (not self.events or event in self.events)

    def secret(self, cipher: CredentialCipher) -> str:
        """The signing secret; `UnreadableError` under another instance secret."""
        return cipher.open(self.sealed_secret, user_id=_NO_USER, scheme=_aad(self.name))

    def stored(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "events": sorted(self.events),
            "enabled": self.enabled,
            "secret": base64.b64encode(self.sealed_secret).decode(),
        }


@dataclass(frozen=True, slots=True)
class NotificationSettings:
    """The settings in force, as producers and the delivery job read them."""

    email: bool = False
    webhooks: tuple[Webhook, ...] = ()
    reminder_days: tuple[int, ...] = DEFAULT_REMINDER_DAYS
    reminder_group: str | None = None
    new_address_alerts: bool = False

    def webhooks_for(self, event: NotificationEvent) -> list[Webhook]:
        return [webhook for webhook in self.webhooks if webhook.wants(event)]

    def webhook(self, name: str) -> Webhook | None:
        return next((w for w in self.webhooks if w.name == name), None)

    def sends(self, event: NotificationEvent) -> bool:
        """Whether any channel would carry `event`."""
        return self.email or bool(self.webhooks_for(event))

    @classmethod
    def from_stored(cls, document: dict[str, Any]) -> NotificationSettings:
        return cls(
            email=bool(document.get("email", False)),
            webhooks=tuple(
                Webhook(
                    name=item["name"],
                    url=item["url"],
                    events=frozenset(NotificationEvent(e) for e in item["events"]),
                    enabled=bool(item["enabled"]),
                    sealed_secret=base64.b64decode(item["secret"]),
                )
                for item in document.get("webhooks", [])
            ),
            reminder_days=tuple(document.get("reminder_days", DEFAULT_REMINDER_DAYS)),
            reminder_group=document.get("reminder_group"),
            new_address_alerts=bool(document.get("new_address_alerts", False)),
        )

    def stored(self) -> dict[str, Any]:
        return {**self.public(), "webhooks": [w.stored() for w in self.webhooks]}

    def as_input(self) -> NotificationSettingsIn:
        """These settings as a document to edit and send back; webhooks without
        their secrets, which they then keep."""
        return NotificationSettingsIn(
            email=self.email,
            webhooks=[
                WebhookIn(
                    name=w.name, url=w.url, events=sorted(w.events), enabled=w.enabled
                )
                for w in self.webhooks
            ],
            reminder_days=list(self.reminder_days),
            reminder_group=self.reminder_group,
            new_address_alerts=self.new_address_alerts,
        )

    def public(self) -> dict[str, Any]:
        """The settings without any secret: for answers and audit records."""
        return NotificationSettingsOut(
            email=self.email,
            webhooks=[
                WebhookOut(
                    name=w.name,
                    url=w.url,
                    events=sorted(w.events),
                    enabled=w.enabled,
                    secret_set=bool(w.sealed_secret),
                )
                for w in self.webhooks
            ],
            reminder_days=list(self.reminder_days),
            reminder_group=self.reminder_group,
            new_address_alerts=self.new_address_alerts,
        ).model_dump(mode="json")


def merge(
    document: NotificationSettingsIn,
    before: NotificationSettings,
    cipher: CredentialCipher,
) -> NotificationSettings:
    """The settings `document` asks for, with each secret sealed, or kept from the
    webhook of the same name when the document leaves it out.

    Raises ValueError naming a new webhook that has no secret.
    """
    webhooks = []
    for item in document.webhooks:
        if item.secret is not None:
            sealed = cipher.seal(
                item.secret.get_secret_value(), user_id=_NO_USER, scheme=_aad(item.name)
            )
        elif (kept := before.webhook(item.name)) is not None:
            sealed = kept.sealed_secret
        else:
            raise ValueError(f"webhook {item.name!r} is new and needs a secret")
        webhooks.append(
            Webhook(
                name=item.name,
                url=item.url,
                events=frozenset(item.events),
                enabled=item.enabled,
                sealed_secret=sealed,
            )
        )

    return NotificationSettings(
        email=document.email,
        webhooks=tuple(webhooks),
        reminder_days=tuple(document.reminder_days),
        reminder_group=document.reminder_group or None,
        new_address_alerts=document.new_address_alerts,
    )


def _aad(name: str) -> str:
    return f"webhook:{name}"
