"""REST schemas of notifications; the settings documents are in `notify.documents`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from tokenward.notify.events import Channel
from tokenward.notify.models import Notification
from tokenward.schemas import Input, Output


class NotificationTestIn(Input):
    email: str | None = Field(
        default=None, description="Send a test mail to this address.", max_length=320
    )
    webhook: str | None = Field(
        default=None, description="Call this webhook (by name) with a test event."
    )


class NotificationTestResultOut(Output):
    channel: Channel
    target: str = Field(description="The address, or the webhook's name.")
    delivered: bool
    error: str | None


class NotificationTestOut(Output):
    results: list[NotificationTestResultOut]


class NotificationOut(Output):
    id: int
    event: str
    channel: str
    target: str
    recipients: list[str]
    payload: dict[str, Any]
    status: str = Field(description="pending, sent or failed.")
    created_at: dt.datetime
    attempts: int
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None
    failed_at: dt.datetime | None
    last_error: str | None

    @classmethod
    def of(cls, notification: Notification) -> NotificationOut:
        pending = notification.status == "pending"

        return cls(
            id=notification.id,
            event=notification.event,
            channel=notification.channel,
            target=notification.target,
            recipients=list(notification.recipients),
            payload=dict(notification.payload),
            status=notification.status,
            created_at=notification.created_at,
            attempts=notification.attempts,
            next_attempt_at=notification.next_attempt_at if pending else None,
            sent_at=notification.sent_at,
            failed_at=notification.failed_at,
            last_error=notification.last_error,
        )


class NotificationPage(Output):
    items: list[NotificationOut]
    total: int
