"""REST routes for notifications (administrators): settings, test, outbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tokenward.notify.documents import NotificationSettingsIn, NotificationSettingsOut
from tokenward.notify.schemas import (
    NotificationOut,
    NotificationPage,
    NotificationTestIn,
    NotificationTestOut,
    NotificationTestResultOut,
)
from tokenward.web.dependencies import Caller, RequestOrigin, Services

router = APIRouter(tags=["notifications"])


@router.get("/notifications/settings", response_model=NotificationSettingsOut)
async def get_notification_settings(
    services: Services, caller: Caller
) -> NotificationSettingsOut:
    """The notification settings; webhook secrets are never answered, only
    whether one is set."""
    settings = await services.notifications.get(caller)

    return NotificationSettingsOut.model_validate(settings.public())


@router.put("/notifications/settings", response_model=NotificationSettingsOut)
async def replace_notification_settings(
    body: NotificationSettingsIn,
    services: Services,
    caller: Caller,
    origin: RequestOrigin,
) -> NotificationSettingsOut:
    """Replace the notification settings as a whole.

    A webhook sent without `secret` keeps the secret stored under its name; a new
    webhook needs one. `email: true` is refused (422) unless this instance has an
    SMTP server configured; a `reminder_group` that does not exist is 404.
    """
    settings = await services.notifications.replace(caller, origin, body)

    return NotificationSettingsOut.model_validate(settings.public())


@router.post("/notifications/test", response_model=NotificationTestOut)
async def send_test_notification(
    body: NotificationTestIn, services: Services, caller: Caller
) -> NotificationTestOut:
    """Send a test mail and/or webhook call now and report how each fared.

    With an empty body: a mail to your own address, if you have one, and a call to
    every enabled webhook. A failed delivery is a result (`delivered: false` with
    the error), not an error answer.
    """
    results = await services.notifications.send_test(
        caller, email=body.email, webhook=body.webhook
    )

    return NotificationTestOut(
        results=[
            NotificationTestResultOut(
                channel=r.channel, target=r.target, delivered=r.delivered, error=r.error
            )
            for r in results
        ]
    )


@router.get("/notifications", response_model=NotificationPage)
async def list_notifications(
    services: Services,
    caller: Caller,
    status: Annotated[str | None, Query(pattern="^(pending|sent|failed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> NotificationPage:
    """The outbox, newest first: what was sent, what waits, what failed and why."""
    rows, total = await services.notifications.outbox(
        caller, status=status, limit=limit, offset=offset
    )

    return NotificationPage(items=[NotificationOut.of(n) for n in rows], total=total)


@router.post("/notifications/{notification_id}/retry", response_model=NotificationOut)
async def retry_notification(
    notification_id: int, services: Services, caller: Caller
) -> NotificationOut:
    """Queue a failed notification again, due now, with its attempts reset."""
    notification = await services.notifications.retry(caller, notification_id)

    return NotificationOut.of(notification)
