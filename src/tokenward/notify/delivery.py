"""The delivery job: send what the outbox holds, retry with backoff, give up after
a bounded number of attempts.

Each run claims a batch of due rows (see `notify.outbox.claim`), sends them one by
one over one SMTP connection, and records each outcome as soon as it is known, so a
crash repeats at most the one message in flight.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.logs import get_logger
from tokenward.notify import outbox
from tokenward.notify.documents import NotificationSettings
from tokenward.notify.errors import DeliveryError
from tokenward.notify.events import Channel
from tokenward.notify.mail import (
    MailConnection,
    Mailer,
    SmtpConfig,
    email_message,
    new_message_id,
)
from tokenward.notify.messages import render, webhook_body
from tokenward.notify.models import Notification
from tokenward.notify.webhooks import WebhookSender
from tokenward.upstream.crypto import CredentialCipher, UnreadableError

log = get_logger(__name__)


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {"sent": self.sent, "retrying": self.retrying, "failed": self.failed}


class Delivery:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        cipher: CredentialCipher,
        *,
        smtp: SmtpConfig | None,
        webhook_timeout: float,
        max_attempts: int,
        first_retry: dt.timedelta,
        batch: int = 50,
    ) -> None:
        self._db = db
        self._clock = clock
        self._cipher = cipher
        self._mailer = Mailer(smtp) if smtp else None
        self._webhooks = WebhookSender(timeout=webhook_timeout)
        self._max_attempts = max_attempts
        self._first_retry = first_retry
        self._batch = batch
        # Long enough for a whole batch to time out one by one.
        per_message = max(webhook_timeout, smtp.timeout if smtp else 0) + 5
        self._hold = dt.timedelta(seconds=per_message * batch)

    async def deliver_due(self, *, max_batches: int = 20) -> DeliveryReport:
        """Send the due notifications, a batch at a time, until none is left (or
        `max_batches` were sent, leaving the rest to the next run)."""
        report = DeliveryReport()
        for _ in range(max_batches):
            claim_id = secrets.token_hex(8)
            claimed = await outbox.claim(
                self._db,
                claim_id,
                now=self._clock.now(),
                limit=self._batch,
                hold=self._hold,
            )
            if not claimed:
                break
            async with self._db.read() as session:
                settings = await outbox.load_notification_settings(session)
            await self._send_batch(claimed, claim_id, settings, report)
            if len(claimed) < self._batch:
                break

        return report

    async def _send_batch(
        self,
        claimed: list[Notification],
        claim_id: str,
        settings: NotificationSettings,
        report: DeliveryReport,
    ) -> None:
        if self._mailer is None:
            await self._send_each(claimed, claim_id, settings, None, report)
            return
        async with self._mailer.connection() as mail:
            await self._send_each(claimed, claim_id, settings, mail, report)

    async def _send_each(
        self,
        claimed: list[Notification],
        claim_id: str,
        settings: NotificationSettings,
        mail: MailConnection | None,
        report: DeliveryReport,
    ) -> None:
        for notification in claimed:
            try:
                await self._send(notification, settings, mail)
            except DeliveryError as error:
                await self._failed(notification, claim_id, error, report)
            except Exception as error:  # a bug must not stall the outbox
                log.exception("notification_error", notification_id=notification.id)
                unexpected = DeliveryError(f"{type(error).__name__}: {error}")
                await self._failed(notification, claim_id, unexpected, report)
            else:
                await outbox.mark_sent(
                    self._db, notification, claim_id, now=self._clock.now()
                )
                report.sent += 1
                log.info(
                    "notification_sent",
                    notification_id=notification.id,
                    notification_event=notification.event,
                    channel=notification.channel,
                    target=notification.target,
                    attempts=notification.attempts + 1,
                )

    async def _send(
        self,
        notification: Notification,
        settings: NotificationSettings,
        mail: MailConnection | None,
    ) -> None:
        if notification.channel == Channel.EMAIL:
            await self._send_mail(notification, settings, mail)
        else:
            await self._send_webhook(notification, settings)

    async def _send_mail(
        self,
        notification: Notification,
        settings: NotificationSettings,
        mail: MailConnection | None,
    ) -> None:
        if mail is None or self._mailer is None:
            raise DeliveryError(
                "no SMTP server is configured (TOKENWARD_SMTP_HOST)", permanent=True
            )
        if not settings.email:
            raise DeliveryError("e-mail notifications are switched off", permanent=True)
        config = self._mailer.config
        message = email_message(
            config,
            list(notification.recipients),
            render(notification.event, notification.payload),
            message_id=new_message_id(config),
        )
        refused = await mail.send(message)
        if refused:
            log.warning(
                "notification_recipients_refused",
                notification_id=notification.id,
                refused=len(refused),
                recipients=len(notification.recipients),
            )

    async def _send_webhook(
        self, notification: Notification, settings: NotificationSettings
    ) -> None:
        webhook = settings.webhook(notification.target)
        if webhook is None or not webhook.enabled:
            raise DeliveryError(
                f"webhook {notification.target!r} is no longer configured or enabled",
                permanent=True,
            )
        try:
            secret = webhook.secret(self._cipher)
        except UnreadableError:
            raise DeliveryError(
                f"the secret of webhook {webhook.name!r} does not decrypt with this "
                "instance secret; set it again",
                permanent=True,
            ) from None
        body = webhook_body(
            notification.id,
            notification.event,
            notification.created_at,
            notification.payload,
        )
        await self._webhooks.post(
            webhook.url,
            secret,
            body,
            event=notification.event,
            delivery_id=str(notification.id),
            timestamp=int(self._clock.now().timestamp()),
        )

    async def _failed(
        self,
        notification: Notification,
        claim_id: str,
        error: DeliveryError,
        report: DeliveryReport,
    ) -> None:
        give_up = error.permanent or notification.attempts + 1 >= self._max_attempts
        next_at = await outbox.mark_failed_attempt(
            self._db,
            notification,
            claim_id,
            now=self._clock.now(),
            error=error.message,
            give_up=give_up,
            first_delay=self._first_retry,
        )
        fields = {
            "notification_id": notification.id,
            "notification_event": notification.event,
            "channel": notification.channel,
            "target": notification.target,
            "attempts": notification.attempts + 1,
            "error": error.message,
        }
        report.errors.append(error.message)
        if next_at is None:
            report.failed += 1
            log.error("notification_failed", **fields)
        else:
            report.retrying += 1
            log.warning(
                "notification_retry", next_attempt_at=next_at.isoformat(), **fields
            )
