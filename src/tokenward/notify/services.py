"""Notification settings, the "send test" action, the outbox as administrators
see it, and the delivery run the scheduler calls (SPEC P8)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from tokenward.audit.services import Origin
from tokenward.clock import Clock
from tokenward.config import Settings
from tokenward.db import Database
from tokenward.directory.models import User
from tokenward.directory.services import find_group
from tokenward.errors import InvalidInputError, NotFoundError
from tokenward.notify import outbox
from tokenward.notify.delivery import Delivery, DeliveryReport
from tokenward.notify.documents import (
    NotificationSettings,
    NotificationSettingsIn,
    merge,
)
from tokenward.notify.errors import DeliveryError
from tokenward.notify.events import Channel, NotificationEvent
from tokenward.notify.mail import Mailer, SmtpConfig, email_message, new_message_id
from tokenward.notify.messages import render, webhook_body
from tokenward.notify.models import Notification
from tokenward.notify.webhooks import WebhookSender
from tokenward.policies.permissions import Actor, Permission, require
from tokenward.policies.stored import save_policy_document
from tokenward.upstream.crypto import CredentialCipher, UnreadableError

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class TestResult:
    """How one test message fared."""

    channel: Channel
    target: str
    delivered: bool
    error: str | None = None


class NotificationService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        cipher: CredentialCipher,
        settings: Settings,
    ) -> None:
        self._db = db
        self._clock = clock
        self._cipher = cipher
        self._smtp = SmtpConfig.from_settings(settings)
        self._webhook_timeout = settings.notify_webhook_timeout_seconds
        self._retention = dt.timedelta(days=settings.notify_retention_days)
        self.delivery = Delivery(
            db,
            clock,
            cipher,
            smtp=self._smtp,
            webhook_timeout=settings.notify_webhook_timeout_seconds,
            max_attempts=settings.notify_max_attempts,
            first_retry=dt.timedelta(seconds=settings.notify_retry_seconds),
        )

    async def get(self, actor: Actor) -> NotificationSettings:
        require(actor, Permission.ADMINISTER)

        async with self._db.read() as session:
            return await outbox.load_notification_settings(session)

    async def replace(
        self, actor: Actor, origin: Origin, document: NotificationSettingsIn
    ) -> NotificationSettings:
        """Save `document`. Webhooks it names without a secret keep their stored
        one; a new webhook needs one. E-mail can be switched on only where an SMTP
        server is configured."""
        require(actor, Permission.ADMINISTER)
        if document.email and self._smtp is None:
            raise InvalidInputError(
                "e-mail needs an SMTP server: set TOKENWARD_SMTP_HOST (and "
                "TOKENWARD_SMTP_FROM) first",
                field="email",
            )
        now = self._clock.now()

        async with self._db.write() as session:
            if document.reminder_group:
                await find_group(session, document.reminder_group)
            before = await outbox.load_notification_settings(session)
            try:
                after = merge(document, before, self._cipher)
            except ValueError as error:
                raise InvalidInputError(str(error), field="webhooks") from None
            await save_policy_document(
                session,
                outbox.NOTIFICATIONS_POLICY,
                after.stored(),
                actor=actor,
                origin=origin,
                now=now,
                details={
                    "before": before.public(),
                    "after": after.public(),
                    # Names only: which secrets were set, never their values.
                    "webhook_secrets_set": sorted(
                        w.name for w in document.webhooks if w.secret is not None
                    ),
                },
                gate_relevant=False,
            )

        return after

    async def send_test(
        self, actor: Actor, *, email: str | None = None, webhook: str | None = None
    ) -> list[TestResult]:
        """Send a test message now, bypassing the outbox, and report each result.

        With neither `email` nor `webhook`, the test goes to the actor's own
        address (if the actor has one) and to every enabled webhook.
        """
        require(actor, Permission.ADMINISTER)

        async with self._db.read() as session:
            settings = await outbox.load_notification_settings(session)
            own = (
                None
                if actor.user_id is None
                else await session.get(User, actor.user_id)
            )
        if webhook is not None and settings.webhook(webhook) is None:
            raise NotFoundError("webhook", webhook)
        addresses = [email] if email else []
        if email is None and webhook is None and own is not None and own.email:
            addresses = [own.email]
        names = [webhook] if webhook else []
        if email is None and webhook is None:
            names = [w.name for w in settings.webhooks if w.enabled]
        if not addresses and not names:
            raise InvalidInputError(
                "nothing to test: name an e-mail address or a webhook, or configure "
                "a webhook (your own account has no e-mail address)"
            )

        results = [await self._test_mail(address) for address in addresses]
        for name in names:
            results.append(await self._test_webhook(settings, name))

        return results

    async def outbox(
        self, actor: Actor, *, status: str | None, limit: int, offset: int
    ) -> tuple[Sequence[Notification], int]:
        """Notifications, newest first, optionally only `pending`, `sent` or
        `failed` ones, and how many match."""
        require(actor, Permission.ADMINISTER)
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise InvalidInputError(
                f"limit is 1-{MAX_PAGE}, offset at least 0", field="limit"
            )
        query = select(Notification)
        if status == "sent":
            query = query.where(Notification.sent_at.is_not(None))
        elif status == "failed":
            query = query.where(Notification.failed_at.is_not(None))
        elif status == "pending":
            query = query.where(
                Notification.sent_at.is_(None), Notification.failed_at.is_(None)
            )

        async with self._db.read() as session:
            total = await session.scalar(
                select(func.count()).select_from(query.subquery())
            )
            rows = await session.scalars(
                query.order_by(Notification.id.desc()).limit(limit).offset(offset)
            )

            return rows.all(), total or 0

    async def retry(self, actor: Actor, notification_id: int) -> Notification:
        """Queue a failed notification again, due now, with its attempts reset."""
        require(actor, Permission.ADMINISTER)

        async with self._db.write() as session:
            notification = await session.get(Notification, notification_id)
            if notification is None:
                raise NotFoundError("notification", str(notification_id))
            if notification.failed_at is None:
                raise InvalidInputError(
                    f"notification {notification_id} has not failed", field="id"
                )
            await outbox.retry(session, notification_id, now=self._clock.now())
            await session.refresh(notification)

            return notification

    async def deliver_due(self) -> DeliveryReport:
        """Send the notifications that are due (the scheduler's delivery job)."""
        return await self.delivery.deliver_due()

    async def purge(self) -> int:
        """Delete sent and failed notifications older than the retention."""
        return await outbox.purge(self._db, before=self._clock.now() - self._retention)

    async def _test_mail(self, address: str) -> TestResult:
        if self._smtp is None:
            return TestResult(
                Channel.EMAIL, address, False, "no SMTP server is configured"
            )
        message = email_message(
            self._smtp,
            [address],
            render(NotificationEvent.TEST, {}),
            message_id=new_message_id(self._smtp),
        )
        try:
            async with Mailer(self._smtp).connection() as connection:
                refused = await connection.send(message)
        except DeliveryError as error:
            return TestResult(Channel.EMAIL, address, False, error.message)
        if refused:
            return TestResult(Channel.EMAIL, address, False, "the server refused it")

        return TestResult(Channel.EMAIL, address, True)

    async def _test_webhook(
        self, settings: NotificationSettings, name: str
    ) -> TestResult:
        webhook = settings.webhook(name)
        assert webhook is not None  # noqa: S101 - names come from the settings
        now = self._clock.now()
        body = webhook_body(None, NotificationEvent.TEST, now, {"test": True})
        try:
            await WebhookSender(timeout=self._webhook_timeout).post(
                webhook.url,
                webhook.secret(self._cipher),
                body,
                event=NotificationEvent.TEST,
                delivery_id="test",
                timestamp=int(now.timestamp()),
            )
        except UnreadableError:
            return TestResult(
                Channel.WEBHOOK,
                name,
                False,
                "its secret does not decrypt; set it again",
            )
        except DeliveryError as error:
            return TestResult(Channel.WEBHOOK, name, False, error.message)

        return TestResult(Channel.WEBHOOK, name, True)
