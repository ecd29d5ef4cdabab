"""Stable names of notification events and channels.

The values are part of the product's interface: webhook receivers switch on them
and administrators subscribe webhooks to them. Add members; never rename one.

Token requests (SPEC P7) will add `request_approved` and `request_rejected` here,
with a producer in `notify.producers` that calls `enqueue` in the transaction that
approves or rejects, and wording in `notify.messages`.
"""

from __future__ import annotations

import enum


class NotificationEvent(enum.StrEnum):
    TOKEN_EXPIRING = "token_expiring"
    TOKEN_CREATED_FOR_YOU = "token_created_for_you"
    TOKEN_REVOKED_FOR_YOU = "token_revoked_for_you"
    TOKEN_USED_FROM_NEW_ADDRESS = "token_used_from_new_address"
    # Sent by the "send test" action only, never through the outbox.
    TEST = "test"


class Channel(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class Audience(enum.StrEnum):
    """Who an e-mail is written for: the wording differs."""

    OWNER = "owner"
    ADMINS = "admins"
