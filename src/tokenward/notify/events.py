"""Stable names of notification events and channels.

The values are part of the product's interface: webhook receivers switch on them
and administrators subscribe webhooks to them. Add members; never rename one.

Token requests (SPEC P7) add `request_approved` and `request_rejected`, queued by
`notify.producers.token_request_decided` in the transaction that decides.
"""

from __future__ import annotations

import enum


class NotificationEvent(enum.StrEnum):
    TOKEN_EXPIRING = "token_expiring"
    TOKEN_CREATED_FOR_YOU = "token_created_for_you"
    TOKEN_REVOKED_FOR_YOU = "token_revoked_for_you"
    TOKEN_USED_FROM_NEW_ADDRESS = "token_used_from_new_address"
    REQUEST_APPROVED = "request_approved"
    REQUEST_REJECTED = "request_rejected"
    # Sent by the "send test" action only, never through the outbox.
    TEST = "test"


class Channel(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class Audience(enum.StrEnum):
    """Who an e-mail is written for: the wording differs."""

    OWNER = "owner"
    ADMINS = "admins"
